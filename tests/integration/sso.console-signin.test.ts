/**
 * Issue 20 item 11: the admin console signs in through SSO on its own page, PUBLIC_URL/admin/sso/callback, which
 * every connection accepts without an admin listing it in redirect_uris, but only for a sign-in bound to the
 * browser that started it (PKCE S256 challenge and the client's state), never in link mode, and only while the
 * console is served. Real HTTP through app.inject and a real OpenID provider (oidc-provider on a loopback port).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant, type TestTenant, type Tokens, uniq } from '../helpers/factories.js';
import { driveProvider, startProvider, type TestProvider } from '../helpers/oidc-provider.js';

const PUBLIC_URL = 'https://console.sso.test';
const CONSOLE_CALLBACK = `${PUBLIC_URL}/admin/sso/callback`;
const SECRET = 'provider-secret-123';

let app: FastifyInstance;
let idp: TestProvider;
let t: TestTenant;
let admin: Tokens;
let connectionId: string;

const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

function authorize(query: Record<string, string>, headers: Record<string, string> = {}, on = app) {
  return on.inject({
    method: 'GET',
    url: `/api/v1/sso/connections/${connectionId}/authorize?${new URLSearchParams(query)}`,
    headers: { 'x-tenant-id': String(t.tenant.id), ...headers },
  });
}

beforeAll(async () => {
  idp = await startProvider([
    { client_id: 'console', client_secret: SECRET, redirect_uri: 'https://unused/cb' },
  ]);
  app = await createTestApp({ PUBLIC_URL });
  t = await newTenant(app);
  admin = await login(app, t.tenant.id, t.admin.email);
  // No redirect_uris at all: the console's page is the only place a code of this connection can go.
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/sso/connections',
    headers: bearer(admin),
    payload: {
      type: 'oidc',
      name: uniq('console'),
      oidc: { issuer: idp.issuer, client_id: 'console', client_secret: SECRET },
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  connectionId = res.json().id;
  idp.allowRedirectUri('console', res.json().oidc.callback_url);
});
afterAll(async () => {
  await app?.close();
  await idp?.close();
});

describe("issue 20 item 11: the console's own SSO callback page", () => {
  it('a console sign-in (state + S256) ends on PUBLIC_URL/admin/sso/callback with the code and state, which only the verifier redeems', async () => {
    const email = `${uniq('jit')}@console-corp.example`;
    const account = uniq('acct');
    idp.accounts.set(account, { email, email_verified: true });
    const { verifier, challenge } = pkce();
    const started = await authorize({
      redirect_uri: CONSOLE_CALLBACK,
      state: 'console-state-1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    expect(started.statusCode, started.body).toBe(200);
    const cb = await driveProvider(
      started.json().auth_url,
      account,
      `${PUBLIC_URL}/api/v1/sso/oidc/callback`,
    );
    const res = await app.inject({ method: 'GET', url: cb.pathname + cb.search });
    expect(res.statusCode, res.body).toBe(302);
    const to = new URL(String(res.headers.location));
    expect(to.origin + to.pathname).toBe(CONSOLE_CALLBACK);
    expect(to.searchParams.get('state')).toBe('console-state-1');
    const code = to.searchParams.get('code')!;
    expect(code).toBeTruthy();

    const tokens = await app.inject({
      method: 'POST',
      url: '/api/v1/sso/token',
      payload: { code, code_verifier: verifier },
    });
    expect(tokens.statusCode, tokens.body).toBe(200);
    const me = await app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { authorization: `Bearer ${tokens.json().access_token}` },
    });
    expect(me.json()).toMatchObject({ email, tenant_id: t.tenant.id });
  });

  it('a code that reached the console page is worthless without the verifier kept by the browser that asked for it', async () => {
    const account = uniq('acct');
    idp.accounts.set(account, { email: `${uniq('stolen')}@console-corp.example`, email_verified: true });
    const started = await authorize({
      redirect_uri: CONSOLE_CALLBACK,
      state: 'console-state-2',
      code_challenge: pkce().challenge,
      code_challenge_method: 'S256',
    });
    const cb = await driveProvider(
      started.json().auth_url,
      account,
      `${PUBLIC_URL}/api/v1/sso/oidc/callback`,
    );
    const res = await app.inject({ method: 'GET', url: cb.pathname + cb.search });
    const code = new URL(String(res.headers.location)).searchParams.get('code')!;
    const stolen = await app.inject({ method: 'POST', url: '/api/v1/sso/token', payload: { code } });
    expect(stolen.statusCode).toBe(400);
    expect(stolen.json().error).toBe('SSO_CODE_INVALID');
  });

  it('refused (SSO_REDIRECT_URI_INVALID) without a PKCE challenge or a state, in link mode, or at a URL that only looks like the page', async () => {
    const { challenge } = pkce();
    const bound = { state: 's', code_challenge: challenge, code_challenge_method: 'S256' };
    const cases: [Record<string, string>, Record<string, string>?][] = [
      [{ redirect_uri: CONSOLE_CALLBACK, state: 's' }],
      [{ redirect_uri: CONSOLE_CALLBACK, code_challenge: challenge, code_challenge_method: 'S256' }],
      [{ redirect_uri: CONSOLE_CALLBACK, ...bound, mode: 'link' }, bearer(admin)],
      [{ redirect_uri: `${CONSOLE_CALLBACK}/`, ...bound }],
      [{ redirect_uri: `${CONSOLE_CALLBACK}?next=x`, ...bound }],
      [{ redirect_uri: CONSOLE_CALLBACK.replace('https:', 'http:'), ...bound }],
      [{ redirect_uri: 'https://console.sso.test.evil.example/admin/sso/callback', ...bound }],
      [{ redirect_uri: `${PUBLIC_URL}/admin/sso/${connectionId}/test`, ...bound }],
    ];
    for (const [query, headers] of cases) {
      const res = await authorize(query, headers);
      expect(res.statusCode, JSON.stringify(query)).toBe(400);
      expect(res.json().error).toBe('SSO_REDIRECT_URI_INVALID');
    }
  });

  it('not while the console is switched off (ADMIN_CONSOLE_ENABLED=false): there is no page to receive the code', async () => {
    const headless = await createTestApp({ PUBLIC_URL, ADMIN_CONSOLE_ENABLED: 'false' }, app);
    try {
      const res = await authorize(
        {
          redirect_uri: CONSOLE_CALLBACK,
          state: 's',
          code_challenge: pkce().challenge,
          code_challenge_method: 'S256',
        },
        {},
        headless,
      );
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('SSO_REDIRECT_URI_INVALID');
    } finally {
      await headless.close();
    }
  });
});
