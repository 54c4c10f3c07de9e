/**
 * /scim/v2 (API.md §17). Every route is `self` with keyScope `scim` for the request guard (so only a key holding
 * the scope passes it, `*` aside), and this plugin's own onRequest hook then refuses whatever is not an API key
 * carrying `scim` itself: a JWT is a 401, a `*` key a 403. Bodies are `application/scim+json` (or JSON), read
 * leniently by the service; every error leaves in RFC 7644's shape. Listed in the OpenAPI document by path,
 * method and summary only: SCIM is RFC 7644's contract, not ours, and its lenient bodies have no useful schema
 * (docs/scim.md describes it).
 */

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { routes } from '../../platform/http/route.js';
import { resolveRolePermissions, resolveUserPermissions } from '../rbac/index.js';
import type { ScimDeps } from './deps.js';
import { errorBody, ScimError, scimNotFound, toScimError } from './errors.js';
import { project, projectionOf } from './projection.js';
import {
  GROUP_SCHEMA,
  listResponse,
  resourceTypes,
  SCIM_CONTENT_TYPE,
  SCIM_PREFIX,
  schemas,
  serviceProviderConfig,
  USER_SCHEMA,
} from './resources.js';
import * as service from './service.js';

const SCOPE = 'scim';
/**
 * Every SCIM route: the guard's part of the check (see above), and no response schema of ours (RFC 7644 shapes
 * its bodies and errors); listed in the OpenAPI document with its summary so that clients see it exists.
 */
const scim = {
  access: 'self',
  keyScope: SCOPE,
  hide: true,
  documentedAs:
    'RFC 7644 resource or ListResponse (application/scim+json); errors in RFC 7644 §3.12 shape. ' +
    'Authenticate with an API key holding the scope scim as a bearer token (see docs/scim.md).',
} as const;

function send(reply: FastifyReply, status: number, body: unknown) {
  const version = (body as { meta?: { version?: string } } | undefined)?.meta?.version;
  if (version) reply.header('etag', version);
  return reply.code(status).type(SCIM_CONTENT_TYPE).send(body);
}

const QUERY_KEYS = [
  'filter',
  'startIndex',
  'count',
  'sortBy',
  'sortOrder',
  'attributes',
  'excludedAttributes',
] as const;

/** Query values as strings (a repeated parameter keeps its first value), names case-insensitive. */
function queryOf(request: FastifyRequest): service.ListQuery {
  const q = (request.query ?? {}) as Record<string, unknown>;
  const out: service.ListQuery = {};
  for (const k of QUERY_KEYS) {
    const v = Object.entries(q).find(([key]) => key.toLowerCase() === k.toLowerCase())?.[1];
    const s = Array.isArray(v) ? v[0] : v;
    if (typeof s === 'string') out[k] = s;
  }
  return out;
}

/**
 * A SearchRequest body (RFC 7644 §3.4.3): the query parameters as fields, `attributes` and `excludedAttributes`
 * as arrays (or comma-separated strings), `startIndex` and `count` as numbers.
 */
function searchOf(body: unknown): service.ListQuery {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ScimError(400, 'the body must be a SearchRequest object', 'invalidSyntax');
  const b = body as Record<string, unknown>;
  const out: service.ListQuery = {};
  for (const k of QUERY_KEYS) {
    const v = Object.entries(b).find(([key]) => key.toLowerCase() === k.toLowerCase())?.[1];
    if (v === undefined || v === null) continue;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[k] = v.join(',');
    else if (typeof v === 'string' || typeof v === 'number') out[k] = String(v);
    else throw new ScimError(400, `${k} has the wrong type`, 'invalidValue');
  }
  return out;
}

function ifMatchOf(request: FastifyRequest): string | undefined {
  const h = request.headers['if-match'];
  return Array.isArray(h) ? h.join(',') : h;
}

export function scimRoutes(ctx: ScimDeps): FastifyPluginAsyncTypebox {
  return routes('scim', (route, app) => {
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
    route(
      'GET /ServiceProviderConfig',
      "The service provider's configuration (RFC 7644 §5)",
      scim,
      async (_req, reply) => send(reply, 200, serviceProviderConfig(base)),
    );
    route(
      'GET /ResourceTypes',
      'The resource types served: User, Group (RFC 7644 §6)',
      scim,
      async (_req, reply) => {
        const all = resourceTypes(base);
        return send(reply, 200, listResponse(all, all.length, 1));
      },
    );
    route('GET /ResourceTypes/:id', 'One resource type', scim, async (req, reply) => {
      const found = resourceTypes(base).find((r) => r.id === (req.params as { id: string }).id);
      if (!found) throw scimNotFound('ResourceType');
      return send(reply, 200, found);
    });
    route('GET /Schemas', 'The schemas of the resources (RFC 7644 §7)', scim, async (_req, reply) => {
      const all = schemas(base);
      return send(reply, 200, listResponse(all, all.length, 1));
    });
    route('GET /Schemas/:id', 'One schema', scim, async (req, reply) => {
      const found = schemas(base).find((s) => s.id === (req.params as { id: string }).id);
      if (!found) throw scimNotFound('Schema');
      return send(reply, 200, found);
    });

    // ---- users ----
    const listUsers = async (req: FastifyRequest, q: service.ListQuery) =>
      service.listScimUsers(ctx, await actorOf(req), base, q, projectionOf(q, USER_SCHEMA));
    const listGroups = async (req: FastifyRequest, q: service.ListQuery) =>
      service.listScimGroups(ctx, await actorOf(req), base, q, projectionOf(q, GROUP_SCHEMA));
    const idOf = (req: FastifyRequest) => (req.params as { id: string }).id;
    const changeOf = async (req: FastifyRequest): Promise<service.ScimChange> => ({
      actor: await actorOf(req),
      base,
      id: idOf(req),
      body: req.body,
      ifMatch: ifMatchOf(req),
    });
    /** PUT and PATCH of one resource: the service's change, answered 200 as the client shapes it. */
    const change =
      (coreSchema: string, fn: (ctx: ScimDeps, c: service.ScimChange) => Promise<Record<string, unknown>>) =>
      async (req: FastifyRequest, reply: FastifyReply) =>
        ok(req, reply, coreSchema, await fn(ctx, await changeOf(req)));

    route(
      'GET /Users',
      'List or filter users (filter, startIndex, count, sortBy, attributes)',
      scim,
      async (req, reply) => send(reply, 200, await listUsers(req, queryOf(req))),
    );
    route('POST /Users/.search', 'Search users with a SearchRequest body', scim, async (req, reply) =>
      send(reply, 200, await listUsers(req, searchOf(req.body))),
    );
    route('POST /Users', 'Create (provision) a user', scim, async (req, reply) => {
      const user = await service.createScimUser(ctx, await actorOf(req), base, req.body);
      reply.header('location', user.meta.location);
      return send(reply, 201, projected(user, req, USER_SCHEMA));
    });
    route('GET /Users/:id', 'Read a user', scim, async (req, reply) =>
      ok(req, reply, USER_SCHEMA, await service.getScimUser(ctx, await actorOf(req), base, idOf(req))),
    );
    route(
      'PUT /Users/:id',
      'Replace a user (If-Match honoured)',
      scim,
      change(USER_SCHEMA, service.replaceScimUser),
    );
    route(
      'PATCH /Users/:id',
      'Change a user with PatchOp operations (active: false deactivates)',
      scim,
      change(USER_SCHEMA, service.patchScimUser),
    );
    route('DELETE /Users/:id', 'Deprovision a user', scim, async (req, reply) => {
      await service.deleteScimUser(ctx, await actorOf(req), idOf(req), ifMatchOf(req));
      return reply.code(204).send();
    });

    // ---- directory groups ----
    route('GET /Groups', 'List or filter directory groups', scim, async (req, reply) =>
      send(reply, 200, await listGroups(req, queryOf(req))),
    );
    route('POST /Groups/.search', 'Search groups with a SearchRequest body', scim, async (req, reply) =>
      send(reply, 200, await listGroups(req, searchOf(req.body))),
    );
    route('POST /Groups', 'Create a directory group', scim, async (req, reply) => {
      const group = await service.createScimGroup(ctx, await actorOf(req), base, req.body);
      reply.header('location', group.meta.location);
      return send(reply, 201, projected(group, req, GROUP_SCHEMA));
    });
    route('GET /Groups/:id', 'Read a group and its members', scim, async (req, reply) =>
      send(
        reply,
        200,
        await service.getScimGroup(
          ctx,
          await actorOf(req),
          base,
          idOf(req),
          projectionOf(queryOf(req), GROUP_SCHEMA),
        ),
      ),
    );
    route('PUT /Groups/:id', 'Replace a group', scim, change(GROUP_SCHEMA, service.replaceScimGroup));
    // RFC 7644 §3.5.2: 204, or 200 with the resource when the client asks for attributes.
    route(
      'PATCH /Groups/:id',
      "Change a group's name or members with PatchOp operations",
      scim,
      async (req, reply) => {
        const group = await service.patchScimGroup(ctx, await changeOf(req));
        const q = queryOf(req);
        if (q.attributes || q.excludedAttributes)
          return send(reply, 200, projected(group, req, GROUP_SCHEMA));
        reply.header('etag', group.meta.version);
        return reply.code(204).send();
      },
    );
    route('DELETE /Groups/:id', 'Delete a directory group', scim, async (req, reply) => {
      await service.deleteScimGroup(ctx, await actorOf(req), idOf(req), ifMatchOf(req));
      return reply.code(204).send();
    });

    // ---- POST /.search at the root (RFC 7644 §3.4.3): users, then groups, one list ----
    route('POST /.search', 'Search users and groups at once', scim, async (req, reply) => {
      const q = searchOf(req.body);
      const { startIndex, count } = service.pageOf(q);
      // A filter naming an attribute one resource type lacks selects nothing of that type.
      const attempt = async <T>(fn: () => Promise<T>) => {
        try {
          return await fn();
        } catch (err) {
          if (err instanceof ScimError && err.scimType === 'invalidFilter') return err;
          throw err;
        }
      };
      const users = await attempt(() =>
        listUsers(req, { ...q, startIndex: String(startIndex), count: String(count) }),
      );
      const usersTotal = users instanceof ScimError ? 0 : users.totalResults;
      const skip = Math.max(0, startIndex - 1 - usersTotal);
      const room = count - (users instanceof ScimError ? 0 : users.Resources.length);
      const groups = await attempt(() =>
        listGroups(req, { ...q, startIndex: String(skip + 1), count: String(Math.max(room, 0)) }),
      );
      if (users instanceof ScimError && groups instanceof ScimError) throw users;
      const resources = [
        ...(users instanceof ScimError ? [] : users.Resources),
        ...(groups instanceof ScimError || room <= 0 ? [] : groups.Resources),
      ];
      const total = usersTotal + (groups instanceof ScimError ? 0 : groups.totalResults);
      return send(reply, 200, listResponse(resources, total, startIndex));
    });
  });
}

/** A single resource, as `attributes`/`excludedAttributes` ask. */
function projected<T extends Record<string, unknown>>(resource: T, req: FastifyRequest, coreSchema: string) {
  return project(resource, projectionOf(queryOf(req), coreSchema)) as T;
}

/** 200 with the resource shaped by the client's `attributes` / `excludedAttributes`. */
function ok(req: FastifyRequest, reply: FastifyReply, coreSchema: string, resource: Record<string, unknown>) {
  return send(reply, 200, projected(resource, req, coreSchema));
}
