import { type Static, Type } from '@sinclair/typebox';
import {
  ClientDevice,
  IntId,
  Nullable,
  StrictObject,
  SuccessEnvelope,
  Timestamps,
} from '../../platform/http/schemas.js';
import { AuditRecord } from '../audit/index.js';

const Reason = Type.String({ minLength: 10, maxLength: 500 });
export const DeleteBody = StrictObject({ user_id: IntId, reason: Reason, confirm: Type.Literal(true) });
export type DeleteBody = Static<typeof DeleteBody>;
export const AnonymizeBody = StrictObject({ user_id: IntId, reason: Reason });
export type AnonymizeBody = Static<typeof AnonymizeBody>;
export const UserIdParams = Type.Object({ user_id: IntId });

const Profile = Type.Object({
  id: Type.Integer(),
  tenant_id: Type.Integer(),
  email: Type.String(),
  first_name: Nullable(Type.String()),
  last_name: Nullable(Type.String()),
  phone: Nullable(Type.String()),
  is_active: Type.Boolean(),
  is_verified: Type.Boolean(),
  is_superuser: Type.Boolean(),
  has_password: Type.Boolean(),
  ...Timestamps,
  last_login_at: Nullable(Type.String()),
  password_changed_at: Nullable(Type.String()),
});

const Session = Type.Object({
  id: Type.String(),
  created_at: Type.String(),
  last_seen_at: Type.String(),
  expires_at: Type.String(),
  revoked_at: Nullable(Type.String()),
  revoked_reason: Nullable(Type.String()),
  ...ClientDevice,
});

/** Module sections (mfa, api_keys, wireguard, ...) come from ctx.hooks.gdprExport, keyed by their name. */
export const ExportResponse = Type.Object(
  {
    exported_at: Type.String(),
    tenant_id: Type.Integer(),
    user: Profile,
    sessions: Type.Array(Session),
    audit_events: Type.Array(AuditRecord),
    audit_events_truncated: Type.Boolean(),
    password_reset_requests: Type.Array(
      Type.Object({ created_at: Type.String(), expires_at: Type.String(), used_at: Nullable(Type.String()) }),
    ),
    identities: Type.Array(Type.Unknown()),
  },
  { additionalProperties: true },
);
export type ExportResponse = Static<typeof ExportResponse>;

export const ErasureResponse = SuccessEnvelope(
  Type.Object({
    user_id: Type.Integer(),
    mode: Type.Union([Type.Literal('deleted'), Type.Literal('anonymized')]),
    pseudonym: Type.String(),
    sessions_revoked: Type.Integer(),
    audit_values_erased: Type.Integer(),
    modules: Type.Array(Type.String()),
  }),
);

export const InventoryResponse = Type.Object({}, { additionalProperties: true });
