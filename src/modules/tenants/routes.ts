import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../platform/context.js';
import { requirePrincipal } from '../../platform/http/access.js';
import { notFound } from '../../platform/http/errors.js';
import { errorResponses } from '../../platform/http/schemas.js';
import { findTenantById } from './repository.js';
import { tenantRead } from './service.js';

export const TenantSettingsSchema = Type.Object({
  self_registration: Type.Boolean(),
  mfa_required: Type.Boolean(),
  password_policy: Type.Object({
    min_length: Type.Integer(),
    require_classes: Type.Integer(),
    check_common: Type.Boolean(),
    check_breached: Type.Boolean(),
  }),
  session: Type.Object({
    access_ttl: Type.Integer(),
    refresh_ttl: Type.Integer(),
    absolute_ttl: Type.Integer(),
    idle_ttl: Type.Union([Type.Integer(), Type.Null()]),
  }),
  allowed_ip_ranges: Type.Array(Type.String()),
  audit_retention_days: Type.Union([Type.Integer(), Type.Null()]),
});

export const TenantRead = Type.Object({
  id: Type.Integer(),
  slug: Type.String(),
  name: Type.String(),
  created_at: Type.String(),
  settings: TenantSettingsSchema,
});

export function tenantRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/current', {
      config: { access: 'self' },
      schema: { tags: ['tenants'], summary: "The caller's tenant and its settings", response: { 200: TenantRead, ...errorResponses(401) } },
    }, async (req) => {
      const { tenantId } = requirePrincipal(req);
      const t = await ctx.database.withTenant(tenantId, (tx) => findTenantById(tx, tenantId));
      if (!t) throw notFound('tenant');
      return tenantRead(ctx, t);
    });
  };
}
