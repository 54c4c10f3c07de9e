/**
 * /scim/v2 (API.md §17). Every route is `self` with keyScope `scim` for the request guard (so only a key holding
 * the scope passes it, `*` aside), and this plugin's own onRequest hook then refuses whatever is not an API key
 * carrying `scim` itself: a JWT is a 401, a `*` key a 403. Bodies are `application/scim+json` (or JSON), read
 * leniently by the service; every error leaves in RFC 7644's shape. Hidden from the OpenAPI document: SCIM is
 * RFC 7644's contract, not ours, and its lenient bodies have no useful schema (docs/scim.md describes it).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../platform/context.js';
import { resolveRolePermissions, resolveUserPermissions } from '../rbac/index.js';
import { errorBody, ScimError, scimNotFound, toScimError } from './errors.js';
import {
  listResponse,
  resourceTypes,
  SCIM_CONTENT_TYPE,
  SCIM_PREFIX,
  schemas,
  serviceProviderConfig,
} from './resources.js';
import * as service from './service.js';

const SCOPE = 'scim';
const config = { access: 'self', keyScope: SCOPE } as const;
const schema = { hide: true, tags: ['scim'] };

type ListQuery = { filter?: string; startIndex?: string; count?: string; excludedAttributes?: string };

function send(reply: FastifyReply, status: number, body: unknown) {
  return reply.code(status).type(SCIM_CONTENT_TYPE).send(body);
}

/** `excludedAttributes=members` (Entra ID asks for it) spares listing a role's holders. */
function withMembers(q: ListQuery): boolean {
  const ex = (q.excludedAttributes ?? '').split(',').map((s) => s.trim().toLowerCase());
  return !ex.includes('members');
}

/** Query values as strings (a repeated parameter keeps its first value). */
function queryOf(request: FastifyRequest): ListQuery {
  const q = (request.query ?? {}) as Record<string, unknown>;
  const one = (k: string) => {
    const v = Object.entries(q).find(([key]) => key.toLowerCase() === k.toLowerCase())?.[1];
    const s = Array.isArray(v) ? v[0] : v;
    return typeof s === 'string' ? s : undefined;
  };
  return {
    filter: one('filter'),
    startIndex: one('startIndex'),
    count: one('count'),
    excludedAttributes: one('excludedAttributes'),
  };
}

export function scimRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const base = `${ctx.config.publicUrl.replace(/\/$/, '')}${SCIM_PREFIX}`;
    // Okta and Entra ID send application/scim+json; parsed exactly like JSON (same limits, same refusals).
    app.addContentTypeParser(
      'application/scim+json',
      { parseAs: 'string' },
      app.getDefaultJsonParser('error', 'error'),
    );

    // After the request guard (a root hook): the caller is authenticated; here it must be a key with `scim`.
    app.addHook('onRequest', async (request) => {
      const p = request.principal;
      if (!p) return; // unknown route: the not-found handler answers
      if (p.kind !== 'api_key')
        throw new ScimError(401, 'SCIM takes an API key with scope scim as a bearer token');
      if (!(p.scopes ?? []).includes(SCOPE)) throw new ScimError(403, 'the API key lacks the scope scim');
    });

    app.setErrorHandler((err, request, reply) => {
      const e = toScimError(err);
      if (e.status >= 500 && e.status !== 503) request.log.error({ err }, 'unhandled SCIM error');
      if (e.status === 401) reply.header('www-authenticate', 'Bearer realm="scim"');
      const headers = (err as { headers?: Record<string, string> }).headers;
      if (headers) reply.headers(headers);
      return send(reply, e.status, errorBody(e));
    });
    app.setNotFoundHandler((_request, reply) => send(reply, 404, errorBody(scimNotFound('Resource'))));

    /** The caller's actor: the key, acting with its owner's (or its role's) permissions. */
    async function actorOf(request: FastifyRequest): Promise<service.ScimActor> {
      const p = request.principal!;
      const permissions = p.roleId
        ? await resolveRolePermissions(ctx, p.tenantId, p.roleId, p.permissionVersion)
        : p.userId !== null
          ? await resolveUserPermissions(ctx, p.tenantId, p.userId, p.permissionVersion)
          : new Set<string>();
      return { tenantId: p.tenantId, userId: p.userId, permissions, audit: request.auditContext() };
    }

    // ---- discovery (RFC 7644 §4) ----
    app.get('/ServiceProviderConfig', { config, schema }, async (_req, reply) =>
      send(reply, 200, serviceProviderConfig(base)),
    );
    app.get('/ResourceTypes', { config, schema }, async (_req, reply) => {
      const all = resourceTypes(base);
      return send(reply, 200, listResponse(all, all.length, 1));
    });
    app.get('/ResourceTypes/:id', { config, schema }, async (req, reply) => {
      const found = resourceTypes(base).find((r) => r.id === (req.params as { id: string }).id);
      if (!found) throw scimNotFound('ResourceType');
      return send(reply, 200, found);
    });
    app.get('/Schemas', { config, schema }, async (_req, reply) => {
      const all = schemas(base);
      return send(reply, 200, listResponse(all, all.length, 1));
    });
    app.get('/Schemas/:id', { config, schema }, async (req, reply) => {
      const found = schemas(base).find((s) => s.id === (req.params as { id: string }).id);
      if (!found) throw scimNotFound('Schema');
      return send(reply, 200, found);
    });

    // ---- users ----
    app.get('/Users', { config, schema }, async (req, reply) =>
      send(reply, 200, await service.listScimUsers(ctx, await actorOf(req), base, queryOf(req))),
    );
    app.post('/Users', { config, schema }, async (req, reply) => {
      const user = await service.createScimUser(ctx, await actorOf(req), base, req.body);
      reply.header('location', user.meta.location);
      return send(reply, 201, user);
    });
    app.get('/Users/:id', { config, schema }, async (req, reply) =>
      send(
        reply,
        200,
        await service.getScimUser(ctx, await actorOf(req), base, (req.params as { id: string }).id),
      ),
    );
    app.put('/Users/:id', { config, schema }, async (req, reply) =>
      send(
        reply,
        200,
        await service.replaceScimUser(
          ctx,
          await actorOf(req),
          base,
          (req.params as { id: string }).id,
          req.body,
        ),
      ),
    );
    app.patch('/Users/:id', { config, schema }, async (req, reply) =>
      send(
        reply,
        200,
        await service.patchScimUser(
          ctx,
          await actorOf(req),
          base,
          (req.params as { id: string }).id,
          req.body,
        ),
      ),
    );
    app.delete('/Users/:id', { config, schema }, async (req, reply) => {
      await service.deleteScimUser(ctx, await actorOf(req), (req.params as { id: string }).id);
      return reply.code(204).send();
    });

    // ---- groups (roles) ----
    app.get('/Groups', { config, schema }, async (req, reply) => {
      const q = queryOf(req);
      return send(reply, 200, await service.listScimGroups(ctx, await actorOf(req), base, q, withMembers(q)));
    });
    app.post('/Groups', { config, schema }, async (req, reply) => {
      const group = await service.createScimGroup(ctx, await actorOf(req), base, req.body);
      reply.header('location', group.meta.location);
      return send(reply, 201, group);
    });
    app.get('/Groups/:id', { config, schema }, async (req, reply) => {
      const q = queryOf(req);
      const id = (req.params as { id: string }).id;
      return send(reply, 200, await service.getScimGroup(ctx, await actorOf(req), base, id, withMembers(q)));
    });
    app.put('/Groups/:id', { config, schema }, async (req, reply) =>
      send(
        reply,
        200,
        await service.replaceScimGroup(
          ctx,
          await actorOf(req),
          base,
          (req.params as { id: string }).id,
          req.body,
        ),
      ),
    );
    app.patch('/Groups/:id', { config, schema }, async (req, reply) => {
      await service.patchScimGroup(ctx, await actorOf(req), (req.params as { id: string }).id, req.body);
      return reply.code(204).send();
    });
    app.delete('/Groups/:id', { config, schema }, async (req, reply) => {
      await service.deleteScimGroup(ctx, await actorOf(req), (req.params as { id: string }).id);
      return reply.code(204).send();
    });
  };
}
