/**
 * GitHub sign-in: plain OAuth 2 (GitHub has no OpenID Connect for users), with openid-client's authorization
 * code grant (PKCE S256 and state, client_secret_post as GitHub documents it), then GitHub's REST API for the
 * person: GET /user (the stable numeric id is the subject) and GET /user/emails, where only the PRIMARY address
 * marked VERIFIED counts as verified (any other address is ignored). Every request goes through the SSRF guard.
 */

import * as client from 'openid-client';
import type { OAuthProviderConfig } from '../../../config.js';
import type { SsoDeps } from '../deps.js';
import { ssoError } from '../errors.js';
import {
  guardedFetch,
  type OidcIdentity,
  type PendingAuthorization,
  withProviderErrors,
} from '../oidc/relying-party.js';

function configuration(ctx: SsoDeps, p: OAuthProviderConfig): client.Configuration {
  const gh = p.github!;
  const config = new client.Configuration(
    { issuer: p.issuer, authorization_endpoint: gh.authorizationUrl, token_endpoint: gh.tokenUrl },
    p.clientId,
    {},
    client.ClientSecretPost(p.clientSecret),
  );
  config[client.customFetch] = guardedFetch(ctx);
  // Plain http only to loopback, in dev/test (tests run a local stand-in); the SSRF guard enforces the rest.
  if ((ctx.config.env === 'dev' || ctx.config.env === 'test') && gh.tokenUrl.startsWith('http:'))
    client.allowInsecureRequests(config);
  return config;
}

export async function githubAuthorize(
  ctx: SsoDeps,
  p: OAuthProviderConfig,
  state: string,
): Promise<{ authUrl: string; pending: PendingAuthorization }> {
  const config = configuration(ctx, p);
  const codeVerifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: p.redirectUri,
    scope: p.scope,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    allow_signup: 'false',
  });
  return { authUrl: url.href, pending: { codeVerifier, nonce: '' } };
}

interface GithubUser {
  id: number;
  login: string;
  name: string | null;
}
interface GithubEmail {
  email: string;
  primary: boolean;
  verified: boolean;
}

export async function githubFinish(
  ctx: SsoDeps,
  p: OAuthProviderConfig,
  callbackQuery: string,
  expected: PendingAuthorization & { state: string },
): Promise<OidcIdentity> {
  const config = configuration(ctx, p);
  const currentUrl = new URL(p.redirectUri);
  currentUrl.search = callbackQuery;
  const tokens = await withProviderErrors(() =>
    client.authorizationCodeGrant(
      config,
      currentUrl,
      { pkceCodeVerifier: expected.codeVerifier, expectedState: expected.state },
      { redirect_uri: p.redirectUri },
    ),
  );
  const api = async <T>(path: string): Promise<T> => {
    const res = await withProviderErrors(() =>
      client.fetchProtectedResource(
        config,
        tokens.access_token,
        new URL(`${p.github!.apiUrl}${path}`),
        'GET',
        undefined,
        new Headers({
          accept: 'application/vnd.github+json',
          'user-agent': 'MassaCorp',
          'x-github-api-version': '2022-11-28',
        }),
      ),
    );
    if (!res.ok) throw ssoError('SSO_IDP_ERROR', { reason: `GitHub API ${path} answered ${res.status}` });
    return (await res.json()) as T;
  };
  const user = await api<GithubUser>('/user');
  if (typeof user?.id !== 'number')
    throw ssoError('SSO_RESPONSE_INVALID', { reason: 'GitHub user has no id' });
  const emails = await api<GithubEmail[]>('/user/emails');
  const primary = Array.isArray(emails) ? emails.find((e) => e?.primary === true) : undefined;
  const name = typeof user.name === 'string' && user.name.trim() ? user.name.trim() : null;
  const space = name ? name.indexOf(' ') : -1;
  return {
    issuer: p.issuer,
    subject: String(user.id),
    email: typeof primary?.email === 'string' ? primary.email.toLowerCase() : null,
    emailVerified: primary?.verified === true,
    name: name ?? user.login ?? null,
    givenName: name ? (space > 0 ? name.slice(0, space) : name) : null,
    familyName: name && space > 0 ? name.slice(space + 1) : null,
    // GitHub reports nothing about how the person authenticated.
    mfaAsserted: false,
  };
}
