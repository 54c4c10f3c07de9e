/**
 * Issue 21 end to end: a tenant's OpenID Provider (the real one, at PUBLIC_URL/oidc/{slug}), its sign-in and
 * consent page (the real /admin/authorize), a relying party built on openid-client and Debian's chromium between
 * them. The relying party's redirect URI is a small HTTP server of this test on the loopback, which records each
 * callback's query; the browser's origin is the app's PUBLIC_URL, so the issuer the browser meets is the one
 * openid-client discovered.
 *
 * Walked: a confidential client, code + PKCE S256 with state and nonce, the user signs in with a password (the
 * email prefilled from login_hint), consents to the scopes listed in words, and lands on the callback with
 * `code`, `state` and `iss`; the code is exchanged (ID token: sub, amr ['pwd'], nonce) and userinfo read; a
 * second authorization in the same browser asks no sign-in (the provider's session). A first-party client (an
 * https redirect: a web client): no consent, a second factor asked, amr ['pwd','mfa']. Deny:
 * `error=access_denied`. After each sign-in, the API session the page opened for the hand-over is ended (the
 * user's active sessions are as before) and no console session is left in the tab. axe on the real pages; CSP
 * and console errors watched.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, login, newTenant, newUser, type Tokens } from '../helpers/factories.js';
import { registerClient } from '../helpers/op-browser.js';
import { enrolTotp, safeTotpMoment, totpCode } from '../helpers/totp.js';
import {
  type AxeFinding,
  axe,
  type Browsing,
  chromiumAvailable,
  launch,
  type Server,
  startServer,
} from './harness.js';

if (!chromiumAvailable() && process.env.CI)
  throw new Error('chromium is missing: apt-get install -y chromium');

let server: Server;
let rp: RelyingParty;
const findings: AxeFinding[] = [];

/**
 * The relying party's side: a loopback HTTP server whose `/cb` records the query and says so in a page, and the
 * same over https (a self-signed certificate, which the browser of the first-party case is told to accept).
 * Over plain http a loopback redirect makes the client a native one (RFC 8252); over https it is a web client.
 */
interface RelyingParty {
  callback: string;
  httpsCallback: string;
  seen: URLSearchParams[];
  close: () => Promise<void>;
}

async function startRelyingParty(): Promise<RelyingParty> {
  const seen: URLSearchParams[] = [];
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/cb') {
      // The browser asks for /favicon.ico: nothing, without an error in the console.
      res.writeHead(url.pathname === '/favicon.ico' ? 204 : 404).end();
      return;
    }
    seen.push(url.searchParams);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(
      '<!doctype html><html lang="en"><head><title>Team wiki</title></head>' +
        '<body><main><h1>Back at the application</h1></main></body></html>',
    );
  };
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], { keySize: 2048 });
  const servers = [createServer(handle), createHttpsServer({ key: pems.private, cert: pems.cert }, handle)];
  const ports: number[] = [];
  for (const srv of servers) {
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    ports.push((srv.address() as AddressInfo).port);
  }
  return {
    callback: `http://127.0.0.1:${ports[0]}/cb`,
    httpsCallback: `https://127.0.0.1:${ports[1]}/cb`,
    seen,
    close: async () => {
      for (const srv of servers) await new Promise((resolve) => srv.close(resolve));
    },
  };
}

interface Setup {
  slug: string;
  tenantId: number;
  tenantName: string;
  admin: Tokens;
  config: oidc.Configuration;
  /** The client's (first) redirect URI, where the authorization requests send the browser back. */
  redirectUri: string;
}

/** A tenant, its admin signed in through the API, and a confidential client named Team wiki registered. */
async function setup(client: Record<string, unknown> = {}): Promise<Setup> {
  const redirectUri = (client.redirect_uris as string[] | undefined)?.[0] ?? rp.callback;
  const { tenant, admin } = await newTenant(server.app);
  const tokens = await login(server.app, tenant.id, admin.email);
  const registered = await registerClient(server.app, tokens, {
    name: 'Team wiki',
    type: 'confidential',
    redirect_uris: [rp.callback],
    grant_types: ['authorization_code'],
    allowed_scopes: ['openid', 'profile', 'email'],
    ...client,
  });
  expect(registered.client_secret).toBeTruthy();
  const config = await oidc.discovery(
    new URL(`${server.origin}/oidc/${tenant.slug}`),
    registered.client_id,
    registered.client_secret!,
    undefined,
    { execute: [oidc.allowInsecureRequests] },
  );
  return {
    slug: tenant.slug,
    tenantId: tenant.id,
    tenantName: tenant.name,
    admin: tokens,
    config,
    redirectUri,
  };
}

interface Started {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

async function authorizationUrl(s: Setup, extra: Record<string, string> = {}): Promise<Started> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(s.config, {
    redirect_uri: s.redirectUri,
    scope: 'openid email profile',
    state,
    nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...extra,
  });
  return { url, verifier, state, nonce };
}

/** The user's sessions as an admin sees them: the active ones, and every one (ended ones too). */
async function sessionsOf(s: Setup, userId: number) {
  const read = async (inactive: boolean) => {
    const res = await server.app.inject({
      method: 'GET',
      url: `/api/v1/users/${userId}/sessions${inactive ? '?include_inactive=true' : ''}`,
      headers: bearer(s.admin),
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().sessions as { id: string; is_active: boolean; user_agent?: string | null }[];
  };
  return { active: await read(false), all: await read(true) };
}

/** Where the page is now: the console's /admin/authorize for this tenant, with an interaction uid. */
function atAuthorizePage(page: Page, slug: string) {
  const u = new URL(page.url());
  expect(u.origin).toBe(server.origin);
  expect(u.pathname).toBe('/admin/authorize');
  expect(u.searchParams.get('tenant')).toBe(slug);
  expect(u.searchParams.get('uid')).toMatch(/^[A-Za-z0-9_-]+$/);
}

/** What the relying party's callback received, and the browser showing its page. */
async function backAtRp(page: Page, s: Setup): Promise<URL> {
  await page.waitForURL((u) => u.href.startsWith(`${s.redirectUri}?`));
  await page.getByRole('heading', { name: 'Back at the application' }).waitFor();
  const url = new URL(page.url());
  expect(rp.seen.at(-1)?.toString()).toBe(url.searchParams.toString());
  return url;
}

/** The tab holds no console session: /admin/ asks for a sign-in, and no refresh token is kept. */
async function noConsoleSession(page: Page) {
  await page.goto(`${server.origin}/admin/`);
  await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
  expect(await page.evaluate(() => sessionStorage.getItem('massacorp.console.refresh'))).toBeNull();
}

describe.skipIf(!chromiumAvailable())('issue 21: the OpenID Provider end to end, in a browser', () => {
  beforeAll(async () => {
    rp = await startRelyingParty();
    server = await startServer();
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await rp?.close();
  });

  it('code + PKCE: the real sign-in page, consent, the callback, the code exchanged, userinfo', async () => {
    const s = await setup();
    const user = await newUser(server.app, s.tenantId);
    const before = await sessionsOf(s, user.id);
    const flow = await authorizationUrl(s, { login_hint: user.email });
    const b: Browsing = await launch({ width: 1280, height: 800 });
    try {
      const page = b.page;
      await page.goto(flow.url.href);
      await page.getByRole('heading', { name: 'Sign in to continue to Team wiki' }).waitFor();
      atAuthorizePage(page, s.slug);
      await page.getByRole('button', { name: 'EN', exact: true }).click();
      await page.getByText(`Team wiki uses your ${s.tenantName} account.`).waitFor();
      // The organisation is the provider's, the email the relying party's login_hint.
      expect(await page.getByLabel('Organisation').count()).toBe(0);
      expect(await page.getByLabel('Email', { exact: true }).inputValue()).toBe(user.email);
      findings.push(...(await axe(page, 'authorize sign-in (real provider)')));
      await page.getByLabel('Password', { exact: true }).fill(user.password);
      await page.getByRole('button', { name: 'Sign in' }).click();

      // Consent, on the same page, the scopes said in words in the order asked.
      await page.getByRole('heading', { name: 'Allow Team wiki?' }).waitFor();
      atAuthorizePage(page, s.slug);
      const list = page.getByRole('list', { name: 'Team wiki wants to:' });
      expect(await list.getByRole('listitem').allTextContents()).toEqual([
        'Know who you are',
        'See your email address',
        'See your name and profile',
      ]);
      findings.push(...(await axe(page, 'consent (real provider)')));
      await page.getByRole('button', { name: 'Allow' }).click();

      const callback = await backAtRp(page, s);
      expect(callback.searchParams.get('code')).toBeTruthy();
      expect(callback.searchParams.get('state')).toBe(flow.state);
      expect(callback.searchParams.get('iss')).toBe(`${server.origin}/oidc/${s.slug}`);
      // openid-client checks iss, state, PKCE and nonce, and the ID token's signature against the JWKS.
      const tokens = await oidc.authorizationCodeGrant(s.config, callback, {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
      });
      const claims = tokens.claims()!;
      expect(claims.sub).toBe(String(user.id));
      expect(claims.amr).toEqual(['pwd']);
      expect(claims.nonce).toBe(flow.nonce);
      const info = await oidc.fetchUserInfo(s.config, tokens.access_token, claims.sub);
      expect(info).toMatchObject({ sub: String(user.id), email: user.email, name: 'Test User' });

      // The provider keeps its own session: a second authorization asks no sign-in. It asks consent again: a
      // loopback redirect makes the client a native one (RFC 8252), and oidc-provider's policy asks a native
      // client's user every time (RFC 8252 §8.6: anything on the machine may listen there).
      const again = await authorizationUrl(s);
      await page.goto(again.url.href);
      await page.getByRole('heading', { name: 'Allow Team wiki?' }).waitFor();
      await page.getByRole('button', { name: 'Allow' }).click();
      const second = await backAtRp(page, s);
      expect(second.searchParams.get('state')).toBe(again.state);
      const renewed = await oidc.authorizationCodeGrant(s.config, second, {
        pkceCodeVerifier: again.verifier,
        expectedState: again.state,
        expectedNonce: again.nonce,
      });
      expect(renewed.claims()!.sub).toBe(String(user.id));

      // The API session the page opened to hand the sign-in over was ended: the user's active sessions are as
      // before, and the ended one is the browser's.
      const after = await sessionsOf(s, user.id);
      expect(after.active.map((x) => x.id)).toEqual(before.active.map((x) => x.id));
      const ended = after.all.filter((x) => !before.all.some((y) => y.id === x.id));
      expect(ended).toHaveLength(1);
      expect(ended[0]).toMatchObject({ is_active: false });
      expect(ended[0]!.user_agent ?? '').toMatch(/HeadlessChrome/);
      // Nor a console session in the tab.
      await noConsoleSession(page);
      expect(b.problems.cspViolations).toEqual([]);
      expect(b.problems.consoleErrors).toEqual([]);
    } finally {
      await b.close();
    }
    expect(findings).toEqual([]);
  }, 120_000);

  it('a first-party client asks no consent; a user with TOTP gives the second factor: amr pwd + mfa', async () => {
    // A web client (an https redirect); a first-party confidential client with a loopback one skips consent too
    // (oidc-provider.security.test.ts, 'consent').
    const s = await setup({ first_party: true, redirect_uris: [rp.httpsCallback] });
    const user = await newUser(server.app, s.tenantId);
    const { secret } = await enrolTotp(server.app, s.tenantId, user.email);
    const before = await sessionsOf(s, user.id);
    const flow = await authorizationUrl(s);
    const b = await launch({ width: 390, height: 844 }, { colorScheme: 'dark', ignoreHTTPSErrors: true });
    try {
      const page = b.page;
      await page.goto(flow.url.href);
      await page.getByRole('heading', { name: 'Sign in to continue to Team wiki' }).waitFor();
      atAuthorizePage(page, s.slug);
      await page.getByRole('button', { name: 'EN', exact: true }).click();
      // No login_hint: the email is asked.
      expect(await page.getByLabel('Email', { exact: true }).inputValue()).toBe('');
      await page.getByLabel('Email', { exact: true }).fill(user.email);
      await page.getByLabel('Password', { exact: true }).fill(user.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Second factor' }).waitFor();
      findings.push(...(await axe(page, 'authorize second factor (real provider, dark)')));
      await safeTotpMoment();
      await page.getByLabel('6-digit code').fill(totpCode(secret));
      await page.getByRole('button', { name: 'Verify' }).click();

      // Straight to the application: a first-party client's grant needs no consent.
      const callback = await backAtRp(page, s);
      expect(callback.searchParams.get('state')).toBe(flow.state);
      expect(callback.searchParams.get('iss')).toBe(`${server.origin}/oidc/${s.slug}`);
      const tokens = await oidc.authorizationCodeGrant(s.config, callback, {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
      });
      const claims = tokens.claims()!;
      expect(claims.sub).toBe(String(user.id));
      expect(claims.amr).toEqual(['pwd', 'mfa']);
      expect(claims.acr).toBe('urn:massacorp:acr:mfa');
      const info = await oidc.fetchUserInfo(s.config, tokens.access_token, claims.sub);
      expect(info.email).toBe(user.email);

      const after = await sessionsOf(s, user.id);
      expect(after.active.map((x) => x.id)).toEqual(before.active.map((x) => x.id));
      expect(after.all.length).toBe(before.all.length + 1);
      await noConsoleSession(page);
      expect(b.problems.cspViolations).toEqual([]);
      expect(b.problems.consoleErrors).toEqual([]);
    } finally {
      await b.close();
    }
    expect(findings).toEqual([]);
  }, 120_000);

  it('Deny on consent sends the browser back to the application with access_denied', async () => {
    const s = await setup();
    const user = await newUser(server.app, s.tenantId);
    const flow = await authorizationUrl(s, { login_hint: user.email });
    const b = await launch({ width: 1280, height: 800 });
    try {
      const page = b.page;
      await page.goto(flow.url.href);
      await page.getByRole('heading', { name: 'Sign in to continue to Team wiki' }).waitFor();
      await page.getByRole('button', { name: 'EN', exact: true }).click();
      await page.getByLabel('Password', { exact: true }).fill(user.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Allow Team wiki?' }).waitFor();
      await page.getByRole('button', { name: 'Deny' }).click();

      const callback = await backAtRp(page, s);
      expect(callback.searchParams.get('error')).toBe('access_denied');
      expect(callback.searchParams.get('code')).toBeNull();
      expect(callback.searchParams.get('state')).toBe(flow.state);
      expect(callback.searchParams.get('iss')).toBe(`${server.origin}/oidc/${s.slug}`);
      // What the relying party's library makes of it.
      await expect(
        oidc.authorizationCodeGrant(s.config, callback, {
          pkceCodeVerifier: flow.verifier,
          expectedState: flow.state,
          expectedNonce: flow.nonce,
        }),
      ).rejects.toMatchObject({ error: 'access_denied' });
      await noConsoleSession(page);
      expect(b.problems.cspViolations).toEqual([]);
      expect(b.problems.consoleErrors).toEqual([]);
    } finally {
      await b.close();
    }
    expect(findings).toEqual([]);
  }, 120_000);
});
