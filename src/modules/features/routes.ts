/**
 * Feature flags (API.md §14). Tenant side under /api/v1/features; the global catalogue, written by platform
 * operators, under /api/v1/features/catalogue (see docs/api-decisions.md).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../platform/http/access.js';
import { validationError } from '../../platform/http/errors.js';
import { errorResponses } from '../../platform/http/schemas.js';
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
  return async (app) => {
    app.get(
      '/',
      {
        config: { access: 'features.read' },
        schema: {
          tags: ['features'],
          summary: "The flag catalogue with this tenant's overrides",
          response: { 200: FeatureList, ...errorResponses(401, 403) },
        },
      },
      (req) => listWithOverrides(ctx, requirePrincipal(req).tenantId),
    );

    app.get(
      '/evaluate',
      {
        config: { access: 'self', keyScope: 'features.read' },
        schema: {
          tags: ['features'],
          summary: 'Every flag, resolved for the caller (user or API key)',
          response: { 200: EvaluateResponse, ...errorResponses(401) },
        },
      },
      async (req) => ({ flags: await req.flags.all() }),
    );

    app.put(
      '/:key/overrides',
      {
        config: { access: 'features.write' },
        schema: {
          tags: ['features'],
          summary: 'Set a tenant, role or user override',
          params: KeyParams,
          body: OverrideBody,
          response: { 200: OverrideRead, ...errorResponses(401, 403, 404, 422) },
        },
      },
      (req) => setOverride(ctx, requirePrincipal(req).tenantId, req.params.key, req.body, req.auditContext()),
    );

    app.delete(
      '/:key/overrides',
      {
        config: { access: 'features.write' },
        schema: {
          tags: ['features'],
          summary: 'Remove an override (scope and target_id in the query string or the body)',
          params: KeyParams,
          querystring: OverrideDeleteQuery,
          body: Type.Optional(OverrideDeleteBody),
          response: { 204: { type: 'null' }, ...errorResponses(401, 403, 404, 422) },
        },
      },
      async (req, reply) => {
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
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/catalogue',
      {
        config: { access: 'platform.features' },
        schema: {
          tags: ['features'],
          summary: 'Platform operators: add a flag to the global catalogue',
          body: CreateFlagBody,
          response: { 201: FlagRead, ...errorResponses(401, 403, 409, 422) },
        },
      },
      async (req, reply) =>
        reply
          .code(201)
          .send(await createFlag(ctx, requirePrincipal(req).tenantId, req.body, req.auditContext())),
    );

    app.put(
      '/catalogue/:key',
      {
        config: { access: 'platform.features' },
        schema: {
          tags: ['features'],
          summary: 'Platform operators: change a flag',
          params: KeyParams,
          body: UpdateFlagBody,
          response: { 200: FlagRead, ...errorResponses(401, 403, 404, 422) },
        },
      },
      (req) => updateFlag(ctx, requirePrincipal(req).tenantId, req.params.key, req.body, req.auditContext()),
    );

    app.delete(
      '/catalogue/:key',
      {
        config: { access: 'platform.features' },
        schema: {
          tags: ['features'],
          summary: 'Platform operators: remove a flag and every override of it',
          params: KeyParams,
          response: { 204: { type: 'null' }, ...errorResponses(401, 403, 404, 422) },
        },
      },
      async (req, reply) => {
        await deleteFlag(ctx, requirePrincipal(req).tenantId, req.params.key, req.auditContext());
        return reply.code(204).send(null);
      },
    );
  };
}
