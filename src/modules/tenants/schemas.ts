import { type Static, Type } from '@sinclair/typebox';
import { Nullable } from '../../platform/http/schemas.js';
import { PlatformSettingsPatchSchema, TenantSettingsPatchSchema, TenantSettingsSchema } from './settings.js';

export { TenantSettingsSchema };

export const TenantRead = Type.Object({
  id: Type.Integer(),
  slug: Type.String(),
  name: Type.String(),
  created_at: Type.String(),
  settings: TenantSettingsSchema,
});

/** PATCH /tenants/current. */
export const TenantPatchSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    settings: Type.Optional(TenantSettingsPatchSchema),
  },
  { additionalProperties: false },
);
export type TenantPatch = Static<typeof TenantPatchSchema>;

export const TenantAdminRead = Type.Composite([
  TenantRead,
  Type.Object({
    status: Type.String(),
    is_platform: Type.Boolean(),
    updated_at: Type.String(),
    suspended_at: Nullable(Type.String()),
  }),
]);

export const TenantListQuery = Type.Object({
  skip: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('suspended')])),
});
export type TenantStatusQuery = Static<typeof TenantListQuery>;

/** PATCH /tenants/{id}: settings only platform operators change (tenant admins cannot: PATCH /current refuses them). */
export const TenantOperatorPatch = Type.Object(
  { settings: Type.Optional(PlatformSettingsPatchSchema) },
  { additionalProperties: false },
);
export type TenantOperatorPatchBody = Static<typeof TenantOperatorPatch>;
