import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireUser } from '../../../platform/http/access.js';
import { platformErrors } from '../../../platform/http/errors.js';
import { clientOf, routes, succeeded, TenantHeader } from '../../../platform/http/route.js';
import { SuccessNoData } from '../../../platform/http/schemas.js';
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

export function socialRoutes(ctx: SsoDeps): FastifyPluginAsyncTypebox {
  return routes('oauth', (route) => {
    const signIn = { access: 'public', rateLimit: { bucket: 'login' } } as const;

    route(
      'GET /providers',
      'The configured social login providers',
      { access: 'public', ok: ProvidersResponse, errors: [429] },
      async () => social.listProviders(ctx),
    );

    route(
      'GET /:provider/authorize',
      "Start a social sign-in (X-Tenant-ID), or with mode=link and a user's bearer token link the provider to the caller: the provider's URL and the state",
      {
        ...signIn,
        headers: TenantHeader,
        params: ProviderParams,
        query: SocialAuthorizeQuery,
        ok: SocialAuthorizeResponse,
        errors: [400, 401, 403, 404, 422, 429, 502],
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

    route(
      'GET /:provider/callback',
      "The provider's answer (code and state): tokens, the MFA step, or requires_registration with an oauth_session_token",
      {
        ...signIn,
        params: ProviderParams,
        query: CallbackQuery,
        ok: OAuthCallbackResponse,
        errors: [400, 401, 403, 404, 409, 422, 429, 502],
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

    route(
      'POST /complete-registration',
      'Create the account of a social sign-in that answered requires_registration (202: an address the provider did not verify was mailed a link; call again with verification_token)',
      {
        ...signIn,
        body: CompleteRegistrationBody,
        ok: OAuthCallbackResponse,
        accepted: OAuthCallbackResponse,
        errors: [400, 403, 404, 409, 422, 429],
      },
      async (req, reply) => {
        const r = await social.completeRegistration(ctx, req.body, clientOf(req), req.auditContext());
        return reply
          .code(r.email_verification_required ? 202 : 200)
          .header('cache-control', 'no-store')
          .send(r);
      },
    );

    route(
      'GET /accounts',
      "The caller's linked social accounts",
      { access: 'self', keyScope: null, ok: AccountsResponse, errors: [403] },
      async (req) => {
        const p = requireUser(req);
        return social.accounts(ctx, p.tenantId, p.userId);
      },
    );

    route(
      'POST /unlink',
      "Unlink the caller's account of a provider (never the last way to sign in: 409)",
      { access: 'self', keyScope: null, body: UnlinkBody, ok: SuccessNoData, errors: [403, 404, 409, 422] },
      async (req) => {
        const p = requireUser(req);
        await social.unlink(ctx, p.tenantId, p.userId, req.body.provider, req.auditContext());
        return succeeded(ssoText('oauth.unlinked', req.locale));
      },
    );
  });
}
