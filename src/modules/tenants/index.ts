/**
 * The tenants module's door: tenant rows, settings (declared once, TypeBox), id/slug resolution and the network
 * allow-list. It imports no other module; modules that need tenants import this file only.
 */
import type { AppModule } from '../../platform/module.js';
import { tenantsErrors } from './errors.js';
import { tenantNetworkAllows } from './network.js';
import { tenantRoutes } from './routes.js';
import { resolveTenantId, tenantsWithRetention } from './service.js';
import type { TenantRow } from './tables.js';

// --- module registration ---
export const tenantsModule: AppModule = {
  name: 'tenants',
  errors: [tenantsErrors],
  provides: {
    tenancy: (ctx) => ({
      resolveTenantId: (header) => resolveTenantId(ctx, header),
      networkAllows: (tenantId, version, ip) => tenantNetworkAllows(ctx, tenantId, version, ip),
    }),
    retention: (ctx) => ({ tenantsWithRetention: () => tenantsWithRetention(ctx.database) }),
  },
  routes: (ctx) => [{ prefix: '/api/v1/tenants', plugin: tenantRoutes(ctx) }],
};

/** ctx.mfa.inlineLogin and other context hooks carry the tenant row (see TenantRecord). */
declare module '../../platform/context.js' {
  interface TenantRecord extends TenantRow {}
}

export { bumpTenantVersion, tenantIdleTtl } from './network.js';
export { TenantAdminRead, TenantListQuery, TenantOperatorPatch } from './schemas.js';
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
  readTenantSettings,
  resolveTenantHeader,
  resolveTenantId,
  setTenantStatusTx,
  tenantAdminRead,
  tenantRequiresMfaSql,
  tenantSettings,
  tenantToDelete,
  updateTenantAsOperator,
} from './service.js';
export { resolveSettings, type StoredTenantSettings, type TenantSettings } from './settings.js';
export type { TenantRow } from './tables.js';
