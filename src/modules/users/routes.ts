/** Users (API.md §6) and the admin view of a user's sessions (§7). Role routes of users live in the rbac module. */

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requirePrincipal, requireUser } from '../../platform/http/access.js';
import { errorResponses, IdParams, SuccessNoData } from '../../platform/http/schemas.js';
import { actorOf, auditRefusals } from '../rbac/index.js';
import {
  ListQuery,
  listSessions,
  SessionList,
  TerminateManyBody,
  TerminateResponse,
  terminatedResponse,
  terminateSessions,
} from '../sessions/index.js';
import type { UsersDeps } from './deps.js';
import {
  Profile,
  ProfileUpdate,
  UserCreate,
  UserList,
  UserListQuery,
  UserRead,
  UserReadFull,
  UserUpdate,
} from './schemas.js';
import * as service from './service.js';

const tags = ['users'];

export function userRoutes(ctx: UsersDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/me',
      {
        config: { access: 'self', keyScope: 'profile.read' },
        schema: {
          tags,
          summary: "The caller's profile",
          response: { 200: Profile, ...errorResponses(401, 404) },
        },
      },
      (req) => {
        const p = requireUser(req);
        return service.getProfile(ctx, p.tenantId, p.userId);
      },
    );

    app.put(
      '/me',
      {
        config: { access: 'self', keyScope: 'profile.write' },
        schema: {
          tags,
          summary: "Change the caller's profile",
          body: ProfileUpdate,
          response: { 200: Profile, ...errorResponses(401, 404, 422) },
        },
      },
      (req) => {
        const p = requireUser(req);
        return service.updateProfile(ctx, p.tenantId, p.userId, req.body, req.auditContext());
      },
    );

    app.get(
      '/',
      {
        config: { access: 'users.read' },
        schema: {
          tags,
          summary: 'Users of the tenant (search on email and name)',
          querystring: UserListQuery,
          response: { 200: UserList, ...errorResponses(401, 403, 422) },
        },
      },
      (req) => service.listUsers(ctx, requirePrincipal(req).tenantId, req.query),
    );

    app.post(
      '/',
      {
        config: { access: 'users.write' },
        schema: {
          tags,
          body: UserCreate,
          response: { 201: UserRead, ...errorResponses(401, 403, 409, 422) },
        },
      },
      async (req, reply) => {
        const actor = await actorOf(req);
        return reply
          .code(201)
          .send(
            await auditRefusals(ctx, actor, 'user.create', () =>
              service.createUserAsAdmin(ctx, actor, req.body),
            ),
          );
      },
    );

    app.get(
      '/:id',
      {
        config: { access: 'users.read' },
        schema: {
          tags,
          params: IdParams,
          response: { 200: UserReadFull, ...errorResponses(401, 403, 404, 422) },
        },
      },
      (req) => service.getUser(ctx, requirePrincipal(req).tenantId, req.params.id),
    );

    app.put(
      '/:id',
      {
        config: { access: 'users.write' },
        schema: {
          tags,
          params: IdParams,
          body: UserUpdate,
          response: { 200: UserReadFull, ...errorResponses(400, 401, 403, 404, 409, 422) },
        },
      },
      async (req) => {
        const actor = await actorOf(req);
        return auditRefusals(ctx, actor, 'user.update', () =>
          service.updateUser(ctx, actor, req.params.id, req.body),
        );
      },
    );

    app.delete(
      '/:id',
      {
        config: { access: 'users.delete' },
        schema: {
          tags,
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404, 409, 422) },
        },
      },
      async (req, reply) => {
        const actor = await actorOf(req);
        await auditRefusals(ctx, actor, 'user.delete', () => service.deleteUser(ctx, actor, req.params.id));
        return reply.code(204).send(null);
      },
    );

    for (const action of ['activate', 'deactivate', 'verify'] as const) {
      app.post(
        `/:id/${action}`,
        {
          config: { access: 'users.write' },
          schema: {
            tags,
            params: IdParams,
            // 409 LAST_OWNER: deactivating the tenant's last active owner.
            response: { 200: SuccessNoData, ...errorResponses(400, 401, 403, 404, 409, 422) },
          },
        },
        async (req) => {
          const actor = await actorOf(req);
          return auditRefusals(ctx, actor, `user.${action}`, () =>
            service.setFlag(ctx, actor, req.params.id, action, req.locale),
          );
        },
      );
    }

    app.get(
      '/:id/sessions',
      {
        config: { access: 'sessions.read' },
        schema: {
          tags,
          summary: "A user's sessions (admin)",
          params: IdParams,
          querystring: ListQuery,
          response: { 200: SessionList, ...errorResponses(401, 403, 404, 422) },
        },
      },
      async (req) => {
        const p = requirePrincipal(req);
        // 404 outside the tenant, 403 unless the caller dominates the user (as for every admin action on a user).
        const actor = await actorOf(req);
        await auditRefusals(ctx, actor, 'user.sessions.read', () =>
          service.assertMayManageUser(ctx, actor, req.params.id),
        );
        return listSessions(ctx, p.tenantId, req.params.id, req.query.include_inactive ?? false, p.sessionId);
      },
    );

    app.delete(
      '/:id/sessions',
      {
        config: { access: 'sessions.revoke' },
        schema: {
          tags,
          summary: "End a user's sessions (all, or the listed ones)",
          params: IdParams,
          body: Type.Optional(TerminateManyBody),
          response: { 200: TerminateResponse, ...errorResponses(401, 403, 404, 422) },
        },
      },
      async (req) => {
        const p = requirePrincipal(req);
        const actor = await actorOf(req);
        await auditRefusals(ctx, actor, 'user.sessions.revoke', () =>
          service.assertMayManageUser(ctx, actor, req.params.id),
        );
        const sessionIds = req.body?.session_ids;
        const ids = await terminateSessions(
          ctx,
          p.tenantId,
          req.params.id,
          sessionIds ? { sessionIds } : {},
          req.auditContext(),
          'admin_terminated',
        );
        return terminatedResponse(ids.length, req.locale);
      },
    );
  };
}
