import { type Static, Type } from '@sinclair/typebox';
import { Nullable, offsetPaging, StrictObject } from '../../platform/http/schemas.js';
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
export const TenantPatchSchema = StrictObject({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  settings: Type.Optional(TenantSettingsPatchSchema),
});
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
  ...offsetPaging({ maxSkip: null }),
  status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('suspended')])),
});
export type TenantStatusQuery = Static<typeof TenantListQuery>;

/** PATCH /tenants/{id}: settings only platform operators change (tenant admins cannot: PATCH /current refuses them). */
export const TenantOperatorPatch = StrictObject({ settings: Type.Optional(PlatformSettingsPatchSchema) });
export type TenantOperatorPatchBody = Static<typeof TenantOperatorPatch>;
