/** The OIDC client registry (API.md §22): `/api/v1/oidc/clients`. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { requirePrincipal } from '../../platform/http/access.js';
import { routes } from '../../platform/http/route.js';
import { actorOf, auditRefusals } from '../rbac/index.js';
import type { OidcClientsDeps } from './deps.js';
import { oidcClientMessage } from './errors.js';
import {
  ClientDeleted,
  ClientIdParams,
  ClientList,
  ClientRead,
  ClientsQuery,
  ClientWithSecret,
  CreateClientBody,
  RotateSecretBody,
  UpdateClientBody,
} from './schemas.js';
import * as service from './service.js';

export function oidcClientRoutes(ctx: OidcClientsDeps): FastifyPluginAsyncTypebox {
  return routes('oidc', (route) => {
    /** A change made as the caller; a refusal to grant (403) is audited as an attempted escalation. */
    const asActor = async <T>(
      req: FastifyRequest,
      action: string,
      change: (actor: service.Actor) => Promise<T>,
    ): Promise<T> => {
      const actor = await actorOf(req);
      return auditRefusals(ctx, actor, action, () => change(actor));
    };

    route(
      'POST /',
      'Register a client; a confidential client with a secret gets it in this response only',
      {
        access: 'oidc.clients.write',
        body: CreateClientBody,
        created: ClientWithSecret,
        errors: [409, 422],
      },
      (req) => asActor(req, 'oidc_client.create', (actor) => service.createClient(ctx, actor, req.body)),
    );

    route(
      'GET /',
      "The tenant's clients, oldest first (cursor)",
      { access: 'oidc.clients.read', query: ClientsQuery, ok: ClientList, errors: [422] },
      (req) => service.listClients(ctx, requirePrincipal(req).tenantId, req.query),
    );

    route(
      'GET /:id',
      { access: 'oidc.clients.read', params: ClientIdParams, ok: ClientRead, errors: [404, 422] },
      (req) => service.getClient(ctx, requirePrincipal(req).tenantId, req.params.id),
    );

    route(
      'PATCH /:id',
      'Change a client (not its type; its secret only by rotation)',
      {
        access: 'oidc.clients.write',
        params: ClientIdParams,
        body: UpdateClientBody,
        ok: ClientRead,
        errors: [404, 422],
      },
      (req) =>
        asActor(req, 'oidc_client.update', (actor) =>
          service.updateClient(ctx, actor, req.params.id, req.body),
        ),
    );

    route(
      'DELETE /:id',
      'Delete a client',
      { access: 'oidc.clients.write', params: ClientIdParams, ok: ClientDeleted, errors: [404, 422] },
      async (req) => {
        await service.deleteClient(ctx, await actorOf(req), req.params.id);
        return { success: true, message: oidcClientMessage('oidc_clients.deleted', req.locale) };
      },
    );

    route(
      'POST /:id/secret',
      'Rotate the secret (shown once); the previous one stops at once, or after `previous_secret_expires_in` s',
      {
        access: 'oidc.clients.write',
        params: ClientIdParams,
        body: RotateSecretBody,
        ok: ClientWithSecret,
        errors: [404, 409, 422],
      },
      async (req) => service.rotateSecret(ctx, await actorOf(req), req.params.id, req.body),
    );
  });
}
