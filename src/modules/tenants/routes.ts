/** The caller's tenant (API.md §11). Platform operators' tenant routes live in the tenant-admin module. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requirePrincipal } from '../../platform/http/access.js';
import { routes } from '../../platform/http/route.js';
import type { TenantsDeps } from './deps.js';
import { TenantPatchSchema, TenantRead } from './schemas.js';
import { getCurrentTenant, updateCurrentTenant } from './service.js';

export function tenantRoutes(ctx: TenantsDeps): FastifyPluginAsyncTypebox {
  return routes('tenants', (route) => {
    route(
      'GET /current',
      "The caller's tenant and its settings",
      { access: 'self', keyScope: 'profile.read', ok: TenantRead },
      (req) => getCurrentTenant(ctx, requirePrincipal(req).tenantId),
    );

    route(
      'PATCH /current',
      "Change the tenant's name and settings (effective on the next request)",
      { access: 'tenants.manage', body: TenantPatchSchema, ok: TenantRead, errors: [422] },
      (req) => updateCurrentTenant(ctx, requirePrincipal(req).tenantId, req.body, req.ip, req.auditContext()),
    );
  });
}
