/** `/api/v1/password-reset` (API.md §9): public routes, rate-limited per IP in the passwordReset bucket. */

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { errorResponses, SuccessEnvelope, SuccessNoData } from '../../platform/http/schemas.js';
import { drainBackground } from '../../platform/mail/background.js';
import type { PasswordResetDeps } from './deps.js';
import { resetMessage } from './errors.js';
import { ConfirmBody, RequestBody, TokenParams, ValidateResponse } from './schemas.js';
import * as reset from './service.js';

const tenantHeader = Type.Object({ 'x-tenant-id': Type.Optional(Type.String()) });

export function passwordResetRoutes(ctx: PasswordResetDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    // Requests still being processed (token, mail) finish before the app closes.
    app.addHook('onClose', async () => drainBackground(ctx));

    app.post(
      '/request',
      {
        config: { access: 'public', rateLimit: { bucket: 'passwordReset' } },
        schema: {
          tags: ['password-reset'],
          summary: 'Mail a reset link (same answer whether the address exists or not)',
          headers: tenantHeader,
          body: RequestBody,
          response: { 200: SuccessNoData, ...errorResponses(400, 422, 429) },
        },
      },
      async (req) => {
        await reset.requestReset(ctx, req.headers['x-tenant-id'], req.body.email, req.auditContext());
        return {
          success: true,
          message: resetMessage('password_reset.requested', req.locale),
          data: null,
        };
      },
    );

    app.get(
      '/validate/:token',
      {
        // The token is in the URL: keep this route's request lines (info level) out of the logs.
        logLevel: 'warn',
        config: { access: 'public', rateLimit: { bucket: 'passwordReset' } },
        schema: {
          tags: ['password-reset'],
          summary: 'Is this reset token still usable?',
          params: TokenParams,
          response: { 200: ValidateResponse, ...errorResponses(422, 429) },
        },
      },
      async (req) => {
        const data = await reset.validateToken(ctx, req.params.token);
        return {
          success: true,
          message: resetMessage(
            data.valid ? 'password_reset.token_valid' : 'password_reset.token_invalid',
            req.locale,
          ),
          data,
        };
      },
    );

    app.post(
      '/confirm',
      {
        config: { access: 'public', rateLimit: { bucket: 'passwordReset' } },
        schema: {
          tags: ['password-reset'],
          summary: 'Set a new password with a reset token; ends every session',
          body: ConfirmBody,
          response: {
            200: SuccessEnvelope(Type.Object({ sessions_ended: Type.Integer() })),
            ...errorResponses(400, 422, 429),
          },
        },
      },
      async (req) => {
        const ended = await reset.confirmReset(ctx, req.body, req.auditContext());
        return {
          success: true,
          message: resetMessage('password_reset.done', req.locale),
          data: { sessions_ended: ended },
        };
      },
    );
  };
}
