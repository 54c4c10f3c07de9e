import { Type } from '@sinclair/typebox';

export const TenantSettingsSchema = Type.Object({
  self_registration: Type.Boolean(),
  mfa_required: Type.Boolean(),
  password_policy: Type.Object({
    min_length: Type.Integer(),
    require_classes: Type.Integer(),
    check_common: Type.Boolean(),
    check_breached: Type.Boolean(),
  }),
  session: Type.Object({
    access_ttl: Type.Integer(),
    refresh_ttl: Type.Integer(),
    absolute_ttl: Type.Integer(),
    idle_ttl: Type.Union([Type.Integer(), Type.Null()]),
  }),
  allowed_ip_ranges: Type.Array(Type.String()),
  audit_retention_days: Type.Union([Type.Integer(), Type.Null()]),
  wireguard: Type.Object({ max_peers: Type.Integer() }),
});

export const TenantRead = Type.Object({
  id: Type.Integer(),
  slug: Type.String(),
  name: Type.String(),
  created_at: Type.String(),
  settings: TenantSettingsSchema,
});
