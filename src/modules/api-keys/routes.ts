/** API keys (API.md §9). Keys authenticate requests through the authenticator installed in index.ts (§13). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../platform/context.js';
import { requireUser } from '../../platform/http/access.js';
import { notFound } from '../../platform/http/errors.js';
import { errorResponses } from '../../platform/http/schemas.js';
import './errors.js';
import * as repo from './repository.js';
import {
  ApiKeyList,
  ApiKeyRead,
  CreateApiKeyBody,
  CreatedApiKey,
  KeyIdParams,
  ListQuery,
  RevokeResponse,
} from './schemas.js';
import { createApiKey, revokeApiKey, toApiKeyRead } from './service.js';

export function apiKeyRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/',
      {
        config: { access: 'api_keys.write' },
        schema: {
          tags: ['api-keys'],
          summary: 'Create an API key; the raw key is in this response only',
          body: CreateApiKeyBody,
          response: { 201: CreatedApiKey, ...errorResponses(401, 403, 404, 422) },
        },
      },
      async (req, reply) => {
        const created = await createApiKey(ctx, req, requireUser(req), req.body);
        return reply.code(201).send(created);
      },
    );

    app.get(
      '/',
      {
        config: { access: 'api_keys.read' },
        schema: {
          tags: ['api-keys'],
          summary: "The tenant's API keys, newest first",
          querystring: ListQuery,
          response: { 200: ApiKeyList, ...errorResponses(401, 403) },
        },
      },
      async (req) => {
        const { tenantId } = req.principal!;
        const q = req.query;
        const { rows, total, activeCount } = await ctx.database.withTenant(tenantId, (tx) =>
          repo.listApiKeys(tx, tenantId, {
            includeRevoked: q.include_revoked ?? false,
            skip: q.skip ?? 0,
            limit: q.limit ?? 20,
          }),
        );
        return { keys: rows.map(toApiKeyRead), total, active_count: activeCount };
      },
    );

    app.get(
      '/:id',
      {
        config: { access: 'api_keys.read' },
        schema: {
          tags: ['api-keys'],
          params: KeyIdParams,
          response: { 200: ApiKeyRead, ...errorResponses(401, 403, 404, 422) },
        },
      },
      async (req) => {
        const { tenantId } = req.principal!;
        const k = await ctx.database.withTenant(tenantId, (tx) =>
          repo.findApiKey(tx, tenantId, req.params.id),
        );
        if (!k) throw notFound('api_key');
        return toApiKeyRead(k);
      },
    );

    app.delete(
      '/:id',
      {
        config: { access: 'api_keys.write' },
        schema: {
          tags: ['api-keys'],
          summary: 'Revoke a key (effective on the next request, on every replica)',
          params: KeyIdParams,
          response: { 200: RevokeResponse, ...errorResponses(400, 401, 403, 404, 422) },
        },
      },
      async (req) => {
        const { tenantId } = req.principal!;
        await revokeApiKey(ctx, tenantId, req.params.id, req.auditContext());
        return { success: true, message: 'Clé API révoquée', revoked_key_id: req.params.id };
      },
    );
  };
}
