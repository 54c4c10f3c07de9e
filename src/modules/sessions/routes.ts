/** The caller's own sessions (API.md §7). Admin access to other users' sessions lives in the users module. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requireUser } from '../../platform/http/access.js';
import { routes } from '../../platform/http/route.js';
import { UuidParams } from '../../platform/http/schemas.js';
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
  return routes('sessions', (route) => {
    route(
      'GET /',
      "The caller's sessions, newest first",
      { access: 'self', keyScope: 'sessions.self', query: ListQuery, ok: SessionList },
      (req) => {
        const p = requireUser(req);
        return listSessions(ctx, p.tenantId, p.userId, req.query.include_inactive ?? false, p.sessionId);
      },
    );

    route(
      'GET /:id',
      { access: 'self', keyScope: 'sessions.self', params: UuidParams, ok: SessionRead, errors: [404, 422] },
      (req) => getOwnSession(ctx, requireUser(req), req.params.id),
    );

    // Ending sessions is never open to keys (keyScope null): for a key every session is "another session".
    route(
      'DELETE /:id',
      { access: 'self', keyScope: null, params: UuidParams, ok: TerminateResponse, errors: [400, 404, 422] },
      (req) => terminateOwnSession(ctx, requireUser(req), req.params.id, req.auditContext(), req.locale),
    );

    route(
      'DELETE /',
      'End the listed sessions, or all but the current one',
      {
        access: 'self',
        keyScope: null,
        body: Type.Optional(TerminateManyBody),
        ok: TerminateResponse,
        errors: [422],
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
  });
}
