/** The MFA step of sign-in, mounted under /api/v1/auth (API.md §5): public, X-Tenant-ID, the `mfa` rate limit. */

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { clientOf, routes, TenantHeader } from '../../platform/http/route.js';
import { TokenResponse } from '../auth/index.js';
import type { MfaDeps } from './deps.js';
import { loginMfa, loginWebauthnOptions } from './login.js';
import { LoginMfaBody, LoginWebauthnOptionsBody, WebauthnOptions } from './schemas.js';

export function mfaLoginRoutes(ctx: MfaDeps): FastifyPluginAsyncTypebox {
  return routes('auth', (route) => {
    route(
      'POST /login/mfa',
      'Second sign-in step: a TOTP code, a recovery code or a WebAuthn assertion',
      {
        access: 'public',
        rateLimit: { bucket: 'mfa' },
        headers: TenantHeader,
        body: LoginMfaBody,
        ok: TokenResponse,
        errors: [400, 401, 403, 422, 429],
      },
      (req) => loginMfa(ctx, req.headers['x-tenant-id'], req.body, clientOf(req), req.auditContext()),
    );

    route(
      'POST /login/mfa/webauthn/options',
      'WebAuthn challenge for the second sign-in step',
      {
        access: 'public',
        rateLimit: { bucket: 'mfa' },
        headers: TenantHeader,
        body: LoginWebauthnOptionsBody,
        ok: WebauthnOptions,
        errors: [400, 401, 422, 429],
      },
      (req) => loginWebauthnOptions(ctx, req.headers['x-tenant-id'], req.body.mfa_session_token),
    );
  });
}
