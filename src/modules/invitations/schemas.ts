import { Type } from '@sinclair/typebox';
import {
  DateTime,
  Email,
  ListOf,
  Nullable,
  PasswordInput,
  StrictObject,
  Timestamps,
  Uuid,
} from '../../platform/http/schemas.js';

/** 1 hour to 30 days, in seconds; 7 days when absent. */
export const MIN_EXPIRES_IN = 3600;
export const MAX_EXPIRES_IN = 30 * 86_400;
export const DEFAULT_EXPIRES_IN = 7 * 86_400;

export const InvitationStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('accepted'),
  Type.Literal('revoked'),
  Type.Literal('expired'),
]);

export const InvitationCreate = StrictObject({
  email: Email,
  role_ids: Type.Optional(Type.Array(Uuid, { maxItems: 20, uniqueItems: true })),
  /** Seconds the link stays valid. */
  expires_in: Type.Optional(Type.Integer({ minimum: MIN_EXPIRES_IN, maximum: MAX_EXPIRES_IN })),
});

export const InvitationRead = Type.Object({
  id: Uuid,
  email: Type.String(),
  role_ids: Type.Array(Uuid),
  expires_at: DateTime,
  status: InvitationStatus,
  invited_by: Nullable(Type.Integer()),
  accepted_at: Nullable(DateTime),
  accepted_user_id: Nullable(Type.Integer()),
  revoked_at: Nullable(DateTime),
  ...Timestamps,
});

export const InvitationListQuery = Type.Object({
  status: Type.Optional(InvitationStatus),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  /** Keyset pagination: the previous page's `next_cursor` (opaque to clients). */
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$' })),
});
export const InvitationList = ListOf('invitations', InvitationRead, {
  /** The `cursor` of the next page; null on the last page. */
  next_cursor: Nullable(Type.String()),
});

const InvitationToken = Type.String({ minLength: 1, maxLength: 200 });
export const TokenParams = Type.Object({ token: InvitationToken });
export const InvitationPreview = Type.Object({
  email: Type.String(),
  tenant_name: Type.String(),
  /** The address's domain routes to an enabled SSO connection of this tenant: accepting can go through it. */
  sso: Type.Boolean(),
});
export const AcceptBody = StrictObject({
  token: InvitationToken,
  password: PasswordInput,
  first_name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  last_name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
});
