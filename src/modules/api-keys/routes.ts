/** API keys (API.md §9). Keys authenticate requests through the authenticator installed in index.ts (§13). */

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireUser } from '../../platform/http/access.js';
import { errorResponses } from '../../platform/http/schemas.js';
import { auditRefusals } from '../rbac/index.js';
import type { ApiKeysDeps } from './deps.js';
import { apiKeyMessage } from './errors.js';
import {
  ApiKeyList,
  ApiKeyRead,
  CreateApiKeyBody,
  CreatedApiKey,
  KeyIdParams,
  ListQuery,
  RevokeResponse,
} from './schemas.js';
import { createApiKey, getApiKey, listApiKeys, revokeApiKey } from './service.js';

export function apiKeyRoutes(ctx: ApiKeysDeps): FastifyPluginAsyncTypebox {
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
        const creator = {
          principal: requireUser(req),
          permissions: await req.permissions(),
          audit: req.auditContext(),
        };
        // A refused key (scopes or a role beyond the creator's) is an attempted escalation: audited on its own.
        const created = await auditRefusals(
          ctx,
          { ...creator, tenantId: creator.principal.tenantId, userId: creator.principal.userId },
          'api_key.create',
          () => createApiKey(ctx, creator, req.body),
        );
        return reply.code(201).send({ ...created, message: apiKeyMessage('api_keys.created', req.locale) });
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
      (req) => listApiKeys(ctx, req.principal!.tenantId, req.query),
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
      (req) => getApiKey(ctx, req.principal!.tenantId, req.params.id),
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
        return {
          success: true,
          message: apiKeyMessage('api_keys.revoked', req.locale),
          revoked_key_id: req.params.id,
        };
      },
    );
  };
}
