/** The MFA step of sign-in, mounted under /api/v1/auth (API.md §5): public, X-Tenant-ID, the `mfa` rate limit. */

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { errorResponses } from '../../platform/http/schemas.js';
import { TokenResponse } from '../auth/index.js';
import type { MfaDeps } from './deps.js';
import { loginMfa, loginWebauthnOptions } from './login.js';
import { LoginMfaBody, LoginWebauthnOptionsBody, WebauthnOptions } from './schemas.js';

const tenantHeader = Type.Object({ 'x-tenant-id': Type.Optional(Type.String()) });

export function mfaLoginRoutes(ctx: MfaDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/login/mfa',
      {
        config: { access: 'public', rateLimit: { bucket: 'mfa' } },
        schema: {
          tags: ['auth'],
          summary: 'Second sign-in step: a TOTP code, a recovery code or a WebAuthn assertion',
          headers: tenantHeader,
          body: LoginMfaBody,
          response: { 200: TokenResponse, ...errorResponses(400, 401, 403, 422, 429) },
        },
      },
      (req) =>
        loginMfa(
          ctx,
          req.headers['x-tenant-id'],
          req.body,
          {
            ip: req.ip,
            userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : null,
          },
          req.auditContext(),
        ),
    );

    app.post(
      '/login/mfa/webauthn/options',
      {
        config: { access: 'public', rateLimit: { bucket: 'mfa' } },
        schema: {
          tags: ['auth'],
          summary: 'WebAuthn challenge for the second sign-in step',
          headers: tenantHeader,
          body: LoginWebauthnOptionsBody,
          response: { 200: WebauthnOptions, ...errorResponses(400, 401, 422, 429) },
        },
      },
      (req) => loginWebauthnOptions(ctx, req.headers['x-tenant-id'], req.body.mfa_session_token),
    );
  };
}
