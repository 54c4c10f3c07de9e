import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { requireUser } from '../../../platform/http/access.js';
import { platformErrors } from '../../../platform/http/errors.js';
import { errorResponses, SuccessNoData } from '../../../platform/http/schemas.js';
import type { SsoDeps } from '../deps.js';
import { ssoText } from '../errors.js';
import { callbackInput, rawQueryOf, sendOutcome } from '../reply.js';
import {
  AccountsResponse,
  CallbackQuery,
  CompleteRegistrationBody,
  OAuthCallbackResponse,
  ProviderParams,
  ProvidersResponse,
  SocialAuthorizeQuery,
  SocialAuthorizeResponse,
  UnlinkBody,
} from './schemas.js';
import * as social from './service.js';

const tags = ['oauth'];
const tenantHeader = Type.Object({ 'x-tenant-id': Type.Optional(Type.String()) });

const clientOf = (req: FastifyRequest) => ({
  ip: req.ip,
  userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : null,
});

export function socialRoutes(ctx: SsoDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/providers',
      {
        config: { access: 'public' },
        schema: {
          tags,
          summary: 'The configured social login providers',
          response: { 200: ProvidersResponse, ...errorResponses(429) },
        },
      },
      async () => social.listProviders(ctx),
    );

    app.get(
      '/:provider/authorize',
      {
        config: { access: 'public', rateLimit: { bucket: 'login' } },
        schema: {
          tags,
          summary:
            "Start a social sign-in (X-Tenant-ID), or with mode=link and a user's bearer token link the provider to the caller: the provider's URL and the state",
          headers: tenantHeader,
          params: ProviderParams,
          querystring: SocialAuthorizeQuery,
          response: { 200: SocialAuthorizeResponse, ...errorResponses(400, 401, 403, 404, 422, 429, 502) },
        },
      },
      async (req) => {
        if (req.query.mode !== 'link')
          return social.authorize(ctx, req.headers['x-tenant-id'], req.params.provider);
        // Link mode: a signed-in user (never an API key) links the provider's identity to their own account.
        const p = await req.authenticate();
        if (p.kind !== 'user' || p.userId === null)
          throw platformErrors.error('UNAUTHORIZED', { reason: 'mode=link needs a user access token' });
        return social.authorize(ctx, undefined, req.params.provider, {
          tenantId: p.tenantId,
          userId: p.userId,
          sessionId: p.sessionId,
        });
      },
    );

    app.get(
      '/:provider/callback',
      {
        config: { access: 'public', rateLimit: { bucket: 'login' } },
        schema: {
          tags,
          summary:
            "The provider's answer (code and state): tokens, the MFA step, or requires_registration with an oauth_session_token",
          params: ProviderParams,
          querystring: CallbackQuery,
          response: { 200: OAuthCallbackResponse, ...errorResponses(400, 401, 403, 404, 409, 422, 429, 502) },
        },
      },
      async (req, reply) => {
        const input = callbackInput(req, {
          state: req.query.state,
          answer: rawQueryOf(req),
          target: req.params.provider,
        });
        return sendOutcome(reply, await social.callback(ctx, req.params.provider, input));
      },
    );

    app.post(
      '/complete-registration',
      {
        config: { access: 'public', rateLimit: { bucket: 'login' } },
        schema: {
          tags,
          summary:
            'Create the account of a social sign-in that answered requires_registration (202: an address the provider did not verify was mailed a link; call again with verification_token)',
          body: CompleteRegistrationBody,
          response: {
            200: OAuthCallbackResponse,
            202: OAuthCallbackResponse,
            ...errorResponses(400, 403, 404, 409, 422, 429),
          },
        },
      },
      async (req, reply) => {
        const r = await social.completeRegistration(ctx, req.body, clientOf(req), req.auditContext());
        return reply
          .code(r.email_verification_required ? 202 : 200)
          .header('cache-control', 'no-store')
          .send(r);
      },
    );

    app.get(
      '/accounts',
      {
        config: { access: 'self', keyScope: null },
        schema: {
          tags,
          summary: "The caller's linked social accounts",
          response: { 200: AccountsResponse, ...errorResponses(401, 403) },
        },
      },
      async (req) => {
        const p = requireUser(req);
        return social.accounts(ctx, p.tenantId, p.userId);
      },
    );

    app.post(
      '/unlink',
      {
        config: { access: 'self', keyScope: null },
        schema: {
          tags,
          summary: "Unlink the caller's account of a provider (never the last way to sign in: 409)",
          body: UnlinkBody,
          response: { 200: SuccessNoData, ...errorResponses(401, 403, 404, 409, 422) },
        },
      },
      async (req) => {
        const p = requireUser(req);
        await social.unlink(ctx, p.tenantId, p.userId, req.body.provider, req.auditContext());
        return { success: true, message: ssoText('oauth.unlinked', req.locale), data: null };
      },
    );
  };
}
