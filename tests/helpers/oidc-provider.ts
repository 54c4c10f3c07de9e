/**
 * A real OpenID provider (oidc-provider) on a 127.0.0.1 port, with its development interactions (login and
 * consent forms) driven over plain HTTP with a cookie jar. `tamper` re-signs the ID token of the next token
 * responses with the provider's own key after changing claims (wrong nonce, audience, expiry, issuer).
 *
 * Like Entra ID or Okta, it accepts a redirect_uri only if it was registered exactly for the client
 * (`allowRedirectUri` registers one more, e.g. a connection's callback_url once the connection exists). It
 * records every request to its token endpoint (`tokenRequests`), so a test can prove a code never reached it.
 * `iss: false` makes it answer like Entra ID and Google: no RFC 9207 `iss` in the authorization response and no
 * `authorization_response_iss_parameter_supported` in its metadata (oidc-provider sends and advertises both).
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { Provider } from 'oidc-provider';

export interface Account {
  email: string;
  email_verified: boolean;
  given_name?: string;
  family_name?: string;
}

/** A request that reached the token endpoint (whatever the provider then answered). */
export interface TokenRequest {
  clientId: string | null;
  code: string | null;
  redirectUri: string | null;
  status: number;
}

export interface TestProvider {
  issuer: string;
  accounts: Map<string, Account>;
  tamper: ((claims: Record<string, unknown>) => Record<string, unknown>) | null;
  tokenRequests: TokenRequest[];
  /** Registers one more exact redirect URI for a client (as an admin does in the IdP's console). */
  allowRedirectUri(clientId: string, uri: string): void;
  close(): Promise<void>;
}

export async function startProvider(
  clients: { client_id: string; client_secret: string; redirect_uri: string }[],
  opts: { authMethod?: 'client_secret_basic' | 'client_secret_post'; iss?: boolean } = {},
) {
  const authMethod = opts.authMethod ?? 'client_secret_basic';
  const sendsIss = opts.iss ?? true;
  const allowed = new Map(clients.map((c) => [c.client_id, new Set([c.redirect_uri])]));
  let handler: http.RequestListener = (_req, res) => res.end();
  const server = http.createServer((req, res) => handler(req, res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const accounts = new Map<string, Account>();
  const provider = new Provider(issuer, {
    clients: clients.map((c) => ({
      client_id: c.client_id,
      client_secret: c.client_secret,
      redirect_uris: [c.redirect_uri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: authMethod,
    })),
    jwks: { keys: [jwk as never] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['given_name', 'family_name'] },
    features: { devInteractions: { enabled: true } },
    // A provider that offers only client_secret_post (or only basic) in its metadata.
    clientAuthMethods: [authMethod],
    cookies: { keys: ['test-cookie-key-0123456789'] },
    findAccount: async (_ctx, id) => {
      const a = accounts.get(id);
      return a ? { accountId: id, claims: async () => ({ sub: id, ...a }) } : undefined;
    },
  });
  // Exact match against the registered set (the library's own check, over a set the test can extend).
  (provider.Client.prototype as { redirectUriAllowed(value: string): boolean }).redirectUriAllowed =
    function (this: { clientId: string }, value: string) {
      return allowed.get(this.clientId)?.has(value) ?? false;
    };
  const state: TestProvider = {
    issuer,
    accounts,
    tamper: null,
    tokenRequests: [],
    allowRedirectUri: (clientId, uri) => {
      const set = allowed.get(clientId) ?? new Set<string>();
      set.add(uri);
      allowed.set(clientId, set);
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
    },
  };
  provider.use(async (ctx, next) => {
    const tokenRequest = ctx.path === '/token' && ctx.method === 'POST';
    await next();
    if (tokenRequest) {
      const oidc = ctx.oidc as
        | { params?: Record<string, unknown>; client?: { clientId: string } }
        | undefined;
      const param = (k: string) =>
        typeof oidc?.params?.[k] === 'string' ? (oidc.params[k] as string) : null;
      state.tokenRequests.push({
        clientId: oidc?.client?.clientId ?? null,
        code: param('code'),
        redirectUri: param('redirect_uri'),
        status: ctx.status,
      });
    }
    if (!sendsIss) {
      if (ctx.path === '/.well-known/openid-configuration' && ctx.body && typeof ctx.body === 'object')
        delete (ctx.body as Record<string, unknown>).authorization_response_iss_parameter_supported;
      const location = ctx.response.get('location');
      if (location) {
        const to = new URL(location, issuer);
        if (to.searchParams.has('iss') && (to.searchParams.has('code') || to.searchParams.has('error'))) {
          to.searchParams.delete('iss');
          ctx.set('location', to.href);
        }
      }
    }
    const body = ctx.body as { id_token?: string } | undefined;
    if (ctx.path === '/token' && state.tamper && body?.id_token) {
      const claims = state.tamper({ ...decodeJwt(body.id_token) });
      body.id_token = await new SignJWT(claims as never)
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .sign(privateKey);
    }
  });
  handler = provider.callback();
  return state;
}

/**
 * Follows the provider's redirects from `authUrl`, signing in as `accountId` and consenting, until the provider
 * redirects to a URL starting with `stopAt` (our callback); returns that URL.
 */
export async function driveProvider(authUrl: string, accountId: string, stopAt: string): Promise<URL> {
  const jar = new Map<string, string>();
  let url = new URL(authUrl);
  let init: { method: string; body?: string } = { method: 'GET' };
  for (let i = 0; i < 20; i++) {
    const res = await fetch(url, {
      method: init.method,
      redirect: 'manual',
      headers: {
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(init.body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: init.body,
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    const location = res.headers.get('location');
    if (location) {
      const next = new URL(location, url);
      if (next.href.startsWith(stopAt)) return next;
      url = next;
      init = { method: 'GET' };
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) throw new Error(`provider answered ${res.status}: ${html.slice(0, 300)}`);
    if (html.includes('name="prompt" value="login"'))
      init = {
        method: 'POST',
        body: new URLSearchParams({ prompt: 'login', login: accountId, password: 'x' }).toString(),
      };
    else if (html.includes('name="prompt" value="consent"'))
      init = { method: 'POST', body: new URLSearchParams({ prompt: 'consent' }).toString() };
    else throw new Error(`unexpected provider page: ${html.slice(0, 300)}`);
  }
  throw new Error('too many provider steps');
}
