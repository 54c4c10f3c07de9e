/**
 * The tenants module's door: tenant rows, settings (declared once, TypeBox), id/slug resolution and the network
 * allow-list. It imports no other module; modules that need tenants import this file only.
 */
import type { AppModule } from '../../platform/module.js';
import { tenantRoutes } from './routes.js';

export const tenantsModule: AppModule = {
  name: 'tenants',
  routes: (ctx) => [{ prefix: '/api/v1/tenants', plugin: tenantRoutes(ctx) }],
};

export type { TenantsErrorCode } from './errors.js';
export { bumpTenantVersion, isValidCidr, tenantIdleTtl, tenantNetworkAllows } from './network.js';
export type { TenantOperatorPatchBody, TenantPatch, TenantStatusQuery } from './schemas.js';
export { TenantAdminRead, TenantListQuery, TenantOperatorPatch, TenantRead } from './schemas.js';
// --- exports used by auth, mfa, password-reset ---
export {
  auditTenantAndOperator,
  deleteTenantTx,
  getTenant,
  getTenantAsOperator,
  hasTenants,
  insertNewTenant,
  isPlatformTenant,
  listTenants,
  normaliseSlug,
  resolveTenantHeader,
  resolveTenantId,
  setTenantStatusTx,
  tenantAdminRead,
  tenantRead,
  tenantRequiresMfaSql,
  tenantSettings,
  tenantToDelete,
  updateTenantAsOperator,
} from './service.js';
export {
  type PasswordPolicy,
  type PlatformSettingsPatch,
  resolveSettings,
  type SessionSettings,
  type StoredTenantSettings,
  type TenantSettings,
  type TenantSettingsPatch,
  TenantSettingsSchema,
  type WireguardSettings,
} from './settings.js';
export type { TenantRow } from './tables.js';
