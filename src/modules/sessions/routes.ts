/** The caller's own sessions (API.md §7). Admin access to other users' sessions lives in the users module. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { writeAudit } from '../../platform/audit/writer.js';
import type { AppContext } from '../../platform/context.js';
import { requireUser } from '../../platform/http/access.js';
import { badRequest, notFound } from '../../platform/http/errors.js';
import { errorResponses, UuidParams } from '../../platform/http/schemas.js';
import * as repo from './repository.js';
import { ListQuery, SessionList, SessionRead, TerminateManyBody, TerminateResponse } from './schemas.js';
import { isSessionActive, publishRevocations, toSessionRead } from './service.js';

/** Lists a user's sessions; shared with the admin route GET /users/{id}/sessions. */
export async function listSessions(
  ctx: AppContext,
  tenantId: number,
  userId: number,
  includeInactive: boolean,
  currentSessionId: string | null,
) {
  const rows = await ctx.database.withTenant(tenantId, (tx) =>
    repo.listUserSessions(tx, tenantId, userId, includeInactive),
  );
  const sessions = rows.map((s) => toSessionRead(s, currentSessionId));
  return { sessions, total: sessions.length, active_count: sessions.filter((s) => s.is_active).length };
}

/** Ends sessions of a user and publishes the revocation; shared with the admin routes. */
export async function terminateSessions(
  ctx: AppContext,
  tenantId: number,
  userId: number,
  filter: { sessionIds?: string[]; exceptSessionId?: string | null },
  audit: ReturnType<import('fastify').FastifyRequest['auditContext']>,
  reason: string,
) {
  const ids = await ctx.database.withTenant(tenantId, async (tx) => {
    const revoked = await repo.revokeSessions(tx, tenantId, { userId, ...filter }, reason);
    await writeAudit(tx, tenantId, audit, {
      eventType: 'session.terminated',
      resourceType: 'user',
      resourceId: userId,
      metadata: { session_ids: revoked, reason },
    });
    return revoked;
  });
  await publishRevocations(ctx, ids);
  return ids;
}

export function sessionRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/',
      {
        config: { access: 'self', keyScope: 'sessions.self' },
        schema: {
          tags: ['sessions'],
          summary: "The caller's sessions, newest first",
          querystring: ListQuery,
          response: { 200: SessionList, ...errorResponses(401) },
        },
      },
      (req) => {
        const p = requireUser(req);
        return listSessions(ctx, p.tenantId, p.userId, req.query.include_inactive ?? false, p.sessionId);
      },
    );

    app.get(
      '/:id',
      {
        config: { access: 'self', keyScope: 'sessions.self' },
        schema: {
          tags: ['sessions'],
          params: UuidParams,
          response: { 200: SessionRead, ...errorResponses(401, 404, 422) },
        },
      },
      async (req) => {
        const p = requireUser(req);
        const s = await ctx.database.withTenant(p.tenantId, (tx) =>
          repo.findSession(tx, p.tenantId, req.params.id),
        );
        if (!s || s.userId !== p.userId) throw notFound('session');
        return toSessionRead(s, p.sessionId);
      },
    );

    // Ending sessions is never open to keys (keyScope null): for a key every session is "another session".
    app.delete(
      '/:id',
      {
        config: { access: 'self', keyScope: null },
        schema: {
          tags: ['sessions'],
          params: UuidParams,
          response: { 200: TerminateResponse, ...errorResponses(400, 401, 404, 422) },
        },
      },
      async (req) => {
        const p = requireUser(req);
        const s = await ctx.database.withTenant(p.tenantId, (tx) =>
          repo.findSession(tx, p.tenantId, req.params.id),
        );
        if (!s || s.userId !== p.userId) throw notFound('session');
        if (!isSessionActive(s))
          throw badRequest('BAD_REQUEST', { reason: 'session_already_ended' }, 'Session déjà terminée');
        const ids = await terminateSessions(
          ctx,
          p.tenantId,
          p.userId,
          { sessionIds: [s.id] },
          req.auditContext(),
          'user_terminated',
        );
        return { terminated_count: ids.length, message: 'Session terminée' };
      },
    );

    app.delete(
      '/',
      {
        config: { access: 'self', keyScope: null },
        schema: {
          tags: ['sessions'],
          summary: 'End the listed sessions, or all but the current one',
          body: Type.Optional(TerminateManyBody),
          response: { 200: TerminateResponse, ...errorResponses(401, 422) },
        },
      },
      async (req) => {
        const p = requireUser(req);
        const sessionIds = req.body?.session_ids;
        const ids = await terminateSessions(
          ctx,
          p.tenantId,
          p.userId,
          sessionIds ? { sessionIds } : { exceptSessionId: p.sessionId },
          req.auditContext(),
          'user_terminated',
        );
        return { terminated_count: ids.length, message: `${ids.length} session(s) terminée(s)` };
      },
    );
  };
}
