/** The caller's tenant (API.md §11). Platform operators' tenant routes live in the tenant-admin module. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requirePrincipal } from '../../platform/http/access.js';
import { errorResponses } from '../../platform/http/schemas.js';
import type { TenantsDeps } from './deps.js';
import { TenantPatchSchema, TenantRead } from './schemas.js';
import { getCurrentTenant, updateCurrentTenant } from './service.js';

export function tenantRoutes(ctx: TenantsDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/current',
      {
        config: { access: 'self', keyScope: 'profile.read' },
        schema: {
          tags: ['tenants'],
          summary: "The caller's tenant and its settings",
          response: { 200: TenantRead, ...errorResponses(401) },
        },
      },
      (req) => getCurrentTenant(ctx, requirePrincipal(req).tenantId),
    );

    app.patch(
      '/current',
      {
        config: { access: 'tenants.manage' },
        schema: {
          tags: ['tenants'],
          summary: "Change the tenant's name and settings (effective on the next request)",
          body: TenantPatchSchema,
          response: { 200: TenantRead, ...errorResponses(401, 403, 422) },
        },
      },
      (req) => {
        const { tenantId } = requirePrincipal(req);
        return updateCurrentTenant(ctx, tenantId, req.body, req.ip, req.auditContext());
      },
    );
  };
}
