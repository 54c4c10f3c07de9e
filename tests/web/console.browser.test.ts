/**
 * Issue 14 "done when": the admin console in Debian's chromium against the real API (embedded backends).
 * Sign in with MFA; create a user and give a role; create and revoke an API key; see each in the audit log;
 * create a WireGuard peer and see its QR code; change a tenant setting; sign out. Each screen visited is checked
 * with axe (no serious or critical violation), and the run fails on any console error or CSP violation.
 * /docs (Swagger UI) must render without CSP violations too.
 */
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCS_CSP } from '../../src/app.js';
import { ADMIN_CSP } from '../../src/platform/http/admin-console.js';
import { newTenant, newUser, PASSWORD, uniq } from '../helpers/factories.js';
import { type Caller, roleId, userWith } from '../helpers/rbac.js';
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
let b: Browsing;
let page: Page;
let tenantSlug: string;
let tenantId: number;
let adminEmail: string;
let secret: string;
let recoveryCodes: string[];
let checker: Caller;
const findings: AxeFinding[] = [];
const newEmail = `${uniq('ada')}@example.test`;
const keyName = `ci-key-${uniq('k')}`;
const peerName = `laptop-${uniq('p')}`;

async function check(screen: string) {
  findings.push(...(await axe(page, screen)));
}

async function nav(label: RegExp) {
  const menu = page.getByRole('button', { name: 'Menu' });
  if (await menu.isVisible()) await menu.click();
  await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: label }).click();
}

describe.skipIf(!chromiumAvailable())('issue 14: admin console in a real browser', () => {
  beforeAll(async () => {
    server = await startServer();
    const t = await newTenant(server.app);
    tenantSlug = t.tenant.slug;
    tenantId = t.tenant.id;
    adminEmail = t.admin.email;
    const enrolled = await enrolTotp(server.app, tenantId, adminEmail);
    secret = enrolled.secret;
    recoveryCodes = enrolled.codes;
    // A second administrator (no MFA) to check through the API what the console did.
    checker = await userWith(server.app, tenantId, ['admin']);
    b = await launch();
    page = b.page;
    // Fail a step in seconds, not after Playwright's default 30 s.
    page.setDefaultTimeout(10_000);
  });

  afterAll(async () => {
    await b?.close();
    await server?.close();
  });

  it('Swagger UI at /docs renders without CSP violations', async () => {
    await page.goto(`${server.origin}/docs`);
    await page.locator('.swagger-ui .information-container').waitFor();
    await page.locator('.opblock').first().waitFor();
    // Open an operation: more of the UI renders (parameters, responses, schemas).
    await page.locator('.opblock-summary').first().click();
    await page.locator('.opblock-body').first().waitFor();
    await page.waitForTimeout(300);
    const res = await page.request.get(`${server.origin}/docs`);
    expect(res.headers()['content-security-policy']).toBe(DOCS_CSP);
    expect(b.problems.cspViolations).toEqual([]);
    expect(b.problems.consoleErrors).toEqual([]);
  });

  it('serves the console with the strict CSP and the sign-in screen passes axe', async () => {
    const res = await page.goto(`${server.origin}/admin/`);
    expect(res?.headers()['content-security-policy']).toBe(ADMIN_CSP);
    await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
    // Prefilled from config.json (ADMIN_DEFAULT_TENANT).
    expect(await page.getByLabel('Organisation').inputValue()).toBe('acme');
    await check('sign-in');
  });

  it('signs in with a password and a TOTP code', async () => {
    await page.getByLabel('Organisation').fill(tenantSlug);
    await page.getByLabel('Email', { exact: true }).fill(adminEmail);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Second factor' }).waitFor();
    await check('sign-in MFA step');
    await safeTotpMoment();
    await page.getByLabel('6-digit code').fill(totpCode(secret));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByText('Failed sign-ins, last 7 days').waitFor();
    await page.locator('svg.chart-svg').waitFor();
    // The organisation is remembered for next time; the access token is nowhere in storage.
    const stored = await page.evaluate(() => ({
      tenant: localStorage.getItem('massacorp.console.tenant'),
      local: JSON.stringify(localStorage),
      session: Object.keys(sessionStorage),
    }));
    expect(stored.tenant).toBe(tenantSlug);
    expect(stored.local).not.toContain('eyJ');
    expect(stored.session).toEqual(['massacorp.console.refresh']);
    await check('overview');
    // A reload keeps the session: the refresh token in sessionStorage buys a new access token silently.
    const before = await page.evaluate(() => sessionStorage.getItem('massacorp.console.refresh'));
    await page.reload();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const after = await page.evaluate(() => sessionStorage.getItem('massacorp.console.refresh'));
    expect(after).toBeTruthy();
    expect(after).not.toBe(before); // rotated on use
  });

  it('creates a user and gives them a role', async () => {
    await nav(/^Users$/);
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await page.getByRole('cell', { name: adminEmail, exact: true }).waitFor();
    await check('users');
    await page.getByRole('button', { name: 'New user' }).click();
    const dialog = page.getByRole('dialog', { name: 'New user' });
    await dialog.getByLabel('Email', { exact: true }).fill(newEmail);
    await dialog.getByLabel('First name').fill('Ada');
    await dialog.getByLabel('Last name').fill('Lovelace');
    await dialog.getByLabel('Initial password').fill('Another-Strong-Pass-77');
    await check('users: create dialog');
    await dialog.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('heading', { name: 'Ada Lovelace' }).waitFor();
    await page.getByLabel('Add a role').selectOption({ label: 'Manager (manager)' });
    await page.getByRole('button', { name: 'Assign' }).click();
    await page.getByRole('button', { name: 'Remove role Manager' }).waitFor();
    await check('user detail');
    // The API agrees.
    const found = await checker.call('GET', `/api/v1/users?search=${encodeURIComponent(newEmail)}`);
    const id = found.json().users[0].id;
    expect((await checker.call('GET', `/api/v1/users/${id}`)).json().roles).toEqual(['manager']);
    // And the role is taken back from the same card.
    await page.getByRole('button', { name: 'Remove role Manager' }).click();
    await page.getByText('Role Manager removed').waitFor();
    expect((await checker.call('GET', `/api/v1/users/${id}`)).json().roles).toEqual([]);
    // Deactivated after a confirmation, activated again at once.
    await page.getByRole('button', { name: 'Deactivate', exact: true }).click();
    await page
      .getByRole('dialog', { name: 'Deactivate' })
      .getByRole('button', { name: 'Deactivate', exact: true })
      .click();
    await page.getByText('User deactivated; their sessions have ended').waitFor();
    await page.getByRole('button', { name: 'Activate', exact: true }).click();
    await page.getByText('User activated').waitFor();
    expect((await checker.call('GET', `/api/v1/users/${id}`)).json().is_active).toBe(true);
  });

  it('creates an API key (shown once) and revokes it', async () => {
    await nav(/^API keys$/);
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    await page.getByRole('button', { name: 'New API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'New API key' });
    await dialog.getByLabel('Name').fill(keyName);
    await dialog.getByLabel('users.read').check();
    // SCIM provisioning keys (issue 13) can be made here too: the owner holds users.write and roles.assign.
    await dialog.getByLabel('scim', { exact: true }).waitFor();
    await check('api keys: create dialog');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const shown = page.getByRole('dialog', { name: 'API key created' });
    const raw = (await shown.getByTestId('raw-key').textContent())?.trim() ?? '';
    expect(raw).toMatch(/^mc_sk_[0-9a-f]{64}$/);
    await shown.getByRole('button', { name: 'Copy' }).waitFor();
    // The key works against the API with its scope.
    const ok = await fetch(`${server.origin}/api/v1/users`, { headers: { 'x-api-key': raw } });
    expect(ok.status).toBe(200);
    await shown.getByRole('button', { name: 'I have stored it' }).click();
    await page.getByRole('cell', { name: keyName, exact: true }).waitFor();
    await check('api keys');
    await page.getByRole('button', { name: `Revoke key ${keyName}` }).click();
    await page.getByRole('dialog', { name: 'Revoke' }).getByRole('button', { name: 'Revoke' }).click();
    await page.getByText(`Key ${keyName} revoked`).waitFor();
    const after = await fetch(`${server.origin}/api/v1/users`, { headers: { 'x-api-key': raw } });
    expect(after.status).toBe(401);
  });

  it('sees each of those in the audit log, with the chain verified', async () => {
    await nav(/^Audit log$/);
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await page.getByTestId('chain-status').getByText('Chain intact').waitFor();
    const table = page.locator('table.table-audit');
    for (const event of [
      'user.created',
      'role.assigned',
      'api_key.created',
      'api_key.revoked',
      'auth.login_success',
    ]) {
      await table.getByRole('button', { name: event, exact: true }).first().waitFor();
    }
    await check('audit');
    // Filters narrow the list; a row opens its details.
    await page.getByLabel('Event type').fill('api_key.revoked');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => table.locator('tbody tr').count()).toBe(1);
    await table.getByRole('button', { name: 'api_key.revoked' }).click();
    await table.locator('pre.json').waitFor();
    await check('audit: filtered, row open');
    // Export with the same filter: a CSV file holding that one record.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^audit-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = await readFile((await download.path())!, 'utf8');
    expect(csv).toContain('api_key.revoked');
    expect(csv).not.toContain('api_key.created');
  });

  it('creates a WireGuard peer and shows its QR code', async () => {
    await nav(/^WireGuard$/);
    await page.getByRole('heading', { name: 'WireGuard' }).waitFor();
    await page.getByRole('button', { name: 'New peer' }).click();
    const dialog = page.getByRole('dialog', { name: 'New peer' });
    await dialog.getByLabel('Name', { exact: true }).fill(peerName);
    await check('wireguard: create dialog');
    await dialog.getByRole('button', { name: 'Create peer' }).click();
    const created = page.getByRole('dialog', { name: `Peer ${peerName} created` });
    const qr = created.getByRole('img', { name: `QR code of the WireGuard configuration for ${peerName}` });
    await qr.waitFor();
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    expect(await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    await expect.poll(() => created.locator('pre.config').textContent()).toContain('PrivateKey');
    await check('wireguard: peer created');
    await created.getByRole('button', { name: 'Done' }).click();
    await page.locator('table').getByText(peerName, { exact: true }).waitFor();
    await check('wireguard');
    // The stored config downloads later too, its private key left for the client to fill.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: `Download the config of ${peerName}` }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`${peerName}.conf`);
    expect(await readFile((await download.path())!, 'utf8')).toContain('[Peer]');
    // A second peer (the first stays for the viewer below) is revoked after a confirmation naming it; shown
    // with the revoked ones, it keeps its row and loses its controls.
    const spare = `spare-${peerName}`;
    const made = await checker.call('POST', '/api/v1/wireguard/peers', { name: spare, peer_type: 'client' });
    expect(made.statusCode, made.body).toBe(201);
    await page.getByLabel('Show revoked peers').check();
    await page.getByRole('button', { name: `Revoke peer ${spare}` }).click();
    const revoking = page.getByRole('dialog', { name: 'Revoke' });
    await revoking.getByText(`Revoke the peer ${spare}?`).waitFor();
    await check('wireguard: revoke dialog');
    await revoking.getByRole('button', { name: 'Revoke' }).click();
    await page.getByText(`Peer ${spare} revoked`).waitFor();
    await expect.poll(() => page.getByRole('button', { name: `Revoke peer ${spare}` }).count()).toBe(0);
    const peers = (await checker.call('GET', '/api/v1/wireguard/peers?include_revoked=true')).json().peers;
    expect(peers.find((p: { name: string }) => p.name === spare)?.revoked_at).toBeTruthy();
    await page.getByLabel('Show revoked peers').uncheck();
  });

  it('changes a tenant setting', async () => {
    await nav(/^Tenant settings$/);
    await page.getByRole('heading', { name: 'Tenant settings' }).waitFor();
    await check('settings');
    await page.getByLabel('Minimum length').fill('14');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Settings saved').waitFor();
    const t = await checker.call('GET', '/api/v1/tenants/current');
    expect(t.json().settings.password_policy.min_length).toBe(14);
  });

  it('issue 19: maps a directory group the identity provider pushed over SCIM to a role', async () => {
    // The identity provider's side: a tenant-owned SCIM key pushes a group, with the admin signed in as a member.
    const key = await checker.call('POST', '/api/v1/api-keys', {
      name: uniq('scim'),
      scopes: ['scim'],
      owner: 'tenant',
      role_id: await roleId(checker, 'admin'),
    });
    expect(key.statusCode, key.body).toBe(201);
    const groupName = `Engineering ${uniq('g')}`;
    const pushed = await server.app.inject({
      method: 'POST',
      url: '/scim/v2/Groups',
      headers: { authorization: `Bearer ${key.json().raw_key}`, 'content-type': 'application/scim+json' },
      payload: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
        displayName: groupName,
        externalId: 'okta-00g1',
      }),
    });
    expect(pushed.statusCode, pushed.body).toBe(201);
    await nav(/^Directory groups$/);
    await page.getByRole('heading', { name: 'Directory groups' }).waitFor();
    await page.getByRole('cell', { name: groupName }).waitFor();
    await check('directory groups');
    await page
      .getByRole('row', { name: new RegExp(groupName) })
      .getByRole('button', { name: 'Map roles' })
      .click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel(/\(manager\)$/).check();
    await check('directory: map roles dialog');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.getByText(`Roles of “${groupName}” saved`).waitFor();
    await expect.poll(() => page.getByTestId(`roles-${groupName}`).textContent()).not.toBe('—');
    const group = await checker.call('GET', `/api/v1/directory/groups/${pushed.json().id}`);
    expect((group.json().roles as { code: string }[]).map((r) => r.code)).toEqual(['manager']);
  });

  it('creates a custom role, edits it (the dialog shows its values) and deletes it after a confirmation', async () => {
    const code = uniq('ci_role').replace('-', '_');
    await nav(/^Roles & permissions$/);
    await page.getByRole('heading', { name: 'Role tree' }).waitFor();
    await page.getByRole('button', { name: 'New role' }).click();
    const create = page.getByRole('dialog', { name: 'New role' });
    await create.getByLabel('Code').fill(code);
    await create.getByLabel('Name', { exact: true }).fill('CI auditors');
    await create.getByLabel('audit.read', { exact: true }).check();
    await check('roles: create dialog');
    await create.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: `CI auditors ${code}` }).waitFor();
    const find = async () =>
      (await checker.call('GET', '/api/v1/roles'))
        .json()
        .roles.find((r: { code: string }) => r.code === code) as { permissions: string[] } | undefined;
    expect((await find())?.permissions).toEqual(['audit.read']);

    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    const edit = page.getByRole('dialog', { name: 'Edit role' });
    expect(await edit.getByLabel('Code').inputValue()).toBe(code);
    expect(await edit.getByLabel('Code').isDisabled()).toBe(true);
    expect(await edit.getByLabel('audit.read', { exact: true }).isChecked()).toBe(true);
    await edit.getByLabel('Name', { exact: true }).fill('CI auditors (EU)');
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: `CI auditors (EU) ${code}` }).waitFor();

    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete role' });
    await confirm.getByText('Delete the role CI auditors (EU)?').waitFor();
    await check('roles: delete dialog');
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Role CI auditors (EU) deleted').waitFor();
    expect(await find()).toBeUndefined();
  });

  it('the other screens pass axe: roles, feature flags, my sessions, my profile', async () => {
    await nav(/^Roles & permissions$/);
    await page.getByRole('heading', { name: 'Role tree' }).waitFor();
    await page
      .getByRole('button', { name: /Manager/ })
      .first()
      .click();
    await check('roles');
    await nav(/^Feature flags$/);
    await page.getByRole('heading', { name: 'Feature flags' }).waitFor();
    await check('features');
    await nav(/^My sessions$/);
    await page.getByText('This session').waitFor();
    await check('sessions');
    await nav(/^My profile$/);
    await page.getByRole('heading', { name: 'Authenticator app' }).waitFor();
    await check('profile');
  });

  it('switches to French and works at phone width', async () => {
    await page.getByRole('button', { name: 'FR', exact: true }).click();
    await page.getByRole('heading', { name: 'Mon profil' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('fr');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'Menu' }).click();
    await page
      .getByRole('navigation', { name: 'Navigation principale' })
      .getByRole('link', { name: 'Utilisateurs' })
      .click();
    await page.getByRole('heading', { name: 'Utilisateurs' }).waitFor();
    await check('users (fr, phone)');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.getByRole('button', { name: 'EN', exact: true }).click();
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('signs out: tokens cleared, the session ended server-side', async () => {
    const refresh = await page.evaluate(() => sessionStorage.getItem('massacorp.console.refresh'));
    expect(refresh).toBeTruthy();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are signed out.').waitFor();
    expect(await page.evaluate(() => Object.keys(sessionStorage))).toEqual([]);
    // The refresh token the console held no longer works: logout ended the session.
    const r = await fetch(`${server.origin}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: refresh }),
    });
    expect(r.status).toBe(401);
    // A reload stays signed out.
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
  });

  it('signs in again with a recovery code instead of the TOTP code', async () => {
    await page.getByLabel('Email', { exact: true }).fill(adminEmail);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('tab', { name: 'Recovery code' }).click();
    await check('sign-in recovery code');
    await page.getByLabel('Recovery code').fill(recoveryCodes[0]!);
    await page.getByRole('button', { name: 'Verify' }).click();
    // Back on the page that was open when signing out.
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are signed out.').waitFor();
  });

  it('registers a security key (virtual authenticator) and signs in with it', async () => {
    const cdp = await b.context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'usb',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    await page.getByLabel('Email', { exact: true }).fill(adminEmail);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('tab', { name: 'Authenticator app' }).waitFor();
    await safeTotpMoment();
    await page.getByLabel('6-digit code').fill(totpCode(secret, 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    await nav(/^My profile$/);
    await page.getByLabel('Name of the new key').fill('Virtual key');
    await page.getByRole('button', { name: 'Register a key' }).click();
    await page.getByText('Security key registered', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Remove security key Virtual key' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are signed out.').waitFor();
    await page.getByLabel('Email', { exact: true }).fill(adminEmail);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('tab', { name: 'Security key' }).click();
    await check('sign-in security key');
    await page.getByRole('button', { name: 'Use my security key' }).click();
    await page.getByRole('heading', { name: 'My profile' }).waitFor();
    // Removed at once from the list (no confirmation: the password and the app still sign in).
    await page.getByRole('button', { name: 'Remove security key Virtual key' }).click();
    await page.getByText('Security key removed', { exact: true }).waitFor();
    await expect
      .poll(() => page.getByRole('button', { name: 'Remove security key Virtual key' }).count())
      .toBe(0);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are signed out.').waitFor();
  });

  it('controls follow the permissions: a viewer sees read-only screens and no write buttons', async () => {
    const viewer = await newUser(server.app, tenantId, { roles: ['viewer'] });
    await page.getByLabel('Email', { exact: true }).fill(viewer.email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const navLinks = page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link');
    await navLinks.first().waitFor();
    const labels = await navLinks.allTextContents();
    expect(labels).toEqual([
      'Overview',
      'Users',
      'Roles & permissions',
      'API keys',
      'Audit log',
      'WireGuard',
      'Single sign-on',
      'Directory groups',
      'Feature flags',
      'My sessions',
      'My profile',
    ]);
    await nav(/^Directory groups$/);
    await page.getByRole('heading', { name: 'Directory groups' }).waitFor();
    await page.locator('table tbody tr').first().waitFor();
    expect(await page.getByRole('button', { name: 'Map roles' }).count()).toBe(0);
    await nav(/^Users$/);
    await page.getByRole('cell', { name: adminEmail }).waitFor();
    expect(await page.getByRole('button', { name: 'New user' }).count()).toBe(0);
    await nav(/^API keys$/);
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    expect(await page.getByRole('button', { name: 'New API key' }).count()).toBe(0);
    await nav(/^WireGuard$/);
    await page.getByText(peerName, { exact: true }).waitFor();
    expect(await page.getByRole('button', { name: 'New peer' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: `Revoke peer ${peerName}` }).count()).toBe(0);
    await check('wireguard (viewer)');
    // Their own password: a mismatch is refused in the page; a change goes through and empties the form.
    await nav(/^My profile$/);
    const newPassword = 'Viewer-Changed-Pass-2026';
    await page.getByLabel('Current password').fill(PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    await page.getByLabel('Repeat the new password').fill(`${newPassword}!`);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('alert').getByText('The two new passwords differ').waitFor();
    await page.getByLabel('Repeat the new password').fill(newPassword);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Password changed; your other sessions have ended').waitFor();
    expect(await page.getByLabel('Current password').inputValue()).toBe('');
    await check('profile (viewer): password changed');
    // Settings is not a page a viewer can open, even by URL.
    await page.goto(`${server.origin}/admin/settings`);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are signed out.').waitFor();
  });

  it('no console error, no CSP violation, no serious or critical axe violation on any screen', () => {
    expect(b.problems.cspViolations).toEqual([]);
    expect(b.problems.consoleErrors).toEqual([]);
    expect(findings).toEqual([]);
  });
});
