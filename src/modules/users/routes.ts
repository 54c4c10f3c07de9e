/** Users (API.md §6) and the admin view of a user's sessions (§7). Role routes of users live in the rbac module. */

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requirePrincipal, requireUser } from '../../platform/http/access.js';
import { BulkResult, eachId } from '../../platform/http/bulk.js';
import { routes } from '../../platform/http/route.js';
import { IdParams, IntId, SuccessNoData, Uuid } from '../../platform/http/schemas.js';
import { actorOf, auditRefusals } from '../rbac/index.js';
import {
  ListQuery,
  listSessions,
  SessionList,
  TerminateManyBody,
  TerminateResponse,
  terminatedResponse,
  terminateSessions,
  terminateUserSession,
} from '../sessions/index.js';
import type { UsersDeps } from './deps.js';
import {
  BulkDeactivateBody,
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

export function userRoutes(ctx: UsersDeps): FastifyPluginAsyncTypebox {
  return routes('users', (route) => {
    route(
      'GET /me',
      "The caller's profile",
      { access: 'self', keyScope: 'profile.read', ok: Profile, errors: [404] },
      (req) => {
        const p = requireUser(req);
        return service.getProfile(ctx, p.tenantId, p.userId);
      },
    );

    route(
      'PUT /me',
      "Change the caller's profile",
      { access: 'self', keyScope: 'profile.write', body: ProfileUpdate, ok: Profile, errors: [404, 422] },
      (req) => {
        const p = requireUser(req);
        return service.updateProfile(ctx, p.tenantId, p.userId, req.body, req.auditContext());
      },
    );

    route(
      'GET /',
      'Users of the tenant (search on email and name)',
      { access: 'users.read', query: UserListQuery, ok: UserList, errors: [422] },
      (req) => service.listUsers(ctx, requirePrincipal(req).tenantId, req.query),
    );

    route(
      'POST /',
      { access: 'users.write', body: UserCreate, created: UserRead, errors: [409, 422] },
      async (req) => {
        const actor = await actorOf(req);
        return auditRefusals(ctx, actor, 'user.create', () =>
          service.createUserAsAdmin(ctx, actor, req.body),
        );
      },
    );

    route(
      'POST /bulk/deactivate',
      'Deactivate several users (each as POST /users/{id}/deactivate; results per user)',
      { access: 'users.write', body: BulkDeactivateBody, ok: BulkResult, errors: [422] },
      async (req) => {
        const actor = await actorOf(req);
        return eachId(req, req.body.user_ids, (id) =>
          auditRefusals(ctx, actor, 'user.deactivate', () =>
            service.setFlag(ctx, actor, id, 'deactivate', req.locale),
          ),
        );
      },
    );

    route(
      'GET /:id',
      { access: 'users.read', params: IdParams, ok: UserReadFull, errors: [404, 422] },
      (req) => service.getUser(ctx, requirePrincipal(req).tenantId, req.params.id),
    );

    route(
      'PUT /:id',
      {
        access: 'users.write',
        params: IdParams,
        body: UserUpdate,
        ok: UserReadFull,
        errors: [400, 404, 409, 422],
      },
      async (req) => {
        const actor = await actorOf(req);
        return auditRefusals(ctx, actor, 'user.update', () =>
          service.updateUser(ctx, actor, req.params.id, req.body),
        );
      },
    );

    route(
      'DELETE /:id',
      { access: 'users.delete', params: IdParams, noContent: true, errors: [400, 404, 409, 422] },
      async (req) => {
        const actor = await actorOf(req);
        await auditRefusals(ctx, actor, 'user.delete', () => service.deleteUser(ctx, actor, req.params.id));
      },
    );

    for (const action of ['activate', 'deactivate', 'verify'] as const) {
      // 409 LAST_OWNER: deactivating the tenant's last active owner.
      route(
        `POST /:id/${action}`,
        { access: 'users.write', params: IdParams, ok: SuccessNoData, errors: [400, 404, 409, 422] },
        async (req) => {
          const actor = await actorOf(req);
          return auditRefusals(ctx, actor, `user.${action}`, () =>
            service.setFlag(ctx, actor, req.params.id, action, req.locale),
          );
        },
      );
    }

    route(
      'GET /:id/sessions',
      "A user's sessions (admin)",
      { access: 'sessions.read', params: IdParams, query: ListQuery, ok: SessionList, errors: [404, 422] },
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

    route(
      'DELETE /:id/sessions/:session_id',
      'End one session of a user (admin)',
      {
        access: 'sessions.revoke',
        params: Type.Object({ id: IntId, session_id: Uuid }),
        ok: TerminateResponse,
        errors: [400, 404, 422],
      },
      async (req) => {
        const actor = await actorOf(req);
        // 404 outside the tenant, 403 unless the caller dominates the user; then 404 unless the session is theirs.
        await auditRefusals(ctx, actor, 'user.sessions.revoke', () =>
          service.assertMayManageUser(ctx, actor, req.params.id),
        );
        return terminateUserSession(
          ctx,
          actor.tenantId,
          req.params.id,
          req.params.session_id,
          req.auditContext(),
          req.locale,
          'admin_terminated',
        );
      },
    );

    route(
      'DELETE /:id/sessions',
      "End a user's sessions (all, or the listed ones)",
      {
        access: 'sessions.revoke',
        params: IdParams,
        body: Type.Optional(TerminateManyBody),
        ok: TerminateResponse,
        errors: [404, 422],
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
  });
}
