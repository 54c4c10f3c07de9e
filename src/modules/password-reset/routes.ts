/** `/api/v1/password-reset` (API.md §9): public routes, rate-limited per IP in the passwordReset bucket. */

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { routes, succeeded, TenantHeader } from '../../platform/http/route.js';
import { IdParams, SuccessEnvelope, SuccessNoData } from '../../platform/http/schemas.js';
import { drainBackground } from '../../platform/mail/background.js';
import { actorOf, auditRefusals } from '../rbac/index.js';
import type { PasswordResetDeps } from './deps.js';
import { resetMessage } from './errors.js';
import { ConfirmBody, RequestBody, TokenParams, ValidateResponse } from './schemas.js';
import * as reset from './service.js';

export function passwordResetRoutes(ctx: PasswordResetDeps): FastifyPluginAsyncTypebox {
  return routes('password-reset', (route, app) => {
    // Requests still being processed (token, mail) finish before the app closes.
    app.addHook('onClose', async () => drainBackground(ctx));

    const limited = { access: 'public', rateLimit: { bucket: 'passwordReset' } } as const;

    route(
      'POST /request',
      'Mail a reset link (same answer whether the address exists or not)',
      { ...limited, headers: TenantHeader, body: RequestBody, ok: SuccessNoData, errors: [400, 422, 429] },
      async (req) => {
        await reset.requestReset(ctx, req.headers['x-tenant-id'], req.body.email, req.auditContext());
        return succeeded(resetMessage('password_reset.requested', req.locale));
      },
    );

    route(
      'GET /validate/:token',
      'Is this reset token still usable?',
      {
        ...limited,
        // The token is in the URL: keep this route's request lines (info level) out of the logs.
        logLevel: 'warn',
        params: TokenParams,
        ok: ValidateResponse,
        errors: [422, 429],
      },
      async (req) => {
        const data = await reset.validateToken(ctx, req.params.token);
        const key = data.valid ? 'password_reset.token_valid' : 'password_reset.token_invalid';
        return succeeded(resetMessage(key, req.locale), data);
      },
    );

    route(
      'POST /confirm',
      'Set a new password with a reset token; ends every session',
      {
        ...limited,
        body: ConfirmBody,
        ok: SuccessEnvelope(Type.Object({ sessions_ended: Type.Integer() })),
        errors: [400, 422, 429],
      },
      async (req) => {
        const ended = await reset.confirmReset(ctx, req.body, req.auditContext());
        return succeeded(resetMessage('password_reset.done', req.locale), { sessions_ended: ended });
      },
    );
  });
}

/** `POST /api/v1/users/{id}/password-reset` (issue 20): an administrator has a reset link mailed to a user. */
export function adminResetRoutes(ctx: PasswordResetDeps): FastifyPluginAsyncTypebox {
  return routes('users', (route, app) => {
    app.addHook('onClose', async () => drainBackground(ctx));
    route(
      'POST /:id/password-reset',
      'Mail a user a password reset link (admin)',
      // 409 ACCOUNT_INACTIVE: the account is deactivated (a link would only fail).
      { access: 'users.write', params: IdParams, accepted: SuccessNoData, errors: [404, 409, 422] },
      async (req, reply) => {
        const actor = await actorOf(req);
        await auditRefusals(ctx, actor, 'user.password_reset', () =>
          reset.sendResetLinkAsAdmin(ctx, actor, req.params.id),
        );
        return reply.code(202).send(succeeded(resetMessage('password_reset.link_sent', req.locale)));
      },
    );
  });
}
