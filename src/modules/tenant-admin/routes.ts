/** Platform operators' tenant routes (API.md §11), permission `platform.tenants` (platform tenant only). */

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../platform/http/access.js';
import { routes } from '../../platform/http/route.js';
import { IdParams, Nullable } from '../../platform/http/schemas.js';
import {
  getTenantAsOperator,
  listTenants,
  TenantAdminRead,
  TenantListQuery,
  TenantOperatorPatch,
  updateTenantAsOperator,
} from '../tenants/index.js';
import { UserRead } from '../users/index.js';
import type { TenantAdminDeps } from './deps.js';
import { TenantCreate } from './schemas.js';
import { createTenantAsOperator, deleteTenant, setTenantStatus } from './service.js';

const access = 'platform.tenants' as const;

export function platformTenantRoutes(ctx: TenantAdminDeps): FastifyPluginAsyncTypebox {
  return routes('tenants', (route) => {
    route(
      'GET /',
      'All tenants (platform operators)',
      {
        access,
        query: TenantListQuery,
        ok: Type.Object({ tenants: Type.Array(TenantAdminRead), total: Type.Integer() }),
        errors: [422],
      },
      (req) => listTenants(ctx, req.query),
    );

    route(
      'POST /',
      'Create a tenant and its first admin (owner)',
      {
        access,
        body: TenantCreate,
        created: Type.Object({ tenant: TenantAdminRead, admin: Nullable(UserRead) }),
        errors: [400, 409, 422],
      },
      (req) => createTenantAsOperator(ctx, requirePrincipal(req).tenantId, req.body, req.auditContext()),
    );

    route('GET /:id', { access, params: IdParams, ok: TenantAdminRead, errors: [404, 422] }, (req) =>
      getTenantAsOperator(ctx, req.params.id),
    );

    route(
      'PATCH /:id',
      'Change the settings only platform operators set (wireguard.max_peers)',
      { access, params: IdParams, body: TenantOperatorPatch, ok: TenantAdminRead, errors: [404, 422] },
      (req) =>
        updateTenantAsOperator(
          ctx,
          requirePrincipal(req).tenantId,
          req.params.id,
          req.body,
          req.auditContext(),
        ),
    );

    // Suspend and reactivate differ only in the status they set.
    const statuses = [
      ['POST /:id/suspend', 'suspended', 'Suspend: every live token of the tenant stops working'],
      ['POST /:id/reactivate', 'active', undefined],
    ] as const;
    for (const [at, status, summary] of statuses)
      route(at, summary, { access, params: IdParams, ok: TenantAdminRead, errors: [400, 404, 422] }, (req) =>
        setTenantStatus(ctx, requirePrincipal(req).tenantId, req.params.id, status, req.auditContext()),
      );

    route(
      'DELETE /:id',
      'Delete a tenant and all its data (audit records stay)',
      { access, params: IdParams, noContent: true, errors: [400, 404, 422] },
      (req) => deleteTenant(ctx, requirePrincipal(req).tenantId, req.params.id, req.auditContext()),
    );
  });
}
