/**
 * A real OpenID provider (oidc-provider) on a 127.0.0.1 port, with its development interactions (login and
 * consent forms) driven over plain HTTP with a cookie jar. `tamper` re-signs the ID token of the next token
 * responses with the provider's own key after changing claims (wrong nonce, audience, expiry, issuer).
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

export interface TestProvider {
  issuer: string;
  accounts: Map<string, Account>;
  tamper: ((claims: Record<string, unknown>) => Record<string, unknown>) | null;
  close(): Promise<void>;
}

export async function startProvider(
  clients: { client_id: string; client_secret: string; redirect_uri: string }[],
  opts: { authMethod?: 'client_secret_basic' | 'client_secret_post' } = {},
) {
  const authMethod = opts.authMethod ?? 'client_secret_basic';
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
  const state: TestProvider = {
    issuer,
    accounts,
    tamper: null,
    close: async () => {
      server.closeAllConnections();
      server.close();
    },
  };
  provider.use(async (ctx, next) => {
    await next();
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
