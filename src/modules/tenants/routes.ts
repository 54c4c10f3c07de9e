import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../platform/context.js';
import { requirePrincipal } from '../../platform/http/access.js';
import { notFound } from '../../platform/http/errors.js';
import { errorResponses } from '../../platform/http/schemas.js';
import { updateCurrentTenant } from './admin.js';
import { findTenantById } from './repository.js';
import { platformTenantRoutes } from './routes.platform.js';
import { TenantRead } from './schemas.js';
import { tenantRead } from './service.js';

const PasswordPolicyPatch = Type.Object(
  {
    min_length: Type.Optional(Type.Integer({ minimum: 8, maximum: 128 })),
    require_classes: Type.Optional(Type.Integer({ minimum: 0, maximum: 4 })),
    check_common: Type.Optional(Type.Boolean()),
    check_breached: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const SessionPatch = Type.Object(
  {
    access_ttl: Type.Optional(Type.Integer({ minimum: 60, maximum: 86_400 })),
    refresh_ttl: Type.Optional(Type.Integer({ minimum: 300, maximum: 90 * 86_400 })),
    absolute_ttl: Type.Optional(Type.Integer({ minimum: 300, maximum: 365 * 86_400 })),
    idle_ttl: Type.Optional(Type.Union([Type.Integer({ minimum: 60, maximum: 90 * 86_400 }), Type.Null()])),
  },
  { additionalProperties: false },
);
export const SettingsPatchSchema = Type.Object(
  {
    self_registration: Type.Optional(Type.Boolean()),
    mfa_required: Type.Optional(Type.Boolean()),
    password_policy: Type.Optional(PasswordPolicyPatch),
    session: Type.Optional(SessionPatch),
    allowed_ip_ranges: Type.Optional(
      Type.Array(Type.String({ minLength: 2, maxLength: 64 }), { maxItems: 100 }),
    ),
    audit_retention_days: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: 3650 }), Type.Null()]),
    ),
  },
  { additionalProperties: false },
);
const TenantPatch = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    settings: Type.Optional(SettingsPatchSchema),
  },
  { additionalProperties: false },
);

export function tenantRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
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
      async (req) => {
        const { tenantId } = requirePrincipal(req);
        const t = await ctx.database.withTenant(tenantId, (tx) => findTenantById(tx, tenantId));
        if (!t) throw notFound('tenant');
        return tenantRead(ctx, t);
      },
    );

    app.patch(
      '/current',
      {
        config: { access: 'tenants.manage' },
        schema: {
          tags: ['tenants'],
          summary: "Change the tenant's name and settings (effective on the next request)",
          body: TenantPatch,
          response: { 200: TenantRead, ...errorResponses(401, 403, 422) },
        },
      },
      (req) => {
        const { tenantId } = requirePrincipal(req);
        return updateCurrentTenant(ctx, tenantId, req.body, req.ip, req.auditContext());
      },
    );

    await app.register(platformTenantRoutes(ctx));
  };
}
