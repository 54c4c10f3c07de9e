/**
 * Issue 20 item 11 in Debian's chromium: "Sign in with SSO" on the console's sign-in page, against the real API
 * and a real OpenID provider (oidc-provider on a loopback port, with its own sign-in and consent pages). The
 * person types their organisation and email, discovery finds the connection of the email's verified domain, the
 * browser goes to the provider, signs in there and comes back through the API's callback to the console's own
 * page /admin/sso/callback, which exchanges the code with its PKCE verifier: signed in (a JIT user, or an
 * existing account linked by its verified address, through its TOTP step). Also: an
 * address without SSO gets the password form; a cancel at the provider says so in French; a tampered or missing
 * state on the callback page signs nobody in and spends nothing. axe, CSP and console errors watched, at 390 px.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { bearer, login, newTenant, newUser, PASSWORD, type TestTenant, uniq } from '../helpers/factories.js';
import { startProvider, type TestProvider } from '../helpers/oidc-provider.js';
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
let dns: TestDnsServer;
let idp: TestProvider;
let t: TestTenant;
const domain = `${uniq('ssocorp')}.example`;
const findings: AxeFinding[] = [];
const SSO_BUTTON = 'Continue with single sign-on (SSO)';

/** A person the provider knows, with an address in the connection's verified domain. */
function idpAccount(): { id: string; email: string } {
  const id = uniq('acct');
  const email = `${uniq('ida')}@${domain}`;
  idp.accounts.set(id, { email, email_verified: true, given_name: 'Ida', family_name: 'Sso' });
  return { id, email };
}

/** A browser whose pages never reach the internet (the provider's pages import a web font). */
async function browser(viewport?: { width: number; height: number }): Promise<Browsing> {
  const b = await launch(viewport);
  await b.context.route(/^https:\/\/fonts\.(googleapis|gstatic)\.com\//, (r) =>
    r.fulfill({ status: 200, contentType: 'text/css', body: '' }),
  );
  b.page.setDefaultTimeout(15_000);
  return b;
}

/** The sign-in page, in English (or French), with the organisation and the email typed, then the SSO button. */
async function continueWithSso(page: Page, email: string, lang: 'EN' | 'FR' = 'EN') {
  await page.goto(`${server.origin}/admin/`);
  await page.getByRole('button', { name: lang, exact: true }).click();
  await page.getByLabel('Organisation').fill(t.tenant.slug);
  await page.getByLabel(lang === 'EN' ? 'Email' : 'Adresse e-mail', { exact: true }).fill(email);
  await page
    .getByRole('button', {
      name: lang === 'EN' ? SSO_BUTTON : 'Continuer avec l’authentification unique (SSO)',
    })
    .click();
}

/** At the provider: its sign-in page (any password), then its consent page. */
async function signInAtProvider(page: Page, accountId: string) {
  await page.waitForURL((u) => u.href.startsWith(idp.issuer));
  await page.locator('input[name=login]').fill(accountId);
  await page.locator('input[name=password]').fill('any');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
}

const noSideways = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

describe.skipIf(!chromiumAvailable())('issue 20 item 11: sign in with SSO from the console', () => {
  beforeAll(async () => {
    dns = await startDnsServer();
    idp = await startProvider([
      { client_id: 'console', client_secret: 'idp-secret', redirect_uri: 'https://unused/cb' },
    ]);
    server = await startServer({ DNS_SERVERS: dns.address });
    t = await newTenant(server.app);
    const admin = bearer(await login(server.app, t.tenant.id, t.admin.email));
    // What an administrator does on the Single sign-on screen: a connection (no redirect_uris: the console's own
    // page needs none) with the company's domain, verified by its DNS TXT record.
    const created = await server.app.inject({
      method: 'POST',
      url: '/api/v1/sso/connections',
      headers: admin,
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
      headers: admin,
    });
    expect(verified.statusCode, verified.body).toBe(200);
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await idp?.close();
    await dns?.close();
    expect(findings).toEqual([]);
  });

  it('at 390 px: the email leads to the provider, and the person comes back signed in to the console (JIT)', async () => {
    const b = await browser({ width: 390, height: 844 });
    try {
      const { page, problems } = b;
      const person = idpAccount();
      await page.goto(`${server.origin}/admin/`);
      await page.getByRole('button', { name: SSO_BUTTON }).waitFor();
      findings.push(...(await axe(page, 'sign-in with the SSO button (390 px)')));
      expect(await noSideways(page)).toBeLessThanOrEqual(0);

      await continueWithSso(page, person.email);
      await signInAtProvider(page, person.id);

      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      await expect.poll(() => page.locator('.who').textContent()).toBe(person.email);
      // The code and the state left the address bar; the tab's PKCE verifier and state are spent.
      expect(page.url()).toBe(`${server.origin}/admin/`);
      expect(await page.evaluate(() => sessionStorage.getItem('massacorp.console.sso'))).toBeNull();
      findings.push(...(await axe(page, 'overview after SSO (390 px)')));
      expect(await noSideways(page)).toBeLessThanOrEqual(0);
      expect(problems.cspViolations).toEqual([]);
      expect(problems.consoleErrors).toEqual([]);
    } finally {
      await b.close();
    }
  });

  it('an existing account with a second factor: linked by its verified address, then the TOTP step, then signed in', async () => {
    const email = `${uniq('linked')}@${domain}`;
    await newUser(server.app, t.tenant.id, { email, roles: ['member'] });
    const { secret } = await enrolTotp(server.app, t.tenant.id, email);
    const id = uniq('acct');
    idp.accounts.set(id, { email, email_verified: true });
    const b = await browser();
    try {
      const { page, problems } = b;
      await continueWithSso(page, email);
      await signInAtProvider(page, id);
      // The code was exchanged for the MFA step: the sign-in page's own second-factor form, on the callback page.
      await page.getByRole('heading', { name: 'Second factor' }).waitFor();
      expect(new URL(page.url()).search).toBe('');
      findings.push(...(await axe(page, 'SSO callback, second factor')));
      await safeTotpMoment();
      await page.getByLabel('6-digit code').fill(totpCode(secret));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      await expect.poll(() => page.locator('.who').textContent()).toBe(email);
      expect(page.url()).toBe(`${server.origin}/admin/`);
      expect(problems.cspViolations).toEqual([]);
      expect(problems.consoleErrors).toEqual([]);
    } finally {
      await b.close();
    }
  });

  it('no SSO for the address in this organisation: the page says so, and the password signs in', async () => {
    const b = await browser();
    try {
      const { page, problems } = b;
      await continueWithSso(page, t.admin.email);
      await page
        .getByRole('status')
        .getByText(`No single sign-on is set up for ${t.admin.email} in this organisation.`)
        .waitFor();
      findings.push(...(await axe(page, 'sign-in, no SSO for the address')));
      // Still the sign-in page, the password field next.
      await expect
        .poll(() => page.evaluate(() => document.activeElement?.getAttribute('name')))
        .toBe('password');
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      expect(problems.cspViolations).toEqual([]);
    } finally {
      await b.close();
    }
  });

  it('cancelled at the provider: the callback page says so in French, and nobody is signed in', async () => {
    const b = await browser();
    try {
      const { page, problems } = b;
      await continueWithSso(page, idpAccount().email, 'FR');
      await page.waitForURL((u) => u.href.startsWith(idp.issuer));
      await page.getByRole('link', { name: '[ Cancel ]' }).click();
      await page
        .getByRole('alert')
        .getByText('Le fournisseur d’identité a refusé la connexion, ou elle a été annulée.')
        .waitFor();
      expect(new URL(page.url()).pathname).toBe('/admin/sso/callback');
      expect(new URL(page.url()).search).toBe('');
      findings.push(...(await axe(page, 'SSO callback, refused (fr)')));
      await page.getByRole('link', { name: 'Retour à la connexion' }).click();
      await page.getByRole('heading', { name: 'Connexion à la console' }).waitFor();
      expect(problems.cspViolations).toEqual([]);
      expect(problems.consoleErrors).toEqual([]);
    } finally {
      await b.close();
    }
  });

  it('a tampered or missing state on the callback page signs nobody in, and does not spend the code', async () => {
    const b = await browser();
    try {
      const { page } = b;
      const exchanges: string[] = [];
      page.on('request', (r) => {
        if (r.url().includes('/api/v1/sso/token')) exchanges.push(r.url());
      });
      const person = idpAccount();
      await continueWithSso(page, person.email);
      // The genuine landing is held: the console's script does not run on it, so this tab's flow (sessionStorage)
      // stays unspent and the code unused, and its URL carries the code and the state.
      const scripts = /\/admin\/assets\/.*\.js$/;
      await page.route(scripts, (r) =>
        r.fulfill({
          status: 200,
          contentType: 'text/javascript',
          headers: { 'cache-control': 'no-store' },
          body: '',
        }),
      );
      await signInAtProvider(page, person.id);
      await page.waitForURL(/\/admin\/sso\/callback\?/);
      const landing = page.url();
      await page.unroute(scripts);
      const genuine = new URL(landing);
      const code = genuine.searchParams.get('code')!;
      expect(code).toBeTruthy();
      const pending = JSON.parse(
        (await page.evaluate(() => sessionStorage.getItem('massacorp.console.sso'))) ?? 'null',
      ) as { state: string; verifier: string };
      expect(genuine.searchParams.get('state')).toBe(pending.state);

      const tampered = new URL(genuine);
      tampered.searchParams.set('state', `${pending.state}x`);
      const missing = new URL(genuine);
      missing.searchParams.delete('state');
      for (const url of [tampered, missing]) {
        // The tab's flow is put back each time (the page spends it on landing, as it must).
        await page.evaluate(
          (p) => sessionStorage.setItem('massacorp.console.sso', p),
          JSON.stringify(pending),
        );
        await page.goto(url.href);
        await page
          .getByRole('alert')
          .getByText('This sign-in was not started from this browser tab')
          .waitFor();
        expect(new URL(page.url()).search).toBe('');
        expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
      }
      findings.push(...(await axe(page, 'SSO callback, state refused')));
      expect(exchanges).toEqual([]);
      // The code was never spent: the tab that really holds the verifier could still redeem it.
      const redeemed = await server.app.inject({
        method: 'POST',
        url: '/api/v1/sso/token',
        payload: { code, code_verifier: pending.verifier },
      });
      expect(redeemed.statusCode, redeemed.body).toBe(200);
    } finally {
      await b.close();
    }
  });
});
