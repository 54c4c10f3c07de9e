/** The caller's own sessions (API.md §7). Admin access to other users' sessions lives in the users module. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requireUser } from '../../platform/http/access.js';
import { errorResponses, UuidParams } from '../../platform/http/schemas.js';
import type { SessionsDeps } from './deps.js';
import { ListQuery, SessionList, SessionRead, TerminateManyBody, TerminateResponse } from './schemas.js';
import {
  getOwnSession,
  listSessions,
  terminatedResponse,
  terminateOwnSession,
  terminateSessions,
} from './service.js';

export function sessionRoutes(ctx: SessionsDeps): FastifyPluginAsyncTypebox {
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
      (req) => getOwnSession(ctx, requireUser(req), req.params.id),
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
      (req) => terminateOwnSession(ctx, requireUser(req), req.params.id, req.auditContext(), req.locale),
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
        return terminatedResponse(ids.length, req.locale);
      },
    );
  };
}
