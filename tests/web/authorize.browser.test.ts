/**
 * Issue 21's sign-in and consent page of the tenant's OpenID Provider (`/admin/authorize?tenant=…&uid=…`) in
 * Debian's chromium. The console and its sign-in are the real app; the provider's four interaction endpoints
 * (`/oidc/{slug}/interaction/{uid}/details|login|consent|abort`) are a small fake of this test, through
 * Playwright's route interception, until the provider exists: an end-to-end test against the real provider
 * replaces it then. The fake checks what the real one will need: the exact paths, the interaction cookie sent
 * with each call, and at `login` a bearer access token that the real API accepts for a user of that tenant.
 *
 * Walked: a password sign-in with the email prefilled from login_hint (no organisation asked, no console session
 * left behind); a sign-in with a second factor; "Continue as" for a user already signed in to the console; the
 * consent page in French at 390 px (scopes in words, an unknown one raw), Allow and Deny; an expired interaction.
 * axe on each page, light and dark; CSP and console errors watched.
 */
import type { BrowserContext, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { bearer, login, newTenant, newUser, uniq } from '../helpers/factories.js';
import { startProvider, type TestProvider } from '../helpers/oidc-provider.js';
import { enrolTotp, safeTotpMoment, totpCode } from '../helpers/totp.js';
import {
  type AxeFinding,
  axe,
  type Browsing,
  chromiumAvailable,
  launch,
  type Server,
  signIn,
  startServer,
} from './harness.js';

if (!chromiumAvailable() && process.env.CI)
  throw new Error('chromium is missing: apt-get install -y chromium');

let server: Server;
let dns: TestDnsServer;
let idp: TestProvider;
const findings: AxeFinding[] = [];

interface Interaction {
  prompt: 'login' | 'consent';
  scopes?: string[];
  login_hint?: string | null;
  expired?: boolean;
}

interface Seen {
  /** `${method} ${action}` per call, in order. */
  calls: string[];
  /** The interaction cookie each call carried. */
  cookies: string[];
  /** Whose token reached `login` (its /auth/me email), or its refusal. */
  loggedIn: string[];
}

/**
 * The fake provider: the four interaction endpoints of `slug` for the interactions in `table`, each answer as
 * the real one will give it; the relying party's callback is a plain page.
 */
async function fakeProvider(
  context: BrowserContext,
  slug: string,
  tenantName: string,
  table: Record<string, Interaction>,
): Promise<Seen> {
  const seen: Seen = { calls: [], cookies: [], loggedIn: [] };
  for (const uid of Object.keys(table))
    await context.addCookies([
      {
        name: '_interaction',
        value: `cookie-${uid}`,
        domain: 'localhost',
        path: `/oidc/${slug}/interaction/${uid}`,
      },
    ]);
  await context.route(`**/oidc/${slug}/interaction/**`, async (route: Route) => {
    const req = route.request();
    const url = new URL(req.url());
    const m = new RegExp(`^/oidc/${slug}/interaction/([^/]+)/(details|login|consent|abort)$`).exec(
      url.pathname,
    );
    const interaction = m ? table[m[1]!] : undefined;
    const json = (status: number, body: unknown) =>
      route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
    if (!m || !interaction) return json(404, { error: 'NOT_FOUND', message: 'Not found' });
    const [, uid, action] = m;
    seen.calls.push(`${req.method()} ${action}`);
    seen.cookies.push((await req.allHeaders()).cookie ?? '');
    if (interaction.expired)
      return json(400, { error: 'INTERACTION_EXPIRED', message: 'The interaction has expired' });
    if (action === 'details' && req.method() === 'GET')
      return json(200, {
        uid,
        prompt: interaction.prompt,
        tenant: { slug, name: tenantName },
        client: { client_id: 'mc_fakeclient0000000000', name: 'Team wiki', first_party: false },
        scopes: interaction.scopes ?? ['openid', 'profile', 'email'],
        login_hint: interaction.login_hint ?? null,
      });
    if (req.method() !== 'POST') return json(405, { error: 'METHOD_NOT_ALLOWED', message: 'no' });
    if (action === 'login') {
      const auth = (await req.allHeaders()).authorization ?? '';
      const me = await server.app.inject({
        method: 'GET',
        url: '/api/v1/auth/me',
        headers: { authorization: auth },
      });
      if (me.statusCode !== 200 || req.postData()) {
        seen.loggedIn.push(`refused ${me.statusCode}`);
        return json(401, { error: 'UNAUTHORIZED', message: 'no valid token' });
      }
      seen.loggedIn.push(me.json().email);
      return json(200, { redirect_to: `${server.origin}/rp/callback?code=fake-${uid}` });
    }
    if (action === 'consent')
      return json(200, { redirect_to: `${server.origin}/rp/callback?code=consented-${uid}` });
    return json(200, { redirect_to: `${server.origin}/rp/callback?error=access_denied` });
  });
  await context.route('**/rp/callback**', (route) =>
    route.fulfill({
      status: 200,
      contentType: 'text/html',
      body: '<!doctype html><html lang="en"><title>Team wiki</title><h1>Back at the application</h1></html>',
    }),
  );
  return seen;
}

const authorize = (page: Page, slug: string, uid: string) =>
  page.goto(`${server.origin}/admin/authorize?tenant=${encodeURIComponent(slug)}&uid=${uid}`);

/** Whether the page is wider than its box. */
const sideways = (page: Page) =>
  page.evaluate(() => {
    const doc = document.scrollingElement!;
    return doc.scrollWidth > doc.clientWidth ? [`page ${doc.scrollWidth} > ${doc.clientWidth}`] : [];
  });

describe.skipIf(!chromiumAvailable())("issue 21: the OpenID Provider's sign-in and consent page", () => {
  beforeAll(async () => {
    dns = await startDnsServer();
    // The organisation's own identity provider, for the SSO way of signing in (not the provider under test).
    idp = await startProvider([
      { client_id: 'console', client_secret: 'idp-secret', redirect_uri: 'https://unused/cb' },
    ]);
    server = await startServer({ DNS_SERVERS: dns.address });
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await idp?.close();
    await dns?.close();
  });

  it('signs a user in for the application with the console sign-in, without a console session', async () => {
    const { tenant, admin } = await newTenant(server.app);
    const mfaUser = await newUser(server.app, tenant.id);
    const totp = await enrolTotp(server.app, tenant.id, mfaUser.email);
    const b: Browsing = await launch({ width: 1280, height: 800 });
    try {
      const page = b.page;
      const seen = await fakeProvider(b.context, tenant.slug, tenant.name, {
        pw: { prompt: 'login', login_hint: admin.email },
        mfa: { prompt: 'login' },
      });
      await authorize(page, tenant.slug, 'pw');
      await page.getByRole('heading', { name: 'Sign in to continue to Team wiki' }).waitFor();
      await page.getByRole('button', { name: 'EN', exact: true }).click();
      await page.getByText(`Team wiki uses your ${tenant.name} account.`).waitFor();
      // The organisation is the provider's: not asked; the email comes from login_hint.
      expect(await page.getByLabel('Organisation').count()).toBe(0);
      expect(await page.getByLabel('Email', { exact: true }).inputValue()).toBe(admin.email);
      expect(await page.getByRole('link', { name: 'Forgot password?' }).count()).toBe(0);
      findings.push(...(await axe(page, 'authorize login')));
      await page.getByLabel('Password', { exact: true }).fill(mfaUser.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Back at the application' }).waitFor();
      expect(page.url()).toBe(`${server.origin}/rp/callback?code=fake-pw`);
      expect(seen.loggedIn).toEqual([admin.email]);
      expect(seen.calls).toEqual(['GET details', 'POST login']);
      // Only this interaction's cookie, on each call.
      expect(seen.cookies).toEqual(['_interaction=cookie-pw', '_interaction=cookie-pw']);

      // The console was not signed in by it.
      await page.goto(`${server.origin}/admin/`);
      await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
      expect(await page.evaluate(() => sessionStorage.getItem('massacorp.console.refresh'))).toBeNull();

      // A second factor, the same way as on the console's sign-in.
      seen.calls.length = 0;
      await authorize(page, tenant.slug, 'mfa');
      await page.getByRole('heading', { name: 'Sign in to continue to Team wiki' }).waitFor();
      expect(await page.getByLabel('Email', { exact: true }).inputValue()).toBe('');
      await page.getByLabel('Email', { exact: true }).fill(mfaUser.email);
      await page.getByLabel('Password', { exact: true }).fill(mfaUser.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Second factor' }).waitFor();
      findings.push(...(await axe(page, 'authorize second factor')));
      await safeTotpMoment();
      await page.getByLabel('6-digit code').fill(totpCode(totp.secret));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('heading', { name: 'Back at the application' }).waitFor();
      expect(seen.loggedIn).toEqual([admin.email, mfaUser.email]);
      expect(seen.calls).toEqual(['GET details', 'POST login']);
      expect(b.problems.cspViolations).toEqual([]);
      expect(b.problems.consoleErrors).toEqual([]);
    } finally {
      await b.close();
    }
    expect(findings).toEqual([]);
  }, 120_000);

  it('lets a user signed in to the console continue as themselves, or use another account', async () => {
    const { tenant, admin } = await newTenant(server.app);
    const b = await launch({ width: 1280, height: 800 }, { colorScheme: 'dark' });
    try {
      const page = b.page;
      const seen = await fakeProvider(b.context, tenant.slug, tenant.name, {
        again: { prompt: 'login' },
        cancel: { prompt: 'login' },
      });
      await signIn(page, server.origin, { organisation: tenant.slug, email: admin.email });
      await authorize(page, tenant.slug, 'again');
      const cont = page.getByRole('button', { name: `Continue as ${admin.email}` });
      await cont.waitFor();
      await page.getByRole('button', { name: 'Use another account' }).waitFor();
      findings.push(...(await axe(page, 'authorize continue as (dark)')));
      await cont.click();
      await page.getByRole('heading', { name: 'Back at the application' }).waitFor();
      expect(seen.loggedIn).toEqual([admin.email]);

      // Cancel: the provider is told (abort), and the browser goes where it says.
      await authorize(page, tenant.slug, 'cancel');
      await page.getByRole('button', { name: 'Use another account' }).click();
      await page.getByLabel('Email', { exact: true }).waitFor();
      await page.getByRole('button', { name: 'Cancel and return to the application' }).click();
      await page.waitForURL(`${server.origin}/rp/callback?error=access_denied`);
      expect(seen.calls.slice(-2)).toEqual(['GET details', 'POST abort']);
      expect(b.problems.cspViolations).toEqual([]);
      expect(b.problems.consoleErrors).toEqual([]);
    } finally {
      await b.close();
    }
    expect(findings).toEqual([]);
  }, 120_000);

  it('signs in through the organisation SSO and comes back to the page, then to the application', async () => {
    const { tenant, admin } = await newTenant(server.app);
    const domain = `${uniq('ssocorp')}.example`;
    const created = await server.app.inject({
      method: 'POST',
      url: '/api/v1/sso/connections',
      headers: bearer(await login(server.app, tenant.id, admin.email)),
      payload: {
        type: 'oidc',
        name: 'Company IdP',
        domains: [domain],
        oidc: { issuer: idp.issuer, client_id: 'console', client_secret: 'idp-secret' },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const conn = created.json() as { id: string; domain_token: string; oidc: { callback_url: string } };
    idp.allowRedirectUri('console', conn.oidc.callback_url);
    dns.txt.set(`_massacorp-verify.${domain}`, [conn.domain_token]);
    const verified = await server.app.inject({
      method: 'POST',
      url: `/api/v1/sso/connections/${conn.id}/domains/${domain}/verify`,
      headers: bearer(await login(server.app, tenant.id, admin.email)),
    });
    expect(verified.statusCode, verified.body).toBe(200);
    // A person the IdP knows (JIT), and an existing account with a second factor (linked by its address).
    const jitId = uniq('acct');
    const jitEmail = `${uniq('ida')}@${domain}`;
    idp.accounts.set(jitId, { email: jitEmail, email_verified: true, given_name: 'Ida', family_name: 'Sso' });
    const mfaEmail = `${uniq('linked')}@${domain}`;
    await newUser(server.app, tenant.id, { email: mfaEmail, roles: ['member'] });
    const { secret } = await enrolTotp(server.app, tenant.id, mfaEmail);
    const mfaId = uniq('acct');
    idp.accounts.set(mfaId, { email: mfaEmail, email_verified: true });

    const b = await launch({ width: 390, height: 844 });
    try {
      const page = b.page;
      // The IdP's pages import a web font: never fetched.
      await b.context.route(/^https:\/\/fonts\.(googleapis|gstatic)\.com\//, (r) =>
        r.fulfill({ status: 200, contentType: 'text/css', body: '' }),
      );
      const seen = await fakeProvider(b.context, tenant.slug, tenant.name, {
        jit: { prompt: 'login', login_hint: jitEmail },
        mfa: { prompt: 'login', login_hint: mfaEmail },
      });
      const atIdp = async (accountId: string) => {
        await page.waitForURL((u) => u.href.startsWith(idp.issuer));
        await page.locator('input[name=login]').fill(accountId);
        await page.locator('input[name=password]').fill('any');
        await page.getByRole('button', { name: 'Sign-in' }).click();
        await page.getByRole('button', { name: 'Continue' }).click();
      };

      await authorize(page, tenant.slug, 'jit');
      await page.getByRole('button', { name: 'Continue with single sign-on (SSO)' }).click();
      await atIdp(jitId);
      await page.getByRole('heading', { name: 'Back at the application' }).waitFor();
      expect(page.url()).toBe(`${server.origin}/rp/callback?code=fake-jit`);
      expect(seen.loggedIn).toEqual([jitEmail]);
      expect(seen.cookies.at(-1)).toBe('_interaction=cookie-jit');

      // Another person: the IdP's own session (of the first one) goes.
      await b.context.clearCookies({ domain: '127.0.0.1' });
      await authorize(page, tenant.slug, 'mfa');
      await page.getByRole('button', { name: 'Continue with single sign-on (SSO)' }).click();
      await atIdp(mfaId);
      await page.getByRole('heading', { name: 'Second factor' }).waitFor();
      findings.push(...(await axe(page, 'SSO second factor for an application (390 px)')));
      await safeTotpMoment();
      await page.getByLabel('6-digit code').fill(totpCode(secret));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('heading', { name: 'Back at the application' }).waitFor();
      expect(seen.loggedIn).toEqual([jitEmail, mfaEmail]);
      expect(seen.calls).toEqual(['GET details', 'POST login', 'GET details', 'POST login']);

      // Neither sign-in opened a console session.
      await page.goto(`${server.origin}/admin/`);
      await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
      expect(await page.evaluate(() => sessionStorage.getItem('massacorp.console.refresh'))).toBeNull();
      expect(await page.evaluate(() => sessionStorage.getItem('massacorp.console.sso'))).toBeNull();

      // The way back is followed only to this console's /authorize page: a refused SSO sign-in links there, or
      // to the console's sign-in when the kept path points anywhere else.
      for (const [returnTo, href] of [
        ['/authorize?tenant=acme&uid=u1', '/admin/authorize?tenant=acme&uid=u1'],
        ['//evil.example/authorize?tenant=acme&uid=u1', '/admin/'],
        ['/users?x=/authorize?', '/admin/'],
      ] as const) {
        await page.evaluate(
          (back) =>
            sessionStorage.setItem(
              'massacorp.console.sso',
              JSON.stringify({ state: 's1', verifier: 'v', tenant: 'acme', returnTo: back }),
            ),
          returnTo,
        );
        await page.goto(`${server.origin}/admin/sso/callback?state=s1&error=SSO_IDP_ERROR`);
        await page.getByRole('alert').waitFor();
        expect(await page.locator('a.signin-aside').getAttribute('href'), returnTo).toBe(href);
      }
      expect(b.problems.cspViolations).toEqual([]);
      expect(b.problems.consoleErrors).toEqual([]);
    } finally {
      await b.close();
    }
    expect(findings).toEqual([]);
  }, 120_000);

  it('asks consent in French at 390 px (Allow, Deny), and says when the link expired', async () => {
    const { tenant } = await newTenant(server.app);
    for (const scheme of ['light', 'dark'] as const) {
      const b = await launch({ width: 390, height: 844 }, { colorScheme: scheme });
      try {
        const page = b.page;
        const seen = await fakeProvider(b.context, tenant.slug, tenant.name, {
          yes: { prompt: 'consent', scopes: ['openid', 'email', 'offline_access', 'wiki:write'] },
          no: { prompt: 'consent' },
          old: { prompt: 'login', expired: true },
        });
        await authorize(page, tenant.slug, 'yes');
        await page.getByRole('button', { name: 'FR', exact: true }).click();
        await page.getByRole('heading', { name: 'Autoriser Team wiki ?' }).waitFor();
        const list = page.getByRole('list', { name: 'Team wiki souhaite :' });
        expect(await list.getByRole('listitem').allTextContents()).toEqual([
          'Savoir qui vous êtes',
          'Voir votre adresse e-mail',
          'Rester connecté en votre absence',
          'wiki:write',
        ]);
        expect(await sideways(page)).toEqual([]);
        findings.push(...(await axe(page, `consent fr ${scheme}`)));
        await page.getByRole('button', { name: 'Autoriser' }).click();
        await page.waitForURL(`${server.origin}/rp/callback?code=consented-yes`);

        await authorize(page, tenant.slug, 'no');
        await page.getByRole('button', { name: 'Refuser' }).click();
        await page.waitForURL(`${server.origin}/rp/callback?error=access_denied`);
        expect(seen.calls).toEqual(['GET details', 'POST consent', 'GET details', 'POST abort']);

        await authorize(page, tenant.slug, 'old');
        await page
          .getByText('Ce lien de connexion a expiré. Revenez à l’application et réessayez.')
          .waitFor();
        await page.getByRole('button', { name: 'EN', exact: true }).click();
        await authorize(page, tenant.slug, 'old');
        await page
          .getByText('This sign-in link expired. Go back to the application and try again.')
          .waitFor();
        findings.push(...(await axe(page, `authorize expired ${scheme}`)));
        expect(await sideways(page)).toEqual([]);
        expect(b.problems.cspViolations).toEqual([]);
        // The expired interaction's 400s are the only failed requests.
        expect(b.problems.consoleErrors.filter((e) => !/status of 400/.test(e))).toEqual([]);
      } finally {
        await b.close();
      }
    }
    expect(findings).toEqual([]);
  }, 120_000);
});
