/**
 * Issue 21 with a packaged relying party: Debian's Apache httpd + mod_auth_openidc (tests/helpers/apache-oidc.ts),
 * configured only from the tenant's discovery URL and the registry's client id and secret, signs a user in with
 * code + PKCE, reads userinfo, refreshes, and logs out (RP-initiated, through the OP's confirmation page); a user of
 * another tenant cannot sign in to this tenant's client. The test plays the browser (OpBrowser: one cookie jar for
 * Apache and the OP, both on 127.0.0.1) and the console page (authorizeThroughConsole).
 *
 * Missing apache2 or the module skips the file on a workstation; under CI it fails (.ci/run installs them).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApacheOidc,
  apacheOidcAvailable,
  apacheUris,
  parseVars,
  startApacheOidc,
} from '../helpers/apache-oidc.js';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant, newUser, type TestTenant, uniq } from '../helpers/factories.js';
import { authorizeThroughConsole, freePort, OpBrowser } from '../helpers/op-browser.js';

const available = apacheOidcAvailable();
// Under CI a missing engine is a failure (beforeAll throws), never a silent skip.
const skip = !available && !process.env.CI;

let app: FastifyInstance;
let base: string;
let t: TestTenant;
let apache: ApacheOidc | undefined;
let client: { client_id: string; client_secret: string };
let issuer: string;

/** What mod_auth_openidc's info hook (`redirect_uri?info=json`, OIDCInfoHook) returns for the session. */
interface SessionInfo {
  access_token: string;
  access_token_expires: number;
  refresh_token: string;
  id_token: Record<string, unknown>;
  userinfo: Record<string, unknown>;
}

async function sessionInfo(browser: OpBrowser): Promise<SessionInfo> {
  const res = await browser.fetch(`${apache!.redirectUri}?info=json`);
  expect(res.status, await failure(res)).toBe(200);
  return (await res.json()) as SessionInfo;
}

/** The response's body and Apache's error log, for a failed expectation's message. */
async function failure(res: Response): Promise<string> {
  return `${res.status} ${await res.clone().text()}\n--- apache error log ---\n${await apache!.errorLog()}`;
}

/** RFC 7662 introspection at the OP, as the client (does not consume the token). */
async function introspect(token: string): Promise<{ active: boolean }> {
  const res = await fetch(`${issuer}/token/introspection`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ token }).toString(),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { active: boolean };
}

/** From an unauthenticated visit of the protected page to the OP's authorization request Apache sends. */
async function visitProtected(browser: OpBrowser): Promise<URL> {
  const res = await browser.fetch(`${apache!.base}/protected/claims`);
  expect(res.status, await failure(res)).toBe(302);
  return new URL(res.headers.get('location')!);
}

// Counted as a failed test (not only a failed hook) in CI's results when the engine is missing.
it.skipIf(!process.env.CI)('CI has apache2 and libapache2-mod-auth-openidc installed', () => {
  expect(available, 'apt-get install apache2 libapache2-mod-auth-openidc').toBe(true);
});

describe.skipIf(skip)('issue 21: Apache httpd + mod_auth_openidc as the relying party', () => {
  beforeAll(async () => {
    if (!available)
      throw new Error(
        'CI: apache2 or mod_auth_openidc is missing (apt-get install apache2 libapache2-mod-auth-openidc)',
      );
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    app = await createTestApp({ PUBLIC_URL: base });
    await app.listen({ port, host: '127.0.0.1' });
    t = await newTenant(app);
    const admin = await login(app, t.tenant.id, t.admin.email);
    const apachePortNo = await freePort();
    const uris = apacheUris(apachePortNo);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/oidc/clients',
      headers: bearer(admin),
      payload: {
        name: uniq('apache'),
        type: 'confidential',
        redirect_uris: [uris.redirectUri],
        post_logout_redirect_uris: [uris.loggedOutUrl],
        grant_types: ['authorization_code', 'refresh_token'],
        allowed_scopes: ['openid', 'profile', 'email', 'offline_access'],
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    client = res.json();
    issuer = `${base}/oidc/${t.tenant.slug}`;
    apache = await startApacheOidc({
      metadataUrl: `${issuer}/.well-known/openid-configuration`,
      clientId: client.client_id,
      clientSecret: client.client_secret,
      port: apachePortNo,
    });
  });

  afterAll(async () => {
    // Also after a failed beforeAll: the apache2 process must not outlive the file.
    await apache?.stop();
    await app?.close();
  });

  it('code + PKCE sign-in shows the claims, userinfo was read, refresh rotates, logout ends both sessions', async () => {
    const user = await newUser(app, t.tenant.id);
    const browser = new OpBrowser(base, { navigation: true });

    // The authorization request mod_auth_openidc builds from our discovery document.
    const authz = await visitProtected(browser);
    expect(authz.href.startsWith(`${issuer}/auth?`)).toBe(true);
    expect(authz.searchParams.get('client_id')).toBe(client.client_id);
    expect(authz.searchParams.get('response_type')).toBe('code');
    expect(authz.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authz.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(authz.searchParams.get('scope')!.split(' ').sort()).toEqual([
      'email',
      'offline_access',
      'openid',
      'profile',
    ]);

    const callback = await authorizeThroughConsole(
      browser,
      authz.href,
      apache!.redirectUri,
      async () => (await login(app, t.tenant.id, user.email)).access_token,
    );
    expect(callback.searchParams.get('code'), callback.href).toBeTruthy();
    // Apache redeems the code (with the verifier and its secret), then sends the browser back to the page.
    const back = await browser.fetch(callback.href);
    expect(back.status, await failure(back)).toBe(302);
    expect(back.headers.get('location')).toBe(`${apache!.base}/protected/claims`);
    const page = await browser.fetch(back.headers.get('location')!);
    expect(page.status, await failure(page)).toBe(200);
    const vars = parseVars(await page.text());
    expect(vars.OIDC_CLAIM_sub).toBe(String(user.id));
    expect(vars.OIDC_CLAIM_email).toBe(user.email);
    expect(vars.OIDC_CLAIM_name).toBe('Test User');
    expect(vars.REMOTE_USER).toBe(user.email);

    // The ID token carries no email or name (those are in the ID token only when no access token is issued): the
    // page's came from the userinfo endpoint, which mod_auth_openidc called with the access token.
    const info = await sessionInfo(browser);
    expect(info.id_token).toMatchObject({ iss: issuer, sub: String(user.id), aud: client.client_id });
    expect(info.id_token).not.toHaveProperty('email');
    expect(info.id_token).not.toHaveProperty('name');
    expect(info.userinfo).toMatchObject({ sub: String(user.id), email: user.email, name: 'Test User' });
    expect(info.refresh_token).toBeTruthy();
    expect(await introspect(info.refresh_token)).toMatchObject({ active: true });

    // Refresh through the module's refresh endpoint (the expiring access token is its XSRF check): a new access
    // token and, rotated by the OP, a new refresh token; the OP considers the old one spent.
    const refresh = await browser.fetch(
      `${apache!.redirectUri}?${new URLSearchParams({ refresh: '/protected/claims', access_token: info.access_token })}`,
    );
    expect(refresh.status, await failure(refresh)).toBe(302);
    expect(refresh.headers.get('location')).toBe('/protected/claims');
    const after = await sessionInfo(browser);
    expect(after.access_token).not.toBe(info.access_token);
    expect(after.refresh_token).toBeTruthy();
    expect(after.refresh_token).not.toBe(info.refresh_token);
    expect(await introspect(after.refresh_token)).toMatchObject({ active: true });
    expect(await introspect(info.refresh_token)).toMatchObject({ active: false });
    const stillIn = await browser.fetch(`${apache!.base}/protected/claims`);
    expect(stillIn.status, await failure(stillIn)).toBe(200);

    // Logout: Apache ends its session and sends the browser to our end_session endpoint with the ID token hint;
    // the user confirms on the OP's page and lands on the registered post-logout URI.
    const logout = await browser.fetch(
      `${apache!.redirectUri}?${new URLSearchParams({ logout: apache!.loggedOutUrl })}`,
    );
    expect(logout.status, await failure(logout)).toBe(302);
    const endSession = new URL(logout.headers.get('location')!);
    expect(endSession.href.startsWith(`${issuer}/session/end?`)).toBe(true);
    expect(endSession.searchParams.get('id_token_hint')).toBeTruthy();
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(apache!.loggedOutUrl);
    const confirm = await browser.fetch(endSession.href);
    expect(confirm.status).toBe(200);
    const html = await confirm.text();
    const action = /action="([^"]+)"/.exec(html)![1]!;
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
    const confirmed = await browser.fetch(action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf, logout: 'yes' }).toString(),
    });
    expect(confirmed.status).toBe(303);
    const landing = new URL(confirmed.headers.get('location')!);
    expect(`${landing.origin}${landing.pathname}`).toBe(apache!.loggedOutUrl);
    expect((await browser.fetch(landing.href)).status).toBe(200);
    // mod_auth_openidc also revoked the session's tokens at our revocation endpoint (RFC 7009) on logout.
    expect(await introspect(after.refresh_token)).toMatchObject({ active: false });
    expect(await introspect(after.access_token)).toMatchObject({ active: false });
    // Apache's session is gone: the page starts a new sign-in, and the OP's session is gone too (it asks for a login).
    const again = await visitProtected(browser);
    const step = await browser.follow(again.href, (u) => u.pathname === '/admin/authorize');
    const uid = step.url.searchParams.get('uid');
    expect(uid, step.url.href).toBeTruthy();
    const details = await browser.fetch(`/oidc/${t.tenant.slug}/interaction/${uid}/details`);
    expect((await details.json()).prompt).toBe('login');
  });

  it("a second tenant's user cannot sign in to the first tenant's client, and Apache never shows the page", async () => {
    const other = await newTenant(app);
    const stranger = await newUser(app, other.tenant.id);
    const browser = new OpBrowser(base, { navigation: true });
    const authz = await visitProtected(browser);
    await expect(
      authorizeThroughConsole(
        browser,
        authz.href,
        apache!.redirectUri,
        async () => (await login(app, other.tenant.id, stranger.email)).access_token,
      ),
    ).rejects.toThrow(/^login: 403 .*OIDC_WRONG_TENANT/);
    const res = await browser.fetch(`${apache!.base}/protected/claims`);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')!.startsWith(`${issuer}/auth?`)).toBe(true);
  });
});
