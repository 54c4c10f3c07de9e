/** Platform operators' tenant routes (API.md §11), permission `platform.tenants` (platform tenant only). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../platform/context.js';
import { requirePrincipal } from '../../platform/http/access.js';
import { registerMessages } from '../../platform/http/messages.js';
import { Email, errorResponses, IdParams, Nullable } from '../../platform/http/schemas.js';
import { UserRead } from '../users/schemas.js';
import {
  createTenantAsOperator,
  deleteTenant,
  getTenant,
  listTenants,
  setTenantStatus,
  updateTenantAsOperator,
} from './admin.js';
import { TenantRead } from './schemas.js';

registerMessages({
  OWN_TENANT: {
    fr: 'Action impossible sur votre propre tenant',
    en: 'This action is not allowed on your own tenant',
  },
});

export const TenantAdminRead = Type.Composite([
  TenantRead,
  Type.Object({
    status: Type.String(),
    is_platform: Type.Boolean(),
    updated_at: Type.String(),
    suspended_at: Nullable(Type.String()),
  }),
]);
const TenantListQuery = Type.Object({
  skip: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('suspended')])),
});
const TenantCreate = Type.Object(
  {
    slug: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{1,62}$' }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    admin_email: Email,
    admin_password: Type.String({ minLength: 1, maxLength: 128 }),
  },
  { additionalProperties: false },
);
/** Settings only platform operators change (tenant admins cannot: PATCH /tenants/current refuses them). */
const TenantOperatorPatch = Type.Object(
  {
    settings: Type.Optional(
      Type.Object(
        {
          wireguard: Type.Optional(
            Type.Object(
              {
                // null: back to WG_MAX_PEERS_PER_TENANT.
                max_peers: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 1_000_000 }))),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
const tags = ['tenants'];
const access = 'platform.tenants' as const;

export function platformTenantRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
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
      (req) => getTenant(ctx, req.params.id),
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
