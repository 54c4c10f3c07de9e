/**
 * Feature flags (API.md §14). Tenant side under /api/v1/features; the global catalogue, written by platform
 * operators, under /api/v1/features/catalogue (see docs/api-decisions.md).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../platform/http/access.js';
import { validationError } from '../../platform/http/errors.js';
import { routes } from '../../platform/http/route.js';
import type { FeaturesDeps } from './deps.js';
import {
  CreateFlagBody,
  EvaluateResponse,
  FeatureList,
  FlagRead,
  KeyParams,
  OverrideBody,
  OverrideDeleteBody,
  OverrideDeleteQuery,
  OverrideRead,
  UpdateFlagBody,
} from './schemas.js';
import {
  createFlag,
  deleteFlag,
  listWithOverrides,
  removeOverride,
  setOverride,
  updateFlag,
} from './service.js';

export function featureRoutes(ctx: FeaturesDeps): FastifyPluginAsyncTypebox {
  return routes('features', (route) => {
    route(
      'GET /',
      "The flag catalogue with this tenant's overrides",
      { access: 'features.read', ok: FeatureList },
      (req) => listWithOverrides(ctx, requirePrincipal(req).tenantId),
    );

    route(
      'GET /evaluate',
      'Every flag, resolved for the caller (user or API key)',
      { access: 'self', keyScope: 'features.read', ok: EvaluateResponse },
      async (req) => ({ flags: await req.flags.all() }),
    );

    route(
      'PUT /:key/overrides',
      'Set a tenant, role or user override',
      {
        access: 'features.write',
        params: KeyParams,
        body: OverrideBody,
        ok: OverrideRead,
        errors: [404, 422],
      },
      (req) => setOverride(ctx, requirePrincipal(req).tenantId, req.params.key, req.body, req.auditContext()),
    );

    route(
      'DELETE /:key/overrides',
      'Remove an override (scope and target_id in the query string or the body)',
      {
        access: 'features.write',
        params: KeyParams,
        query: OverrideDeleteQuery,
        body: Type.Optional(OverrideDeleteBody),
        noContent: true,
        errors: [404, 422],
      },
      async (req) => {
        const body = req.body;
        const fromBody = body?.scope !== undefined;
        const scope = fromBody ? body?.scope : req.query.scope;
        if (!scope) throw validationError('query.scope', 'field required', 'required');
        const target = fromBody ? body?.target_id : req.query.target_id;
        await removeOverride(
          ctx,
          requirePrincipal(req).tenantId,
          req.params.key,
          { scope, target_id: target },
          req.auditContext(),
          fromBody ? 'body.target_id' : 'query.target_id',
        );
      },
    );

    route(
      'POST /catalogue',
      'Platform operators: add a flag to the global catalogue',
      { access: 'platform.features', body: CreateFlagBody, created: FlagRead, errors: [409, 422] },
      (req) => createFlag(ctx, requirePrincipal(req).tenantId, req.body, req.auditContext()),
    );

    route(
      'PUT /catalogue/:key',
      'Platform operators: change a flag',
      {
        access: 'platform.features',
        params: KeyParams,
        body: UpdateFlagBody,
        ok: FlagRead,
        errors: [404, 422],
      },
      (req) => updateFlag(ctx, requirePrincipal(req).tenantId, req.params.key, req.body, req.auditContext()),
    );

    route(
      'DELETE /catalogue/:key',
      'Platform operators: remove a flag and every override of it',
      { access: 'platform.features', params: KeyParams, noContent: true, errors: [404, 422] },
      (req) => deleteFlag(ctx, requirePrincipal(req).tenantId, req.params.key, req.auditContext()),
    );
  });
}
