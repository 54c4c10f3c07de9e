/** Platform operators' tenant routes (API.md §11), permission `platform.tenants` (platform tenant only). */

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../platform/http/access.js';
import { errorResponses, IdParams, Nullable } from '../../platform/http/schemas.js';
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

const tags = ['tenants'];
const access = 'platform.tenants' as const;

export function platformTenantRoutes(ctx: TenantAdminDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/',
      {
        config: { access },
        schema: {
          tags,
          summary: 'All tenants (platform operators)',
          querystring: TenantListQuery,
          response: {
            200: Type.Object({ tenants: Type.Array(TenantAdminRead), total: Type.Integer() }),
            ...errorResponses(401, 403, 422),
          },
        },
      },
      (req) => listTenants(ctx, req.query),
    );

    app.post(
      '/',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Create a tenant and its first admin (owner)',
          body: TenantCreate,
          response: {
            201: Type.Object({ tenant: TenantAdminRead, admin: Nullable(UserRead) }),
            ...errorResponses(400, 401, 403, 409, 422),
          },
        },
      },
      async (req, reply) => {
        const p = requirePrincipal(req);
        return reply
          .code(201)
          .send(await createTenantAsOperator(ctx, p.tenantId, req.body, req.auditContext()));
      },
    );

    app.get(
      '/:id',
      {
        config: { access },
        schema: {
          tags,
          params: IdParams,
          response: { 200: TenantAdminRead, ...errorResponses(401, 403, 404, 422) },
        },
      },
      (req) => getTenantAsOperator(ctx, req.params.id),
    );

    app.patch(
      '/:id',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Change the settings only platform operators set (wireguard.max_peers)',
          params: IdParams,
          body: TenantOperatorPatch,
          response: { 200: TenantAdminRead, ...errorResponses(401, 403, 404, 422) },
        },
      },
      (req) =>
        updateTenantAsOperator(
          ctx,
          requirePrincipal(req).tenantId,
          req.params.id,
          req.body,
          req.auditContext(),
        ),
    );

    app.post(
      '/:id/suspend',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Suspend: every live token of the tenant stops working',
          params: IdParams,
          response: { 200: TenantAdminRead, ...errorResponses(400, 401, 403, 404, 422) },
        },
      },
      (req) =>
        setTenantStatus(ctx, requirePrincipal(req).tenantId, req.params.id, 'suspended', req.auditContext()),
    );

    app.post(
      '/:id/reactivate',
      {
        config: { access },
        schema: {
          tags,
          params: IdParams,
          response: { 200: TenantAdminRead, ...errorResponses(400, 401, 403, 404, 422) },
        },
      },
      (req) =>
        setTenantStatus(ctx, requirePrincipal(req).tenantId, req.params.id, 'active', req.auditContext()),
    );

    app.delete(
      '/:id',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Delete a tenant and all its data (audit records stay)',
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404, 422) },
        },
      },
      async (req, reply) => {
        await deleteTenant(ctx, requirePrincipal(req).tenantId, req.params.id, req.auditContext());
        return reply.code(204).send(null);
      },
    );
  };
}
