/**
 * Enterprise OIDC connections: the SsoFlow of type 'oidc' (authorize) and the callback route
 * GET /api/v1/sso/oidc/callback/{connection id}, which the identity provider redirects the browser to (PUBLIC_URL +
 * that path is the redirect URI to register there, shown as the connection's oidc.callback_url). One callback per
 * connection: the connection that redeems a code is the one the IdP sent it to, and a state of another
 * connection's flow is refused there before any token request (IdP mix-up, RFC 9700 §4.4). There is no shared
 * callback: /api/v1/sso/oidc/callback alone is an unknown route (404). The relying party itself is
 * ./relying-party.ts (shared with social login).
 */

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorResponses } from '../../../platform/http/schemas.js';
import { enterpriseCompletion, refusal, runCallback, type VerifyStrategy } from '../callback.js';
import type { SsoDeps } from '../deps.js';
import { ssoError } from '../errors.js';
import type { SsoFlow } from '../flows.js';
import { callbackInput, rawQueryOf, sendOutcome } from '../reply.js';
import * as repo from '../repository.js';
import { ConnectionParams, OidcCallbackQuery } from '../schemas.js';
import { connectionForFlow, oidcCallbackUrl, openClientSecret } from '../service.js';
import { auditSignInFailure, verifiedIdentity } from '../signin.js';
import type { ConnectionRow } from '../tables.js';
import {
  beginAuthorization,
  finishAuthorization,
  type PendingAuthorization,
  type RelyingPartySettings,
} from './relying-party.js';

function settingsOf(ctx: SsoDeps, c: ConnectionRow): RelyingPartySettings {
  return {
    issuer: c.oidcIssuer!,
    clientId: c.oidcClientId!,
    clientSecret: openClientSecret(ctx, c),
    redirectUri: oidcCallbackUrl(ctx.config.publicUrl, c.id),
  };
}

/** The verify strategy of enterprise OIDC: the callback's connection redeems the code with the flow's PKCE. */
export const oidcStrategy: VerifyStrategy = {
  type: 'oidc',
  completion: enterpriseCompletion,
  foreignFlow: () => refusal(ssoError('SSO_STATE_INVALID'), 'state of a non-OIDC flow'),
  async verify(ctx, flow, input) {
    if (flow.connectionId !== input.target) {
      // A state of another connection's flow (IdP mix-up): this IdP's code is never redeemed, by either
      // connection. The flow's tenant gets the record through the failure; the tenant whose callback was used
      // gets one too, since the attempt targets its users.
      const target = await ctx.database.withSystem((tx) => repo.findConnectionAnyTenant(tx, input.target!));
      if (target && target.tenantId !== flow.tenantId)
        await auditSignInFailure(ctx, target.tenantId, input.audit, {
          connectionId: target.id,
          code: 'SSO_STATE_INVALID',
          reason: "callback received the state of another tenant's flow (IdP mix-up)",
        });
      throw refusal(
        ssoError('SSO_STATE_INVALID'),
        `callback of connection ${input.target} received the state of another connection's flow`,
      );
    }
    const connection = await connectionForFlow(ctx, flow.tenantId, flow.connectionId);
    if (connection?.type !== 'oidc') throw ssoError('SSO_STATE_INVALID');
    // A connection test may try a connection that is not enabled yet.
    if (!connection.enabled && !flow.test) throw ssoError('SSO_CONNECTION_DISABLED');
    const identity = await finishAuthorization(ctx, settingsOf(ctx, connection), input.answer, {
      ...(flow.data as unknown as PendingAuthorization),
      state: input.state!,
    });
    // The connection's configured issuer is the only one it accepts (the library checked the ID token's).
    if (identity.issuer !== connection.oidcIssuer) throw ssoError('SSO_ISSUER_MISMATCH');
    return verifiedIdentity(
      flow.tenantId,
      { kind: 'connection', connection },
      { ...identity, givenName: identity.givenName ?? identity.name },
    );
  },
};

function callbackRoutes(ctx: SsoDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/oidc/callback/:id',
      {
        config: { access: 'public', rateLimit: { bucket: 'login' } },
        schema: {
          tags: ['sso'],
          summary:
            "A connection's callback (its redirect URI at the identity provider): redirects to the flow's redirect_uri with ?code= (or ?error=<CODE>)",
          params: ConnectionParams,
          querystring: OidcCallbackQuery,
          response: { ...errorResponses(400, 401, 403, 409, 422, 429, 502) },
        },
      },
      async (req, reply) => {
        const input = callbackInput(req, {
          state: req.query.state,
          answer: rawQueryOf(req),
          target: req.params.id,
        });
        return sendOutcome(reply, await runCallback(ctx, oidcStrategy, input));
      },
    );
  };
}

export const oidcFlow: SsoFlow = {
  type: 'oidc',
  async authorize(ctx, { connection, state }) {
    const { authUrl, pending } = await beginAuthorization(ctx, settingsOf(ctx, connection), state);
    return { authUrl, data: { ...pending } };
  },
  routes: callbackRoutes,
};
