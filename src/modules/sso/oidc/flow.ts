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
import type { AppContext } from '../../../platform/context.js';
import { errorResponses } from '../../../platform/http/schemas.js';
import { ssoError } from '../errors.js';
import { type SsoFlow, takeFlowState, usedFlowState } from '../flows.js';
import { finishSsoFlow } from '../identities.js';
import * as repo from '../repository.js';
import { ConnectionParams, OidcCallbackQuery } from '../schemas.js';
import { connectionForFlow, oidcCallbackUrl, openClientSecret } from '../service.js';
import { auditSignInFailure, failFlow } from '../signin.js';
import type { ConnectionRow } from '../tables.js';
import {
  beginAuthorization,
  finishAuthorization,
  type PendingAuthorization,
  type RelyingPartySettings,
} from './relying-party.js';

function settingsOf(ctx: AppContext, c: ConnectionRow): RelyingPartySettings {
  return {
    issuer: c.oidcIssuer!,
    clientId: c.oidcClientId!,
    clientSecret: openClientSecret(ctx, c),
    redirectUri: oidcCallbackUrl(ctx.config.publicUrl, c.id),
  };
}

/** An AppError whose reason (for the audit record, not the client) says which check failed. */
function refusal(reason: string) {
  const err = ssoError('SSO_STATE_INVALID');
  Object.defineProperty(err, 'reason', { value: reason, enumerable: false });
  return err;
}

function callbackRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
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
        const { state } = req.query;
        const flow = await takeFlowState(ctx, state);
        if (!flow) {
          // A replayed state is known (and audited in its tenant); an unknown one has no tenant to audit in.
          const used = await usedFlowState(ctx, state);
          return failFlow(
            ctx,
            req,
            reply,
            used,
            ssoError('SSO_STATE_INVALID', used ? { reason: 'replayed' } : undefined),
          );
        }
        try {
          if (flow.type !== 'oidc') throw refusal('state of a non-OIDC flow');
          if (flow.connectionId !== req.params.id) {
            // A state of another connection's flow (IdP mix-up): this IdP's code is never redeemed, by either
            // connection. The flow's tenant gets the record through failFlow; the tenant whose callback was
            // used gets one too, since the attempt targets its users.
            const target = await ctx.database.withSystem((tx) =>
              repo.findConnectionAnyTenant(tx, req.params.id),
            );
            if (target && target.tenantId !== flow.tenantId)
              await auditSignInFailure(ctx, target.tenantId, req.auditContext(), {
                connectionId: target.id,
                code: 'SSO_STATE_INVALID',
                reason: "callback received the state of another tenant's flow (IdP mix-up)",
              });
            throw refusal(
              `callback of connection ${req.params.id} received the state of another connection's flow`,
            );
          }
          const connection = await connectionForFlow(ctx, flow.tenantId, flow.connectionId);
          if (connection?.type !== 'oidc') throw ssoError('SSO_STATE_INVALID');
          if (!connection.enabled) throw ssoError('SSO_CONNECTION_DISABLED');
          const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '';
          const identity = await finishAuthorization(ctx, settingsOf(ctx, connection), query, {
            ...(flow.data as unknown as PendingAuthorization),
            state: state!,
          });
          // The connection's configured issuer is the only one it accepts (the library checked the ID token's).
          if (identity.issuer !== connection.oidcIssuer) throw ssoError('SSO_ISSUER_MISMATCH');
          // Link mode ends in a link to the caller (no code); otherwise the sign-in's one-time code.
          return await finishSsoFlow(ctx, req, reply, flow, {
            tenantId: flow.tenantId,
            source: { kind: 'connection', connection },
            issuer: identity.issuer,
            subject: identity.subject,
            email: identity.email,
            emailVerified: identity.emailVerified,
            givenName: identity.givenName ?? identity.name,
            familyName: identity.familyName,
            mfaAsserted: identity.mfaAsserted,
          });
        } catch (err) {
          return failFlow(ctx, req, reply, flow, err);
        }
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
