/**
 * One tenant's OpenID Provider: an instance of `oidc-provider` (panva; OpenID Certified) at the issuer
 * `PUBLIC_URL/oidc/{slug}`, configured on what MassaCorp already has: the tenant's client registry, its users and
 * their roles, the shared signing keys (RS256 by default; ES256 and EdDSA per client), PostgreSQL and the shared
 * store for its artefacts (adapter.ts). The protocol is the library's; what is ours is the policy around it.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import type Provider from 'oidc-provider';
import type { Configuration, KoaContextWithOIDC, ResourceServer } from 'oidc-provider';
import { createGuardedFetch } from '../../platform/net/ssrf.js';
import {
  apiAudience,
  clientSecretMatches,
  type ProviderClientRow,
  providerClient,
  SCOPES,
  tenantIssuer,
} from '../oidc-clients/index.js';
import { findAccount, SCOPE_CLAIMS } from './accounts.js';
import { artefactAdapter } from './adapter.js';
import type { OidcProviderDeps } from './deps.js';
import { errorPage, loggedOutPage, logoutPage } from './pages.js';
import { auditProtocol } from './protocol-audit.js';

export interface TenantIssuer {
  id: number;
  slug: string;
  name: string;
}

/** Lifetimes (seconds). Access tokens are short: a refresh (rotated) renews them; revocation needs no list. */
export const TTL = {
  AccessToken: 600,
  ClientCredentials: 600,
  AuthorizationCode: 60,
  IdToken: 3600,
  Interaction: 600,
  RefreshToken: 30 * 24 * 3600,
  Grant: 30 * 24 * 3600,
  Session: 14 * 24 * 3600,
} as const;

/** Algorithms the provider signs and accepts: asymmetric only (a client secret is stored hashed, never a key). */
const SIGNING_ALGS = ['RS256', 'ES256', 'EdDSA'] as const;
const ASSERTION_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;

/** Loopback redirects make a native client in the library's terms (RFC 8252): http to 127.0.0.1 is allowed. */
function applicationType(row: ProviderClientRow): 'web' | 'native' {
  return row.redirectUris.some((u) => /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(:\d+)?\//.test(u))
    ? 'native'
    : 'web';
}

/**
 * The registry row as client metadata. A secret-authenticated client gets a random stand-in `client_secret`
 * (the library insists on one): the real check is compareClientSecret below, against the stored hash, and no
 * HS* algorithm is enabled, so the stand-in is never a key either.
 */
function clientMetadata(row: ProviderClientRow, secretStandIn: string) {
  const hasCode = row.grantTypes.includes('authorization_code');
  const scopes = new Set<string>(row.allowedScopes);
  return {
    client_id: row.clientId,
    client_name: row.name,
    ...(row.secretHash ? { client_secret: secretStandIn } : {}),
    redirect_uris: row.redirectUris,
    post_logout_redirect_uris: row.postLogoutRedirectUris,
    ...(row.backchannelLogoutUri
      ? { backchannel_logout_uri: row.backchannelLogoutUri, backchannel_logout_session_required: true }
      : {}),
    grant_types: row.grantTypes,
    response_types: hasCode ? ['code'] : [],
    token_endpoint_auth_method: row.tokenEndpointAuthMethod,
    ...(row.jwks ? { jwks: row.jwks } : {}),
    ...(row.jwksUri ? { jwks_uri: row.jwksUri } : {}),
    id_token_signed_response_alg: row.idTokenSignedResponseAlg,
    subject_type: row.subjectType,
    application_type: applicationType(row),
    // A client registered with no scope (a service) would be refused by the library for an empty string.
    ...(scopes.size > 0 ? { scope: [...scopes].join(' ') } : hasCode ? { scope: 'openid' } : {}),
    'urn:massacorp:first_party': row.firstParty,
    'urn:massacorp:permissions': row.permissions,
  };
}

/**
 * The library's sign-in and consent rules, but for one: it asks every native client's user for consent (RFC 8252
 * §8.6: any app can claim a loopback redirect, so the user must see who asks). A confidential client proves who it
 * is at the token endpoint with its secret or keys, so when the tenant marked it first-party it skips consent like
 * any other first-party client; a public native client is still asked, first-party or not.
 */
function signInPolicy({ interactionPolicy }: Library) {
  const policy = interactionPolicy.base();
  const consent = policy.get('consent')!;
  const native = consent.checks.get('native_client_prompt')!;
  consent.checks.remove('native_client_prompt');
  consent.checks.add(
    new interactionPolicy.Check('native_client_prompt', native.description, native.error!, (ctx) => {
      const client = ctx.oidc.client!;
      if (client['urn:massacorp:first_party'] === true && client.tokenEndpointAuthMethod !== 'none')
        return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      return native.check(ctx);
    }),
    0,
  );
  return policy;
}

/** Cookie signing keys, the same on every replica (derived from ENCRYPTION_KEY, never the key itself). */
function cookieKeys(deps: OidcProviderDeps, slug: string): string[] {
  return [
    createHash('sha256')
      .update('massacorp:oidc-cookies:')
      .update(deps.config.encryptionKey)
      .update(slug)
      .digest('base64url'),
  ];
}

/**
 * The library, loaded on the first provider a replica builds rather than at boot: it warns on stderr at import
 * under Node.js 20 (it prefers 22), and a process that never serves /oidc (a CLI command, a refused start) should
 * print nothing of it.
 */
type Library = typeof import('oidc-provider');
let library: Promise<Library> | null = null;
export const oidcLibrary = (): Promise<Library> => {
  library ??= import('oidc-provider');
  return library;
};

export async function createTenantProvider(
  deps: OidcProviderDeps,
  tenant: TenantIssuer,
  jwks: { keys: JWK[] },
): Promise<Provider> {
  const lib = await oidcLibrary();
  const publicUrl = deps.config.publicUrl;
  const secure = publicUrl.startsWith('https:');
  const secretStandIn = randomBytes(32).toString('base64url');
  // The API as the audience of client-credentials tokens (RFC 8707 resource), as the machine-token scheme expects.
  const resource = apiAudience(publicUrl);
  const pairwiseKey = createHash('sha256')
    .update('massacorp:oidc-pairwise:')
    .update(deps.config.encryptionKey)
    .update(String(tenant.id))
    .digest();

  const configuration: Configuration = {
    adapter: artefactAdapter(deps, tenant.id, lib.errors.InvalidGrant, async (clientId) => {
      const row = await providerClient(deps, tenant.id, clientId);
      // A disabled client is unknown to the protocol: no sign-in, no token, no refresh, no introspection.
      return row?.enabled ? clientMetadata(row, secretStandIn) : undefined;
    }) as unknown as Configuration['adapter'],
    jwks: jwks as Configuration['jwks'],
    cookies: {
      keys: cookieKeys(deps, tenant.slug),
      long: { signed: true, secure, sameSite: 'lax' },
      short: { signed: true, secure, sameSite: 'lax' },
    },
    findAccount: (_ctx, id) => findAccount(deps, tenant.id, id),
    subjectTypes: ['public', 'pairwise'],
    // HMAC of the user's id with a key derived from ENCRYPTION_KEY, per tenant and sector (the redirect host):
    // stable, unlinkable across clients, and the same on every replica.
    pairwiseIdentifier: (_ctx, accountId, client) =>
      createHmac('sha256', pairwiseKey)
        .update(`${client.sectorIdentifier}\u0000${accountId}`)
        .digest('base64url'),
    // What the provider fetches itself (a private_key_jwt client's jwks_uri, back-channel logout tokens) goes
    // through the SSRF guard, as every outbound request of ours does.
    fetch: createGuardedFetch({ env: deps.config.env }) as Configuration['fetch'],
    claims: SCOPE_CLAIMS as unknown as Configuration['claims'],
    scopes: [...SCOPES],
    // The two levels a sign-in reaches (routes.ts sets one): an application may ask for mfa as an essential acr.
    acrValues: ['urn:massacorp:acr:1fa', 'urn:massacorp:acr:mfa'],
    extraClientMetadata: { properties: ['urn:massacorp:first_party', 'urn:massacorp:permissions'] },
    clientDefaults: { id_token_signed_response_alg: 'RS256', grant_types: ['authorization_code'] },
    enabledJWA: {
      idTokenSigningAlgValues: [...SIGNING_ALGS],
      userinfoSigningAlgValues: [...SIGNING_ALGS],
      introspectionSigningAlgValues: [...SIGNING_ALGS],
      authorizationSigningAlgValues: [...SIGNING_ALGS],
      requestObjectSigningAlgValues: [...ASSERTION_ALGS],
      clientAuthSigningAlgValues: [...ASSERTION_ALGS],
    } as Configuration['enabledJWA'],
    features: {
      devInteractions: { enabled: false },
      // A client introspects and revokes its own tokens only: a tenant's applications do not see each other's.
      introspection: {
        enabled: true,
        allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId,
      },
      revocation: {
        enabled: true,
        allowedPolicy: (_ctx, client, token) => {
          if (token.clientId !== client.clientId)
            throw new lib.errors.InvalidRequest('not a token of this client');
          return true;
        },
      },
      userinfo: { enabled: true },
      clientCredentials: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          ctx.type = 'html';
          ctx.body = logoutPage(tenant.name, form);
        },
        postLogoutSuccessSource: (ctx) => {
          ctx.type = 'html';
          ctx.body = loggedOutPage(tenant.name);
        },
      },
      resourceIndicators: {
        enabled: true,
        // Only the client-credentials grant is for the API; a user's sign-in gets an opaque token for userinfo.
        defaultResource: (ctx) =>
          ctx.oidc.params?.grant_type === 'client_credentials' ? resource : undefined,
        useGrantedResource: () => false,
        getResourceServerInfo: (ctx: KoaContextWithOIDC, indicator: string, client): ResourceServer => {
          if (indicator !== resource || ctx.oidc.params?.grant_type !== 'client_credentials')
            throw new lib.errors.InvalidTarget();
          const permissions = (client['urn:massacorp:permissions'] as string[] | undefined) ?? [];
          return {
            scope: permissions.join(' '),
            audience: resource,
            accessTokenTTL: TTL.ClientCredentials,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    extraTokenClaims: (_ctx, token) =>
      token.kind === 'ClientCredentials' ? { tenant_id: tenant.id } : undefined,
    pkce: { required: (_ctx, client) => client.tokenEndpointAuthMethod === 'none' },
    interactions: {
      policy: signInPolicy(lib),
      url: (_ctx, interaction) => `/oidc/${tenant.slug}/interaction/${interaction.uid}`,
    },
    /** A first-party client needs no consent: its grant covers what it asks, within its registered scopes. */
    loadExistingGrant: async (ctx) => {
      const { oidc } = ctx;
      const client = oidc.client;
      const session = oidc.session;
      if (!client || !session?.accountId) return undefined;
      const grantId = oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      if (grantId) return oidc.provider.Grant.find(grantId);
      if (client['urn:massacorp:first_party'] !== true) return undefined;
      const grant = new oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      const requested = String(oidc.params?.scope ?? '');
      grant.addOIDCScope(
        requested
          .split(' ')
          .filter((s) => s && client.scope?.split(' ').includes(s))
          .join(' '),
      );
      await grant.save();
      return grant;
    },
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    rotateRefreshToken: true,
    ttl: { ...TTL },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = errorPage(tenant.name, out as { error: string; error_description?: string });
    },
    clientBasedCORS: (_ctx, origin, client) =>
      client.redirectUris?.some((u) => new URL(u).origin === origin) ?? false,
  };

  const provider = new lib.Provider(tenantIssuer(publicUrl, tenant.slug), configuration);
  provider.proxy = deps.config.trustedProxies.length > 0;
  auditProtocol(deps, tenant.id, provider);
  // The secret check against the stored SHA-256 (and the previous secret inside its rotation window).
  provider.Client.prototype.compareClientSecret = async function (
    this: { clientId: string },
    actual: string,
  ) {
    const row = await providerClient(deps, tenant.id, this.clientId);
    return row?.enabled === true && clientSecretMatches(row, actual, deps.clock.now());
  };
  return provider;
}
