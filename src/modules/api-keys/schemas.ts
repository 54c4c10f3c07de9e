import { Type } from '@sinclair/typebox';
import {
  Acknowledgement,
  DateTime,
  IdParams,
  ListOf,
  Nullable,
  offsetPaging,
  StrictObject,
  Timestamps,
  Uuid,
} from '../../platform/http/schemas.js';

export const Scope = Type.String({ minLength: 1, maxLength: 100 });

export const CreateApiKeyBody = StrictObject({
  name: Type.String({ minLength: 1, maxLength: 255 }),
  expires_at: Type.Optional(Nullable(DateTime)),
  scopes: Type.Optional(Type.Array(Scope, { maxItems: 100, uniqueItems: true })),
  /** `user` (default): acts as its creator. `tenant`: acts with `role_id` and outlives its creator. */
  owner: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('tenant')])),
  role_id: Type.Optional(Uuid),
});

export const ApiKeyRead = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  tenant_id: Type.Integer(),
  key_prefix: Type.String(),
  scopes: Type.Array(Type.String()),
  owner: Type.String(),
  role_id: Nullable(Type.String()),
  is_revoked: Type.Boolean(),
  is_expired: Type.Boolean(),
  expires_at: Nullable(Type.String()),
  last_used_at: Nullable(Type.String()),
  ...Timestamps,
  created_by_user_id: Nullable(Type.Integer()),
});

export const CreatedApiKey = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  raw_key: Type.String(),
  key_prefix: Type.String(),
  scopes: Type.Array(Type.String()),
  owner: Type.String(),
  role_id: Nullable(Type.String()),
  expires_at: Nullable(Type.String()),
  message: Type.String(),
});

export const ApiKeyList = ListOf('keys', ApiKeyRead, { active_count: Type.Integer() });

export const ListQuery = Type.Object({
  include_revoked: Type.Optional(Type.Boolean({ default: false })),
  ...offsetPaging(),
});

export const RevokeResponse = Type.Object({ ...Acknowledgement, revoked_key_id: Type.Integer() });

export const KeyIdParams = IdParams;
