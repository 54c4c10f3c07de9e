/**
 * Issue 13 (the console's "Single sign-on" screen, left there by issue 14), in Debian's chromium against the real
 * API: an administrator creates an OIDC connection with a domain, sees the DNS TXT record and the callback URL to
 * register, verifies the domain (against the tests' DNS server on the loopback), edits the connection (the
 * client secret is never sent back to the browser nor shown), checks it in French at phone width, deletes it;
 * a viewer (sso.read) sees the screen without any write control. axe, CSP and console errors as in the other
 * browser tests.
 */
import { eq } from 'drizzle-orm';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClientSecret } from '../../src/modules/sso/service.js';
import { ssoConnections } from '../../src/modules/sso/tables.js';
import { ADMIN_CSP } from '../../src/platform/http/admin-console.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { newTenant, newUser, PASSWORD, uniq } from '../helpers/factories.js';
import { type Caller, userWith } from '../helpers/rbac.js';
import { buildResponse, idpMetadataXml, makeIdpKeys, parseAuthnRequestUrl } from '../helpers/saml-idp.js';
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
let b: Browsing;
let page: Page;
let tenantId: number;
let tenantSlug: string;
let adminEmail: string;
let checker: Caller;
const findings: AxeFinding[] = [];
/** Every response body of the SSO API the browser received, to prove the secret never came back. */
const ssoBodies: string[] = [];
const ssoRequests: string[] = [];
const domain = `${uniq('corp')}.example`;
const name = `Okta ${uniq('c')}`;
const renamed = `${name} prod`;
const clientSecret = `oidc-secret-${uniq('s')}-do-not-show`;
let connectionId = '';

async function check(screen: string) {
  findings.push(...(await axe(page, screen)));
}

async function nav(label: RegExp, main = 'Main navigation') {
  const menu = page.getByRole('button', { name: 'Menu' });
  if (await menu.isVisible()) await menu.click();
  await page.getByRole('navigation', { name: main }).getByRole('link', { name: label }).click();
}

async function signIn(email: string) {
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Signed in: back on the page that was open at sign-out, or the overview.
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

async function signOut() {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByText('You are signed out.').waitFor();
}

/** The page's horizontal overflow, and the elements that stick out on the right (to say what to fix). */
async function overflow(): Promise<{ px: number; culprits: string[] }> {
  return page.evaluate(() => {
    const w = window.innerWidth;
    const culprits = [...document.querySelectorAll('main *')]
      .filter((e) => e.getBoundingClientRect().right > w + 1 && !e.closest('.sr-only, .table-wrap'))
      .slice(0, 5)
      .map((e) => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`);
    return { px: document.documentElement.scrollWidth - w, culprits };
  });
}

/** Everything the page shows or holds in a field: the secret must be in none of it. */
async function pageText(): Promise<string> {
  return page.evaluate(
    () =>
      document.documentElement.outerHTML +
      [...document.querySelectorAll('input, textarea')].map((e) => (e as HTMLInputElement).value).join('\n'),
  );
}

describe.skipIf(!chromiumAvailable())(
  'issue 13 sso: the console Single sign-on screen in a real browser',
  () => {
    beforeAll(async () => {
      dns = await startDnsServer();
      server = await startServer({ DNS_SERVERS: dns.address });
      const t = await newTenant(server.app);
      tenantId = t.tenant.id;
      tenantSlug = t.tenant.slug;
      adminEmail = t.admin.email;
      checker = await userWith(server.app, tenantId, ['admin']);
      b = await launch();
      page = b.page;
      page.setDefaultTimeout(10_000);
      await b.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.origin });
      page.on('request', (req) => {
        if (req.url().includes('/api/v1/sso/')) ssoRequests.push(`${req.method()} ${req.postData() ?? ''}`);
      });
      page.on('response', async (res) => {
        if (res.url().includes('/api/v1/sso/')) ssoBodies.push(await res.text().catch(() => ''));
      });
    });

    afterAll(async () => {
      await b?.close();
      await server?.close();
      await dns?.close();
    });

    it('an administrator opens the empty screen', async () => {
      const res = await page.goto(`${server.origin}/admin/`);
      expect(res?.headers()['content-security-policy']).toBe(ADMIN_CSP);
      await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
      await page.getByLabel('Organisation').fill(tenantSlug);
      await signIn(adminEmail);
      await nav(/^Single sign-on$/);
      await page.getByRole('heading', { name: 'Single sign-on' }).waitFor();
      await page.getByText('No SSO connection yet.').waitFor();
      await check('sso (empty)');
    });

    it('creates an OIDC connection with a domain: the callback URL and the TXT record to publish are shown', async () => {
      await page.getByRole('button', { name: 'New connection' }).click();
      const dialog = page.getByRole('dialog', { name: 'New connection' });
      await dialog.getByLabel('Name', { exact: true }).fill(name);
      await dialog.getByLabel('Email domains').fill(domain);
      // The default role is picked among the tenant's roles; owner is never offered.
      const roles = dialog.getByLabel('Default role');
      await expect.poll(() => roles.locator('option').count()).toBeGreaterThan(1);
      expect(await roles.locator('option').allTextContents()).not.toContain('Owner (owner)');
      await roles.selectOption({ label: 'Viewer (viewer)' });
      await dialog.getByLabel('Allowed redirect URIs').fill('https://app.example.com/sso/done');
      await dialog.getByLabel('Issuer URL').fill('https://idp.example.com');
      await dialog.getByLabel('Client ID').fill('client-1');
      await dialog.getByLabel('Client secret').fill(clientSecret);
      await check('sso: create dialog');
      await dialog.getByRole('button', { name: 'Create connection' }).click();

      await page.getByRole('heading', { name, exact: true }).waitFor();
      connectionId = page.url().split('/').pop()!;
      expect(connectionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(await page.getByTestId('callback-url').textContent()).toBe(
        `${server.origin}/api/v1/sso/oidc/callback/${connectionId}`,
      );
      expect(await page.getByTestId('txt-name').textContent()).toBe(`_massacorp-verify.${domain}`);
      const token = (await page.getByTestId('txt-value').textContent()) ?? '';
      expect(token).toMatch(/^massacorp-verify=/);
      await page.getByTestId('secret-state').getByText('set').waitFor();
      // The copy button puts the exact value on the clipboard.
      await page.getByRole('button', { name: 'Copy Redirect (callback) URL' }).click();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(
        `${server.origin}/api/v1/sso/oidc/callback/${connectionId}`,
      );
      await check('sso: connection page');
      expect(await pageText()).not.toContain(clientSecret);

      const api = (await checker.call('GET', `/api/v1/sso/connections/${connectionId}`)).json();
      expect(api).toMatchObject({
        name,
        type: 'oidc',
        default_role: 'viewer',
        redirect_uris: ['https://app.example.com/sso/done'],
        domains: [expect.objectContaining({ domain, verified: false })],
        oidc: { issuer: 'https://idp.example.com', client_id: 'client-1', has_client_secret: true },
      });
    });

    it('Verify shows the result: refused while the TXT record is missing, verified once it is published', async () => {
      await page.getByRole('button', { name: `Verify ${domain}` }).click();
      await page.getByRole('alert').getByText('DNS TXT verification record missing or wrong').waitFor();
      dns.txt.set(`_massacorp-verify.${domain}`, [(await page.getByTestId('txt-value').textContent()) ?? '']);
      await page.getByRole('button', { name: `Verify ${domain}` }).click();
      await page.getByText(`${domain} is verified.`).waitFor();
      await page.getByText(/^verified /).waitFor();
      expect(await page.getByRole('button', { name: `Verify ${domain}` }).count()).toBe(0);
      const api = (await checker.call('GET', `/api/v1/sso/connections/${connectionId}`)).json();
      expect(api.domains[0].verified).toBe(true);
      await check('sso: domain verified');
    });

    it('edits the connection: the secret is shown as "set" with an empty replace field, and kept', async () => {
      await page.getByRole('button', { name: 'Edit', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: `Edit ${name}` });
      await dialog.getByTestId('secret-set').waitFor();
      const replace = dialog.getByLabel('Replace the client secret');
      expect(await replace.inputValue()).toBe('');
      expect(await replace.getAttribute('type')).toBe('password');
      expect(await dialog.getByLabel('Client ID').inputValue()).toBe('client-1');
      expect(await pageText()).not.toContain(clientSecret);
      await check('sso: edit dialog');
      await dialog.getByLabel('Name', { exact: true }).fill(renamed);
      await dialog.getByLabel('Trust the identity provider’s MFA').check();
      await dialog.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('heading', { name: renamed, exact: true }).waitFor();

      const api = (await checker.call('GET', `/api/v1/sso/connections/${connectionId}`)).json();
      expect(api).toMatchObject({ name: renamed, trust_mfa: true, oidc: { has_client_secret: true } });
      // The PATCH left the secret alone (no client_secret in it), and the stored one is still the original.
      const patch = ssoRequests.filter((r) => r.startsWith('PATCH '));
      expect(patch).toHaveLength(1);
      expect(patch[0]).not.toContain('client_secret');
      const [row] = await server.app.ctx.database.withTenant(tenantId, (tx) =>
        tx.select().from(ssoConnections).where(eq(ssoConnections.id, connectionId)),
      );
      expect(openClientSecret(server.app.ctx, row!)).toBe(clientSecret);
      // Nothing the browser received from the SSO API ever held it.
      expect(ssoBodies.length).toBeGreaterThan(3);
      expect(ssoBodies.join('\n')).not.toContain(clientSecret);
    });

    it("a SAML connection's page gives the ACS URL, the SP entity id and the SP metadata URL to copy", async () => {
      const created = await checker.call('POST', '/api/v1/sso/connections', {
        type: 'saml',
        name: 'Entra ID',
        saml: {
          idp_entity_id: 'https://sts.example.net/t/',
          idp_sso_url: 'https://login.example.net/t/saml2',
          idp_certificate: (await makeIdpKeys()).certificate,
        },
      });
      expect(created.statusCode, created.body).toBe(201);
      const id = created.json().id as string;
      await page.goto(`${server.origin}/admin/sso/${id}`);
      await page.getByRole('heading', { name: 'Entra ID', exact: true }).waitFor();
      const metadata = `${server.origin}/api/v1/sso/saml/${id}/metadata`;
      expect(await page.getByTestId('acs-url').textContent()).toBe(`${server.origin}/api/v1/sso/saml/acs`);
      expect(await page.getByTestId('metadata-url').textContent()).toBe(metadata);
      expect(await page.getByTestId('sp-entity-id').textContent()).toBe(metadata);
      expect(await page.getByTestId('callback-url').count()).toBe(0);
      await check('sso: saml connection page');
      expect((await checker.call('DELETE', `/api/v1/sso/connections/${id}`)).statusCode).toBe(200);
      await page.goto(`${server.origin}/admin/sso/${connectionId}`);
      await page.getByRole('heading', { name: renamed, exact: true }).waitFor();
    });

    it('issue 19: a SAML connection made from pasted IdP metadata, then "Test connection" shows what the IdP sent, signing nobody in', async () => {
      const idp = await makeIdpKeys('console-idp.example');
      const entity = 'https://idp.console.example/idp/shibboleth';
      const sso = 'https://idp.console.example/idp/profile/SAML2/Redirect/SSO';
      const samlName = `Shibboleth ${uniq('s')}`;
      await page.goto(`${server.origin}/admin/sso`);
      await page.getByRole('button', { name: 'New connection' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Protocol').selectOption('saml');
      await dialog.getByLabel('Name', { exact: true }).fill(samlName);
      await dialog
        .getByLabel('Or paste the IdP metadata (XML)')
        .fill(idpMetadataXml({ entityId: entity, ssoUrl: sso, certificates: [idp.certificate] }));
      await check('sso: saml dialog with metadata');
      await dialog.getByRole('button', { name: 'Create connection' }).click();
      await page.getByRole('heading', { name: samlName, exact: true }).waitFor();
      await page.getByText(entity).waitFor();
      const id = page.url().split('/').pop()!;

      // The IdP's side: the browser arrives with the AuthnRequest, signs in there, and posts the answer back
      // (an auto-submitting form, as every IdP does). The IdP origin is served by the test itself.
      let posted = false;
      await page.route(`${sso}?**`, async (route) => {
        const request = parseAuthnRequestUrl(route.request().url());
        const response = buildResponse(idp, {
          issuer: entity,
          audience: `${server.origin}/api/v1/sso/saml/${id}/metadata`,
          acsUrl: `${server.origin}/api/v1/sso/saml/acs`,
          inResponseTo: request.id,
          nameId: `tester@${domain}`,
          attributeList: [{ name: 'urn:oid:2.5.4.42', friendlyName: 'givenName', values: ['Tess'] }],
        });
        posted = true;
        await route.fulfill({
          contentType: 'text/html',
          body: `<form method="post" action="${server.origin}/api/v1/sso/saml/acs"><input type="hidden" name="SAMLResponse" value="${response}"><input type="hidden" name="RelayState" value="${request.relayState}"><button>Continue</button></form><script>document.forms[0].submit()</script>`,
        });
      });
      await page.getByTestId('test-connection').click();
      await page.getByTestId('test-ok').waitFor();
      expect(posted).toBe(true);
      expect(new URL(page.url()).pathname).toBe(`/admin/sso/${id}/test`);
      expect(await page.getByTestId('test-subject').textContent()).toBe(`tester@${domain}`);
      await page.getByText('urn:oid:2.5.4.42').waitFor();
      await check('sso: connection test result');
      await page.unroute(`${sso}?**`);
      // Nobody was created.
      const users = await checker.call(
        'GET',
        `/api/v1/users?search=${encodeURIComponent(`tester@${domain}`)}`,
      );
      expect(users.json().total).toBe(0);
      expect((await checker.call('DELETE', `/api/v1/sso/connections/${id}`)).statusCode).toBe(200);
      await page.goto(`${server.origin}/admin/sso/${connectionId}`);
      await page.getByRole('heading', { name: renamed, exact: true }).waitFor();
    });

    it('works in French at phone width without horizontal overflow', async () => {
      await page.getByRole('button', { name: 'FR', exact: true }).click();
      await page.setViewportSize({ width: 390, height: 844 });
      await page.getByRole('heading', { name: 'À déclarer chez votre fournisseur d’identité' }).waitFor();
      await check('sso: connection page (fr, phone)');
      expect(await overflow()).toEqual({ px: 0, culprits: [] });
      await nav(/^Authentification unique \(SSO\)$/, 'Navigation principale');
      await page.getByRole('link', { name: renamed }).waitFor();
      await check('sso (fr, phone)');
      expect(await overflow()).toEqual({ px: 0, culprits: [] });
      await page.getByRole('button', { name: 'Nouvelle connexion' }).click();
      await page
        .getByRole('dialog', { name: 'Nouvelle connexion' })
        .getByLabel('Protocole')
        .selectOption('saml');
      await page.getByLabel('Certificat de signature de l’IdP').waitFor();
      await check('sso: create dialog, saml (fr, phone)');
      await page.getByRole('button', { name: 'Annuler' }).click();
      await page.getByRole('button', { name: 'EN', exact: true }).click();
      await page.setViewportSize({ width: 1280, height: 800 });
    });

    it('a viewer (sso.read) sees the connection and the values to copy, and no write control', async () => {
      await signOut();
      const viewer = await newUser(server.app, tenantId, { roles: ['viewer'] });
      await signIn(viewer.email);
      await nav(/^Single sign-on$/);
      await page.getByRole('link', { name: renamed }).click();
      await page.getByRole('heading', { name: renamed, exact: true }).waitFor();
      await page.getByTestId('callback-url').waitFor();
      await page.getByText(domain, { exact: true }).waitFor();
      for (const button of ['Edit', 'Delete', `Verify ${domain}`, `Remove domain ${domain}`, 'Add domain'])
        expect(await page.getByRole('button', { name: button, exact: true }).count(), button).toBe(0);
      expect(await page.getByLabel('Domain to add').count()).toBe(0);
      await check('sso: connection page (viewer)');
      await nav(/^Single sign-on$/);
      await page.getByRole('link', { name: renamed }).waitFor();
      expect(await page.getByRole('button', { name: 'New connection' }).count()).toBe(0);
      await signOut();
    });

    it('the administrator removes a domain, then deletes the connection after typing its name', async () => {
      await signIn(adminEmail);
      await page.goto(`${server.origin}/admin/sso/${connectionId}`);
      await page.getByRole('heading', { name: renamed, exact: true }).waitFor();
      // A domain added by mistake is removed after a confirmation naming it.
      const extra = `extra.${domain}`;
      await page.getByLabel('Domain to add').fill(extra);
      await page.getByRole('button', { name: 'Add domain' }).click();
      await page.getByRole('button', { name: `Remove domain ${extra}` }).click();
      const removing = page.getByRole('dialog', { name: 'Remove the domain' });
      await removing.getByText(`Remove ${extra} from this connection?`).waitFor();
      await check('sso: remove domain dialog');
      await removing.getByRole('button', { name: 'Remove' }).click();
      await page.getByText(`Domain ${extra} removed`).waitFor();
      await page.getByRole('button', { name: `Remove domain ${extra}` }).waitFor({ state: 'detached' });
      const domains = (await checker.call('GET', `/api/v1/sso/connections/${connectionId}`)).json().domains;
      expect(domains.map((d: { domain: string }) => d.domain)).toEqual([domain]);
      await page.getByRole('button', { name: 'Delete', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Delete the connection' });
      const confirm = dialog.getByRole('button', { name: 'Delete' });
      expect(await confirm.isDisabled()).toBe(true);
      await dialog.getByLabel(`Type ${renamed} to confirm`).fill(renamed);
      await check('sso: delete dialog');
      await confirm.click();
      await page.getByText(`Connection ${renamed} deleted`).waitFor();
      await page.getByText('No SSO connection yet.').waitFor();
      expect((await checker.call('GET', `/api/v1/sso/connections/${connectionId}`)).statusCode).toBe(404);
    });

    it('no console error, no CSP violation, no serious or critical axe violation', () => {
      expect(b.problems.cspViolations).toEqual([]);
      // Chrome logs every 4xx it receives: the one expected is the refused verification (400) above.
      const refused = 'Failed to load resource: the server responded with a status of 400 (Bad Request)';
      expect(b.problems.consoleErrors.filter((e) => e === refused)).toHaveLength(1);
      expect(b.problems.consoleErrors.filter((e) => e !== refused)).toEqual([]);
      expect(findings).toEqual([]);
    });
  },
);
