/**
 * The tenants module: tenant rows and settings, the current tenant and platform operators' routes, and
 * ctx.tenancy (X-Tenant-ID resolution, allowed_ip_ranges) for the request guard.
 */
import type { AppModule } from '../../platform/module.js';
import { tenantNetworkAllows } from './network.js';
import { findTenantById } from './repository.js';
import { tenantRoutes } from './routes.js';
import { resolveTenantId } from './service.js';
import { resolveSettings } from './settings.js';
import type { TenantRow } from './tables.js';

// --- module registration ---
export const tenantsModule: AppModule = {
  name: 'tenants',
  setup: (ctx) => {
    ctx.tenancy.resolveTenantId = (header) => resolveTenantId(ctx, header);
    ctx.tenancy.networkAllows = (tenantId, version, ip) => tenantNetworkAllows(ctx, tenantId, version, ip);
    // Until the MFA module replaces it: only the tenant's mfa_required setting.
    ctx.mfa.status = async (tx, tenantId) => {
      const t = await findTenantById(tx, tenantId);
      return { enabled: false, required: resolveSettings(t?.settings, ctx.config).mfa_required };
    };
  },
  routes: (ctx) => [{ prefix: '/api/v1/tenants', plugin: tenantRoutes(ctx) }],
};

/** ctx.mfa.inlineLogin and other context hooks carry the tenant row (see TenantRecord). */
declare module '../../platform/context.js' {
  interface TenantRecord extends TenantRow {}
}

// --- exports used by cli ---
export { seedIfEmpty } from './seed.js';
export { createTenant, resolveTenantHeader } from './service.js';
