/** API keys (API.md §9). Keys authenticate requests through the authenticator installed in index.ts (§13). */

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireUser } from '../../platform/http/access.js';
import { routes } from '../../platform/http/route.js';
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
  return routes('api-keys', (route) => {
    route(
      'POST /',
      'Create an API key; the raw key is in this response only',
      { access: 'api_keys.write', body: CreateApiKeyBody, created: CreatedApiKey, errors: [404, 422] },
      async (req) => {
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
        return { ...created, message: apiKeyMessage('api_keys.created', req.locale) };
      },
    );

    route(
      'GET /',
      "The tenant's API keys, newest first",
      { access: 'api_keys.read', query: ListQuery, ok: ApiKeyList },
      (req) => listApiKeys(ctx, req.principal!.tenantId, req.query),
    );

    route(
      'GET /:id',
      { access: 'api_keys.read', params: KeyIdParams, ok: ApiKeyRead, errors: [404, 422] },
      (req) => getApiKey(ctx, req.principal!.tenantId, req.params.id),
    );

    route(
      'DELETE /:id',
      'Revoke a key (effective on the next request, on every replica)',
      { access: 'api_keys.write', params: KeyIdParams, ok: RevokeResponse, errors: [400, 404, 422] },
      async (req) => {
        await revokeApiKey(ctx, req.principal!.tenantId, req.params.id, req.auditContext());
        return {
          success: true,
          message: apiKeyMessage('api_keys.revoked', req.locale),
          revoked_key_id: req.params.id,
        };
      },
    );
  });
}
