import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requireUser } from '../../platform/http/access.js';
import type { Locale } from '../../platform/http/messages.js';
import { errorResponses, SuccessEnvelope } from '../../platform/http/schemas.js';
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

const tenantHeader = Type.Object({ 'x-tenant-id': Type.Optional(Type.String()) });

/** A sign-in answer with its message in the caller's language. */
export function localised(r: LoginResult, locale: Locale) {
  return { ...r, message: authMessage(r.message, locale) };
}

export function authRoutes(ctx: AuthDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    const client = (req: { ip: string; headers: Record<string, unknown> }) => ({
      ip: req.ip,
      userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : null,
    });

    app.post(
      '/login',
      {
        config: { access: 'public', rateLimit: { bucket: 'login' } },
        schema: {
          tags: ['auth'],
          summary: 'Sign in with email and password',
          headers: tenantHeader,
          body: LoginBody,
          response: { 200: LoginResponse, ...errorResponses(400, 401, 422, 423, 429) },
        },
      },
      async (req) =>
        localised(
          await login(ctx, req.headers['x-tenant-id'], req.body, client(req), req.auditContext()),
          req.locale,
        ),
    );

    app.post(
      '/register',
      {
        config: { access: 'public', rateLimit: { bucket: 'login' } },
        schema: {
          tags: ['auth'],
          summary: 'Self-registration (when the tenant allows it)',
          headers: tenantHeader,
          body: RegisterBody,
          response: { 201: UserRead, ...errorResponses(400, 403, 409, 422) },
        },
      },
      async (req, reply) =>
        reply
          .code(201)
          .send(await auth.register(ctx, req.headers['x-tenant-id'], req.body, req.auditContext())),
    );

    app.post(
      '/refresh',
      {
        config: { access: 'public', rateLimit: { bucket: 'refresh' } },
        schema: {
          tags: ['auth'],
          summary: 'Rotate the refresh token',
          body: RefreshBody,
          response: { 200: TokenResponse, ...errorResponses(401, 403, 422) },
        },
      },
      (req) => auth.refresh(ctx, req.body.refresh_token, req.auditContext()),
    );

    // Not for API keys: a key has no session to end, and ending its owner's sessions is the owner's act.
    app.post(
      '/logout',
      {
        config: { access: 'self', keyScope: null },
        schema: {
          tags: ['auth'],
          summary: 'End the current session (and optionally others)',
          body: Type.Optional(LogoutBody),
          response: {
            200: SuccessEnvelope(Type.Object({ sessions_ended: Type.Integer() })),
            ...errorResponses(401, 422),
          },
        },
      },
      async (req) => {
        const p = requireUser(req);
        const ended = await auth.logout(ctx, p, req.body ?? {}, req.auditContext());
        return {
          success: true,
          message: authMessage('auth.logged_out', req.locale),
          data: { sessions_ended: ended },
        };
      },
    );

    app.get(
      '/me',
      {
        config: { access: 'self', keyScope: 'profile.read' },
        schema: {
          tags: ['auth'],
          summary: 'The authenticated caller',
          response: { 200: MeResponse, ...errorResponses(401) },
        },
      },
      (req) => auth.me(ctx, requireUser(req)),
    );

    app.post(
      '/change-password',
      {
        config: { access: 'self', keyScope: null },
        schema: {
          tags: ['auth'],
          summary: "Change the caller's password; ends their other sessions",
          body: ChangePasswordBody,
          response: {
            200: SuccessEnvelope(Type.Object({ sessions_ended: Type.Integer() })),
            ...errorResponses(400, 401, 422),
          },
        },
      },
      async (req) => {
        const ended = await auth.changePassword(ctx, requireUser(req), req.body, req.auditContext());
        return {
          success: true,
          message: authMessage('auth.password_changed', req.locale),
          data: { sessions_ended: ended },
        };
      },
    );

    app.post(
      '/verify-token',
      {
        config: { access: 'self', keyScope: 'profile.read' },
        schema: {
          tags: ['auth'],
          summary: 'Check that the bearer token is valid',
          response: {
            200: SuccessEnvelope(Type.Object({ user_id: Type.Integer(), valid: Type.Boolean() })),
            ...errorResponses(401),
          },
        },
      },
      async (req) => ({
        success: true,
        message: authMessage('auth.token_valid', req.locale),
        data: { user_id: requireUser(req).userId, valid: true },
      }),
    );
  };
}
