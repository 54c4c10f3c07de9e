/**
 * A user agent for MassaCorp's own OpenID Provider in tests: real HTTP to an app listening on loopback, a cookie
 * jar that honours cookie paths, and the steps the console's /admin/authorize page takes (read the interaction,
 * sign in with /auth/login, hand the session over, consent). The browser test drives the real page; this drives
 * the same endpoints without a browser so protocol tests stay fast.
 */
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import * as oidc from 'openid-client';
import { bearer, login, newTenant, type TestTenant, type Tokens, uniq } from './factories.js';

/** A free loopback port (the app's PUBLIC_URL must name it before the app is built). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface Cookie {
  name: string;
  value: string;
  path: string;
}

/**
 * A request as a browser's top-level navigation sends it, over node:http: fetch() always says
 * `Sec-Fetch-Mode: cors`, which relying parties such as mod_auth_openidc take for an XHR and answer 401 instead
 * of redirecting to the OP. Only string bodies (what the tests send).
 */
async function navigate(url: URL, init: RequestInit, headers: Headers): Promise<Response> {
  const body = init.body == null ? undefined : String(init.body);
  const out: Record<string, string> = {
    accept: 'text/html,application/xhtml+xml,*/*;q=0.8',
    'sec-fetch-mode': 'navigate',
    'sec-fetch-dest': 'document',
    'user-agent': 'OpBrowser',
  };
  headers.forEach((v, k) => {
    out[k] = v;
  });
  if (body !== undefined) out['content-length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: init.method ?? 'GET', headers: out }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) h.append(k, one);
        }
        const status = res.statusCode ?? 0;
        const empty = status === 204 || status === 304;
        resolve(new Response(empty ? null : Buffer.concat(chunks), { status, headers: h }));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

export class OpBrowser {
  private cookies: Cookie[] = [];

  /** `navigation`: send every request as a browser's navigation (see `navigate`), for relying parties that care. */
  constructor(
    readonly base: string,
    private readonly opts: { navigation?: boolean } = {},
  ) {}

  private store(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const pathAttr = attrs.find((a) => a.toLowerCase().startsWith('path='));
      const path = pathAttr ? pathAttr.slice(5) : '/';
      const expired = attrs.some((a) => /^expires=/i.test(a) && new Date(a.slice(8)).getTime() < Date.now());
      this.cookies = this.cookies.filter((c) => !(c.name === name && c.path === path));
      if (!expired && value !== '') this.cookies.push({ name, value, path });
    }
  }

  private cookieHeader(url: URL): string {
    return this.cookies
      .filter(
        (c) =>
          url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`),
      )
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const u = new URL(url, this.base);
    const headers = new Headers(init.headers);
    const cookie = this.cookieHeader(u);
    if (cookie) headers.set('cookie', cookie);
    const res = this.opts.navigation
      ? await navigate(u, init, headers)
      : await fetch(u, { ...init, headers, redirect: 'manual' });
    this.store(res);
    return res;
  }

  /** Follows redirects while they stay on the OP (or reach the console page); returns the last response. */
  async follow(url: string, stopAt: (u: URL) => boolean): Promise<{ res: Response; url: URL }> {
    let current = new URL(url, this.base);
    for (let i = 0; i < 10; i++) {
      if (stopAt(current)) return { res: new Response(null, { status: 200 }), url: current };
      const res = await this.fetch(current.href);
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) return { res, url: current };
      current = new URL(location, current);
    }
    throw new Error('too many redirects');
  }
}

export interface InteractionDetails {
  uid: string;
  prompt: string;
  client: { client_id: string; name: string; first_party: boolean };
  scopes: string[];
  login_hint: string | null;
}

/**
 * From an authorization URL to the relying party's callback (the URL with `code` or `error`): the OP sends the
 * browser to the console page, which signs the user in (`accessToken` of a fresh /auth/login) and consents.
 */
export async function authorizeThroughConsole(
  browser: OpBrowser,
  authorizationUrl: string,
  redirectUri: string,
  signIn: () => Promise<string>,
  opts: { consent?: 'allow' | 'deny'; onDetails?: (d: InteractionDetails) => void } = {},
): Promise<URL> {
  const atRp = (u: URL) => u.href.startsWith(redirectUri);
  const atConsole = (u: URL) => u.pathname === '/admin/authorize';
  let step = await browser.follow(authorizationUrl, (u) => atRp(u) || atConsole(u));
  for (let round = 0; round < 3; round++) {
    if (atRp(step.url)) return step.url;
    if (!atConsole(step.url))
      throw new Error(`stopped at ${step.url} (${step.res.status}): ${await step.res.text()}`);
    const slug = step.url.searchParams.get('tenant')!;
    const uid = step.url.searchParams.get('uid')!;
    const base = `/oidc/${slug}/interaction/${uid}`;
    const detailsRes = await browser.fetch(`${base}/details`);
    if (detailsRes.status !== 200)
      throw new Error(`details ${detailsRes.status}: ${await detailsRes.text()}`);
    const details = (await detailsRes.json()) as InteractionDetails;
    opts.onDetails?.(details);
    let answer: Response;
    if (details.prompt === 'login') {
      const token = await signIn();
      answer = await browser.fetch(`${base}/login`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
    } else {
      answer = await browser.fetch(`${base}/${opts.consent === 'deny' ? 'abort' : 'consent'}`, {
        method: 'POST',
      });
    }
    if (answer.status !== 200) throw new Error(`${details.prompt}: ${answer.status} ${await answer.text()}`);
    const { redirect_to } = (await answer.json()) as { redirect_to: string };
    step = await browser.follow(redirect_to, (u) => atRp(u) || atConsole(u));
  }
  throw new Error('the interaction did not end');
}

// --- a tenant with a registered client, as the OP tests set one up ---

/** The loopback redirect the tests' relying parties register (nothing listens there: the tests read the URL). */
export const RP_CALLBACK = 'http://127.0.0.1:9/cb';
export const RP_LOGGED_OUT = 'http://127.0.0.1:9/bye';

export interface RegisteredClient {
  id: string;
  client_id: string;
  client_secret: string | null;
}

export async function registerClient(
  app: FastifyInstance,
  tokens: Tokens,
  body: Record<string, unknown>,
): Promise<RegisteredClient> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/oidc/clients',
    headers: bearer(tokens),
    payload: body,
  });
  if (res.statusCode !== 201) throw new Error(`client registration: ${res.statusCode} ${res.body}`);
  return res.json();
}

export const webClient = (over: Record<string, unknown> = {}) => ({
  name: uniq('wiki'),
  type: 'confidential',
  redirect_uris: [RP_CALLBACK],
  post_logout_redirect_uris: [RP_LOGGED_OUT],
  grant_types: ['authorization_code', 'refresh_token'],
  allowed_scopes: ['openid', 'profile', 'email', 'offline_access', 'roles', 'permissions'],
  ...over,
});

export interface OpTenant {
  t: TestTenant;
  admin: Tokens;
  client: RegisteredClient;
  issuer: string;
  config: oidc.Configuration;
}

/** A new tenant, its admin signed in, and a client registered (a web app unless `client` says otherwise). */
export async function opTenant(
  app: FastifyInstance,
  base: string,
  client: Record<string, unknown> = webClient(),
): Promise<OpTenant> {
  const t = await newTenant(app);
  const admin = await login(app, t.tenant.id, t.admin.email);
  const registered = await registerClient(app, admin, client);
  const issuer = `${base}/oidc/${t.tenant.slug}`;
  const config = await oidc.discovery(
    new URL(issuer),
    registered.client_id,
    registered.client_secret ?? undefined,
    registered.client_secret ? undefined : oidc.None(),
    { execute: [oidc.allowInsecureRequests] },
  );
  return { t, admin, client: registered, issuer, config };
}

/** Authorization with code + PKCE through the console's steps, for `email` of tenant `tenantId`. */
export async function codeThroughConsole(
  app: FastifyInstance,
  base: string,
  op: OpTenant,
  who: { tenantId: number; email: string },
  opts: { scope?: string; extra?: Record<string, string>; consent?: 'allow' | 'deny' } = {},
) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(op.config, {
    redirect_uri: RP_CALLBACK,
    scope: opts.scope ?? 'openid email profile offline_access roles',
    state,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...opts.extra,
  });
  const browser = new OpBrowser(base);
  const seen: InteractionDetails[] = [];
  const callback = await authorizeThroughConsole(
    browser,
    url.href,
    RP_CALLBACK,
    async () => (await login(app, who.tenantId, who.email)).access_token,
    { consent: opts.consent, onDetails: (d) => seen.push(d) },
  );
  return { browser, callback, verifier, state, seen };
}
