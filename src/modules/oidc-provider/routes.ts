/**
 * `/oidc/{tenant slug}`: each tenant's OpenID Provider (API.md §22). The protocol endpoints (discovery, JWKS,
 * authorization, token, userinfo, introspection, revocation, end session) are the library's, handed the raw
 * request; the interaction endpoints below are ours: the console's sign-in page (`/admin/authorize`) reads what
 * the relying party asks, signs the user in with the console's own sign-in (so every rule of /auth/login holds:
 * lockout, MFA, passkeys, sso_required through the tenant's connection) and hands the resulting session to the
 * provider, then asks for consent.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { writeAudit } from '../../platform/audit/writer.js';
import { notFound, platformErrors } from '../../platform/http/errors.js';
import { routes } from '../../platform/http/route.js';
import { securityHeaders } from '../../platform/http/security-headers.js';
import { getSession } from '../sessions/index.js';
import { ambientTx } from './adapter.js';
import type { OidcProviderDeps } from './deps.js';
import { oidcProviderErrors } from './errors.js';
import type { ProviderEntry, ProviderRegistry } from './registry.js';

const Params = Type.Object({
  slug: Type.String({ maxLength: 63 }),
  uid: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
});
const Redirect = Type.Object({ redirect_to: Type.String() });
const Details = Type.Object({
  uid: Type.String(),
  prompt: Type.String(),
  tenant: Type.Object({ slug: Type.String(), name: Type.String() }),
  client: Type.Object({ client_id: Type.String(), name: Type.String(), first_party: Type.Boolean() }),
  scopes: Type.Array(Type.String()),
  login_hint: Type.Union([Type.String(), Type.Null()]),
  fresh_login_required: Type.Boolean(),
});

/** Clock skew allowed between the interaction's start and a sign-in made for it. */
const FRESH_SKEW_MS = 5000;
/** Prompt reasons that a session the user already has cannot satisfy: they must sign in again. */
const FRESH_LOGIN_REASONS = new Set([
  'login_prompt',
  'max_age',
  'essential_acr',
  'essential_acrs',
  'id_token_hint',
]);

/** Largest body a protocol endpoint reads (a request object or a client assertion fits many times over). */
const PROTOCOL_BODY_LIMIT = 64 * 1024;

/**
 * The provider's pages carry no script and no style. No form-action: the logout confirmation posts to the
 * provider, which redirects to the relying party's registered post-logout URI on another origin.
 */
const PROTOCOL_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";
const HEADERS = securityHeaders().filter(([name]) => name !== 'content-security-policy');

/** First factors as RFC 8176 `amr` values; a second factor adds `mfa`. */
function amrOf(signInMethod: string, mfa: boolean): string[] {
  const first =
    signInMethod === 'password'
      ? ['pwd']
      : signInMethod === 'passkey'
        ? ['hwk', 'user']
        : signInMethod === 'sso' || signInMethod.startsWith('oauth:')
          ? ['fed']
          : [];
  return mfa ? [...first, 'mfa'] : first;
}

export function oidcProviderRoutes(deps: OidcProviderDeps, registry: ProviderRegistry) {
  return routes('oidc-provider', (route, app) => {
    async function entryOf(slug: string): Promise<ProviderEntry> {
      const entry = await registry.forSlug(slug);
      if (!entry) throw notFound('issuer');
      return entry;
    }

    /** The interaction of this browser (its cookie) and uid; 404 INTERACTION_EXPIRED when gone or not its own. */
    async function interactionOf(
      entry: ProviderEntry,
      req: FastifyRequest,
      reply: FastifyReply,
      uid: string,
    ) {
      let details: Awaited<ReturnType<ProviderEntry['provider']['interactionDetails']>>;
      try {
        details = await entry.provider.interactionDetails(req.raw, reply.raw);
      } catch (err) {
        // No cookie, or no such interaction: expired for the user. Anything else (the store or the database
        // down) is not the user's doing and goes to the error handler (503).
        if ((err as Error).name === 'SessionNotFound') throw oidcProviderErrors.error('INTERACTION_EXPIRED');
        throw err;
      }
      if (details.uid !== uid) throw oidcProviderErrors.error('INTERACTION_EXPIRED');
      return details;
    }

    /** Hands the interaction's outcome to the provider; the browser goes on to `redirect_to`. */
    async function finish(
      entry: ProviderEntry,
      req: FastifyRequest,
      reply: FastifyReply,
      result: Record<string, unknown>,
    ) {
      const returnTo = await entry.provider.interactionResult(req.raw, reply.raw, result, {
        mergeWithLastSubmission: false,
      });
      return { redirect_to: returnTo };
    }

    // The browser lands here from the authorization endpoint (with the interaction cookie): on to the console.
    route(
      'GET /:slug/interaction/:uid',
      { access: 'public', params: Params, hide: true },
      async (req, reply) => {
        await entryOf(req.params.slug);
        if (!deps.config.adminConsole.enabled) throw notFound('sign-in page');
        const q = new URLSearchParams({ tenant: req.params.slug, uid: req.params.uid });
        return reply.redirect(`/admin/authorize?${q}`, 303);
      },
    );

    route(
      'GET /:slug/interaction/:uid/details',
      'What the relying party asks of the user in this interaction (the console sign-in page reads it)',
      { access: 'public', params: Params, ok: Details, errors: [404, 422] },
      async (req, reply) => {
        const entry = await entryOf(req.params.slug);
        const details = await interactionOf(entry, req, reply, req.params.uid);
        const clientId = String(details.params.client_id ?? '');
        const client = await entry.provider.Client.find(clientId);
        if (!client) throw oidcProviderErrors.error('INTERACTION_EXPIRED');
        const hint = details.params.login_hint;
        return {
          uid: details.uid,
          prompt: details.prompt.name,
          tenant: { slug: entry.tenant.slug, name: entry.tenant.name },
          client: {
            client_id: client.clientId,
            name: String(client.clientName ?? client.clientId),
            first_party: client['urn:massacorp:first_party'] === true,
          },
          scopes: String(details.params.scope ?? '')
            .split(' ')
            .filter(Boolean),
          login_hint: typeof hint === 'string' ? hint.slice(0, 320) : null,
          fresh_login_required:
            details.prompt.name === 'login' && details.prompt.reasons.some((r) => FRESH_LOGIN_REASONS.has(r)),
        };
      },
    );

    route(
      'POST /:slug/interaction/:uid/login',
      'Completes the sign-in step with the session the console just opened (Authorization: Bearer)',
      {
        access: 'public',
        params: Params,
        ok: Redirect,
        errors: [401, 403, 404, 409, 422],
        rateLimit: { bucket: 'login' },
      },
      async (req, reply) => {
        const entry = await entryOf(req.params.slug);
        // The console signed the user in through /auth/login (or SSO, or a passkey): every rule applied there.
        const principal = await req.authenticate();
        if (principal.kind !== 'user' || principal.userId === null || principal.sessionId === null)
          throw oidcProviderErrors.error('OIDC_SIGN_IN_NEEDS_USER');
        if (principal.tenantId !== entry.tenant.id) throw oidcProviderErrors.error('OIDC_WRONG_TENANT');
        const details = await interactionOf(entry, req, reply, req.params.uid);
        if (details.prompt.name !== 'login') throw oidcProviderErrors.error('INTERACTION_WRONG_STEP');
        const { tenantId, userId, sessionId } = principal;
        const { session, mfa } = await deps.database.withTenant(tenantId, async (tx) => ({
          session: await getSession(tx, tenantId, sessionId),
          mfa: (await deps.mfa.status(tx, tenantId, userId)).enabled,
        }));
        if (!session) throw oidcProviderErrors.error('OIDC_SIGN_IN_NEEDS_USER');
        // prompt=login, max_age and the like want proof made now: a session older than this interaction is not.
        const startedAt = (details.iat ?? 0) * 1000;
        if (
          details.prompt.reasons.some((r) => FRESH_LOGIN_REASONS.has(r)) &&
          session.createdAt.getTime() < startedAt - FRESH_SKEW_MS
        )
          throw oidcProviderErrors.error('OIDC_FRESH_SIGN_IN_REQUIRED');
        const amr = amrOf(session.signInMethod, mfa);
        const result = {
          login: {
            accountId: String(userId),
            // auth_time is when the user proved who they are: the console session's sign-in.
            ts: Math.floor(session.createdAt.getTime() / 1000),
            amr,
            acr: mfa ? 'urn:massacorp:acr:mfa' : 'urn:massacorp:acr:1fa',
          },
        };
        const answer = await finish(entry, req, reply, result);
        await deps.database.withTenant(tenantId, (tx) =>
          writeAudit(tx, tenantId, req.auditContext(), {
            eventType: 'oidc.sign_in',
            resourceType: 'oidc_client',
            resourceId: String(details.params.client_id ?? ''),
            metadata: { amr, interaction: details.uid },
          }),
        );
        return answer;
      },
    );

    route(
      'POST /:slug/interaction/:uid/consent',
      'The user allows the relying party what it asked',
      { access: 'public', params: Params, ok: Redirect, errors: [404, 409, 422] },
      async (req, reply) => {
        const entry = await entryOf(req.params.slug);
        const details = await interactionOf(entry, req, reply, req.params.uid);
        if (details.prompt.name !== 'consent' || !details.session?.accountId)
          throw oidcProviderErrors.error('INTERACTION_WRONG_STEP');
        const { provider, tenant } = entry;
        const accountId = details.session.accountId;
        const clientId = String(details.params.client_id);
        const grant = details.grantId
          ? ((await provider.Grant.find(details.grantId)) ?? new provider.Grant({ accountId, clientId }))
          : new provider.Grant({ accountId, clientId });
        const missing = details.prompt.details as {
          missingOIDCScope?: string[];
          missingOIDCClaims?: string[];
          missingResourceScopes?: Record<string, string[]>;
        };
        if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
        if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
        for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
          grant.addResourceScope(indicator, scopes.join(' '));
        // The grant and its audit record in one transaction (the adapter writes in the ambient one).
        const grantId = await deps.database.withTenant(tenant.id, (tx) =>
          ambientTx.run({ tenantId: tenant.id, tx }, async () => {
            const id = await grant.save();
            await writeAudit(
              tx,
              tenant.id,
              { ...req.auditContext(), actorType: 'user', actorId: accountId },
              {
                eventType: 'oidc.consent_granted',
                resourceType: 'oidc_client',
                resourceId: clientId,
                metadata: { scopes: missing.missingOIDCScope ?? [] },
              },
            );
            return id;
          }),
        );
        return finish(entry, req, reply, { consent: { grantId } });
      },
    );

    route(
      'POST /:slug/interaction/:uid/abort',
      'The user refuses: the relying party gets access_denied',
      { access: 'public', params: Params, ok: Redirect, errors: [404, 422] },
      async (req, reply) => {
        const entry = await entryOf(req.params.slug);
        await interactionOf(entry, req, reply, req.params.uid);
        return finish(entry, req, reply, {
          error: 'access_denied',
          error_description: 'The user refused the request',
        });
      },
    );

    // Everything else under /oidc/{slug} is the protocol: the library reads the raw request (its own body
    // parser: a Fastify parser that leaves the stream alone) and writes the raw response.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    const protocol = async (req: FastifyRequest, reply: FastifyReply) => {
      const { slug } = req.params as { slug: string };
      const entry = await entryOf(slug);
      const length = Number(req.headers['content-length'] ?? 0);
      if (length > PROTOCOL_BODY_LIMIT) throw platformErrors.error('PAYLOAD_TOO_LARGE');
      reply.hijack();
      const raw = req.raw as typeof req.raw & { originalUrl?: string };
      for (const [name, value] of HEADERS) reply.raw.setHeader(name, value);
      reply.raw.setHeader('content-security-policy', PROTOCOL_CSP);
      reply.raw.setHeader('x-request-id', req.id);
      // The library finds its mount path from originalUrl (its issuer is PUBLIC_URL/oidc/{slug}).
      raw.originalUrl = raw.url;
      raw.url = (raw.url ?? '/').slice(`/oidc/${slug}`.length) || '/';
      await entry.provider.callback()(raw, reply.raw);
    };
    for (const url of ['/:slug/*', '/:slug']) {
      app.route({
        method: ['GET', 'POST', 'OPTIONS'],
        url,
        config: { access: 'public' },
        schema: { hide: true },
        handler: protocol,
      });
    }
  });
}
