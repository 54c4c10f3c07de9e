import { Type } from '@sinclair/typebox';
import { DateTime, IntId, Nullable, Uuid } from '../../platform/http/schemas.js';

export const Scope = Type.String({ minLength: 1, maxLength: 100 });

export const CreateApiKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    expires_at: Type.Optional(Nullable(DateTime)),
    scopes: Type.Optional(Type.Array(Scope, { maxItems: 100, uniqueItems: true })),
    /** `user` (default): acts as its creator. `tenant`: acts with `role_id` and outlives its creator. */
    owner: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('tenant')])),
    role_id: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);

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
  created_at: Type.String(),
  updated_at: Type.String(),
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

export const ApiKeyList = Type.Object({
  keys: Type.Array(ApiKeyRead),
  total: Type.Integer(),
  active_count: Type.Integer(),
});

export const ListQuery = Type.Object({
  include_revoked: Type.Optional(Type.Boolean({ default: false })),
  skip: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
});

export const RevokeResponse = Type.Object({
  success: Type.Boolean(),
  message: Type.String(),
  revoked_key_id: Type.Integer(),
});

export const KeyIdParams = Type.Object({ id: IntId });
