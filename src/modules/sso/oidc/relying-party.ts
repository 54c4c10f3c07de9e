/**
 * The OpenID Connect relying party (openid-client v6), shared by enterprise OIDC connections and social login:
 * discovery through the SSRF guard (every endpoint of the discovery document re-checked), the authorization
 * code flow with PKCE S256, state and nonce, ID token checks (signature, iss, aud, exp, iat, nonce: the library
 * does them and none is turned off), userinfo for the claims the ID token lacks, and client_secret_basic (or
 * client_secret_post when the provider's metadata offers only that). Every HTTP request goes through the SSRF
 * guard (openid-client's customFetch). Protocol time is the app's clock (ctx.clock, as clockSkew).
 */

import * as client from 'openid-client';
import { checkResolvedUrl, createGuardedFetch, SsrfError } from '../../../platform/net/ssrf.js';
import type { SsoDeps } from '../deps.js';
import { type SsoErrorCode, ssoError } from '../errors.js';

export interface RelyingPartySettings {
  issuer: string;
  clientId: string;
  clientSecret: string | null;
  /** The redirect URI registered at the provider (PUBLIC_URL + the callback path). */
  redirectUri: string;
  scope?: string;
}

/** What the flow keeps between authorize and callback (single use, with the state). */
export interface PendingAuthorization {
  codeVerifier: string;
  nonce: string;
}

export interface OidcIdentity {
  issuer: string;
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  givenName: string | null;
  familyName: string | null;
  /** The provider reports a multi-factor authentication (amr contains mfa, otp, hwk, ...). */
  mfaAsserted: boolean;
}

const DISCOVERY_TTL_MS = 10 * 60_000;
const MFA_AMR = new Set(['mfa', 'otp', 'hwk', 'swk', 'sms', 'fpt', 'face', 'iris', 'retina']);

const caches = new WeakMap<SsoDeps, Map<string, { at: number; metadata: client.ServerMetadata }>>();

/** openid-client's fetch through the SSRF guard (every request of a relying party or an OAuth 2 client). */
export function guardedFetch(ctx: SsoDeps): client.CustomFetch {
  const fetch = createGuardedFetch({ env: ctx.config.env });
  return ((url: string, options: RequestInit) => fetch(url, options)) as unknown as client.CustomFetch;
}

const allowsHttp = (ctx: SsoDeps, issuer: string) =>
  (ctx.config.env === 'dev' || ctx.config.env === 'test') && issuer.startsWith('http:');

/** Discovery (cached per issuer for 10 minutes), then every endpoint the document names checked by the guard. */
async function serverMetadata(ctx: SsoDeps, settings: RelyingPartySettings): Promise<client.ServerMetadata> {
  let cache = caches.get(ctx);
  if (!cache) {
    cache = new Map();
    caches.set(ctx, cache);
  }
  const hit = cache.get(settings.issuer);
  if (hit && Date.now() - hit.at < DISCOVERY_TTL_MS) return hit.metadata;
  const config = await client.discovery(new URL(settings.issuer), settings.clientId, undefined, undefined, {
    [client.customFetch]: guardedFetch(ctx),
    execute: allowsHttp(ctx, settings.issuer) ? [client.allowInsecureRequests] : [],
  });
  const metadata = config.serverMetadata();
  const opts = { env: ctx.config.env };
  for (const key of [
    'authorization_endpoint',
    'token_endpoint',
    'userinfo_endpoint',
    'jwks_uri',
    'end_session_endpoint',
    'revocation_endpoint',
    'introspection_endpoint',
    'pushed_authorization_request_endpoint',
  ] as const) {
    const value = metadata[key];
    if (typeof value === 'string') await checkResolvedUrl(value, opts);
  }
  if (!metadata.authorization_endpoint || !metadata.token_endpoint)
    throw ssoError('SSO_IDP_UNAVAILABLE', { reason: 'discovery document lacks an endpoint' });
  cache.set(settings.issuer, { at: Date.now(), metadata });
  return metadata;
}

/** A Configuration for one operation, over the (cached) metadata, with the app's clock. */
async function configuration(ctx: SsoDeps, settings: RelyingPartySettings): Promise<client.Configuration> {
  const metadata = await serverMetadata(ctx, settings);
  const methods = metadata.token_endpoint_auth_methods_supported;
  // RFC 8414: absent means client_secret_basic. Post only when basic is not offered and post is.
  const auth =
    settings.clientSecret === null
      ? client.None()
      : methods && !methods.includes('client_secret_basic') && methods.includes('client_secret_post')
        ? client.ClientSecretPost(settings.clientSecret)
        : client.ClientSecretBasic(settings.clientSecret);
  const config = new client.Configuration(
    metadata,
    settings.clientId,
    { [client.clockSkew]: Math.round((ctx.clock.now() - Date.now()) / 1000) },
    auth,
  );
  config[client.customFetch] = guardedFetch(ctx);
  if (allowsHttp(ctx, settings.issuer)) client.allowInsecureRequests(config);
  return config;
}

/** The provider URL to send the browser to, and what must be kept with the state for the callback. */
export async function beginAuthorization(
  ctx: SsoDeps,
  settings: RelyingPartySettings,
  state: string,
): Promise<{ authUrl: string; pending: PendingAuthorization }> {
  const config = await withProviderErrors(() => configuration(ctx, settings));
  const codeVerifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: settings.redirectUri,
    scope: settings.scope ?? 'openid email profile',
    response_type: 'code',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  return { authUrl: url.href, pending: { codeVerifier, nonce } };
}

/**
 * The callback: validates the authorization response (state, iss), redeems the code with the PKCE verifier,
 * validates the ID token (signature, iss, aud, exp, iat, nonce), and reads userinfo if the ID token lacks the
 * email or the name. `callbackQuery`: the query string the provider sent.
 */
export async function finishAuthorization(
  ctx: SsoDeps,
  settings: RelyingPartySettings,
  callbackQuery: string,
  expected: PendingAuthorization & { state: string },
): Promise<OidcIdentity> {
  const config = await withProviderErrors(() => configuration(ctx, settings));
  const currentUrl = new URL(settings.redirectUri);
  currentUrl.search = callbackQuery;
  const tokens = await withProviderErrors(() =>
    client.authorizationCodeGrant(
      config,
      currentUrl,
      {
        pkceCodeVerifier: expected.codeVerifier,
        expectedState: expected.state,
        expectedNonce: expected.nonce,
        idTokenExpected: true,
      },
      { redirect_uri: settings.redirectUri },
    ),
  );
  const claims = tokens.claims();
  if (!claims) throw ssoError('SSO_RESPONSE_INVALID', { reason: 'no ID token' });
  let info: Record<string, unknown> = { ...claims };
  const lacks = (k: string) => info[k] === undefined || info[k] === null || info[k] === '';
  if (
    (lacks('email') || (lacks('name') && lacks('given_name'))) &&
    config.serverMetadata().userinfo_endpoint
  ) {
    const userinfo = await withProviderErrors(() =>
      client.fetchUserInfo(config, tokens.access_token, claims.sub),
    );
    // The ID token's claims win; userinfo only fills the gaps (same subject: checked by the library).
    info = { ...userinfo, ...Object.fromEntries(Object.entries(info).filter(([, v]) => v !== undefined)) };
    if (lacks('email') && typeof userinfo.email === 'string') {
      info.email = userinfo.email;
      info.email_verified = userinfo.email_verified;
    }
  }
  const str = (k: string) => (typeof info[k] === 'string' && info[k] ? (info[k] as string) : null);
  const amr = Array.isArray(claims.amr) ? (claims.amr as unknown[]).map(String) : [];
  return {
    issuer: claims.iss,
    subject: claims.sub,
    email: str('email')?.toLowerCase() ?? null,
    emailVerified: info.email_verified === true || info.email_verified === 'true',
    name: str('name'),
    givenName: str('given_name'),
    familyName: str('family_name'),
    mfaAsserted: amr.some((m) => MFA_AMR.has(m)),
  };
}

/** Walks an error's causes: the SSRF refusal, the claim that failed, the library's code. */
function causes(err: unknown): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let e = err as Record<string, unknown> | undefined, i = 0; e && typeof e === 'object' && i < 6; i++) {
    out.push(e);
    e = e.cause as Record<string, unknown> | undefined;
  }
  return out;
}

/** The stable error code of a relying-party failure (the reason goes to the audit record, not the client). */
export function oidcErrorCode(err: unknown): SsoErrorCode {
  const chain = causes(err);
  if (chain.some((e) => e instanceof SsrfError)) return 'SSO_URL_REFUSED';
  if (chain.some((e) => e instanceof client.AuthorizationResponseError)) return 'SSO_IDP_ERROR';
  const claim = chain.map((e) => e.claim).find((c) => typeof c === 'string');
  const codes = chain.map((e) => e.code).filter((c): c is string => typeof c === 'string');
  const messages = chain.map((e) => String(e.message ?? ''));
  if (codes.includes('OAUTH_JWT_TIMESTAMP_CHECK_FAILED'))
    return claim === 'exp' ? 'SSO_TOKEN_EXPIRED' : 'SSO_RESPONSE_INVALID';
  if (codes.includes('OAUTH_JWT_CLAIM_COMPARISON_FAILED')) {
    if (claim === 'aud' || claim === 'azp') return 'SSO_AUDIENCE_MISMATCH';
    if (claim === 'nonce') return 'SSO_NONCE_MISMATCH';
    if (claim === 'iss') return 'SSO_ISSUER_MISMATCH';
    return 'SSO_RESPONSE_INVALID';
  }
  if (messages.some((m) => m.includes('"iss" (issuer)') || m.includes('issuer does not match')))
    return 'SSO_ISSUER_MISMATCH';
  if (chain.some((e) => e instanceof client.ResponseBodyError)) return 'SSO_IDP_ERROR';
  if (
    codes.some((c) => c === 'ECONNREFUSED' || c === 'ENOTFOUND' || c === 'ETIMEDOUT' || c === 'OAUTH_TIMEOUT')
  )
    return 'SSO_IDP_UNAVAILABLE';
  if (chain.some((e) => e instanceof TypeError && /fetch|network/i.test(String(e.message))))
    return 'SSO_IDP_UNAVAILABLE';
  return 'SSO_RESPONSE_INVALID';
}

/** Runs a provider request: a failure becomes an SSO_* AppError, the library's message its audit reason. */
export async function withProviderErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if ((err as { name?: string }).name === 'AppError') throw err;
    const code = oidcErrorCode(err);
    const e = ssoError(code);
    // The library's message names the failed check; it is kept for the audit record (failFlow), not the client.
    Object.defineProperty(e, 'reason', {
      value: (err as Error).message + describeCause(err),
      enumerable: false,
    });
    throw e;
  }
}

function describeCause(err: unknown): string {
  const deeper = causes(err)
    .slice(1)
    .map((e) => String(e.message ?? ''))
    .filter(Boolean);
  return deeper.length ? `: ${deeper.join(': ')}` : '';
}
