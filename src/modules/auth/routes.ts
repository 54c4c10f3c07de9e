import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requireUser } from '../../platform/http/access.js';
import type { Locale } from '../../platform/http/messages.js';
import { clientOf, routes, succeeded, TenantHeader } from '../../platform/http/route.js';
import { SuccessEnvelope } from '../../platform/http/schemas.js';
import type { AuthDeps } from './deps.js';
import { authMessage } from './errors.js';
import { type LoginResponse as LoginResult, login } from './login.js';
import {
  ChangePasswordBody,
  LoginBody,
  LoginResponse,
  LogoutBody,
  MeResponse,
  RefreshBody,
  RegisterBody,
  TokenResponse,
  UserRead,
} from './schemas.js';
import * as auth from './service.js';

/** What logout and a password change answer: how many sessions they ended. */
const SessionsEnded = SuccessEnvelope(Type.Object({ sessions_ended: Type.Integer() }));

/** A sign-in answer with its message in the caller's language. */
export function localised(r: LoginResult, locale: Locale) {
  return { ...r, message: authMessage(r.message, locale) };
}

export function authRoutes(ctx: AuthDeps): FastifyPluginAsyncTypebox {
  return routes('auth', (route) => {
    route(
      'POST /login',
      'Sign in with email and password',
      {
        access: 'public',
        rateLimit: { bucket: 'login' },
        headers: TenantHeader,
        body: LoginBody,
        ok: LoginResponse,
        errors: [400, 401, 422, 423, 429],
      },
      async (req) =>
        localised(
          await login(ctx, req.headers['x-tenant-id'], req.body, clientOf(req), req.auditContext()),
          req.locale,
        ),
    );

    route(
      'POST /register',
      'Self-registration (when the tenant allows it)',
      {
        access: 'public',
        rateLimit: { bucket: 'login' },
        headers: TenantHeader,
        body: RegisterBody,
        created: UserRead,
        errors: [400, 403, 409, 422],
      },
      (req) => auth.register(ctx, req.headers['x-tenant-id'], req.body, req.auditContext()),
    );

    route(
      'POST /refresh',
      'Rotate the refresh token',
      {
        access: 'public',
        rateLimit: { bucket: 'refresh' },
        body: RefreshBody,
        ok: TokenResponse,
        errors: [401, 403, 422],
      },
      (req) => auth.refresh(ctx, req.body.refresh_token, req.auditContext()),
    );

    // Not for API keys: a key has no session to end, and ending its owner's sessions is the owner's act.
    route(
      'POST /logout',
      'End the current session (and optionally others)',
      { access: 'self', keyScope: null, body: Type.Optional(LogoutBody), ok: SessionsEnded, errors: [422] },
      async (req) => {
        const ended = await auth.logout(ctx, requireUser(req), req.body ?? {}, req.auditContext());
        return succeeded(authMessage('auth.logged_out', req.locale), { sessions_ended: ended });
      },
    );

    route(
      'GET /me',
      'The authenticated caller',
      { access: 'self', keyScope: 'profile.read', ok: MeResponse },
      (req) => auth.me(ctx, requireUser(req)),
    );

    route(
      'POST /change-password',
      "Change the caller's password; ends their other sessions",
      { access: 'self', keyScope: null, body: ChangePasswordBody, ok: SessionsEnded, errors: [400, 422] },
      async (req) => {
        const ended = await auth.changePassword(ctx, requireUser(req), req.body, req.auditContext());
        return succeeded(authMessage('auth.password_changed', req.locale), { sessions_ended: ended });
      },
    );

    route(
      'POST /verify-token',
      'Check that the bearer token is valid',
      {
        access: 'self',
        keyScope: 'profile.read',
        ok: SuccessEnvelope(Type.Object({ user_id: Type.Integer(), valid: Type.Boolean() })),
      },
      async (req) =>
        succeeded(authMessage('auth.token_valid', req.locale), {
          user_id: requireUser(req).userId,
          valid: true,
        }),
    );
  });
}
