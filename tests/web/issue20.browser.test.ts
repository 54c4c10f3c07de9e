/**
 * Issue 20, the console's dead ends, walked as an administrator would in Debian's chromium against the real API:
 * field-level errors next to their fields in English and French (1), API keys with scopes from a `*` holder's
 * permissions and organisation keys with a role (2), the feature-flag catalogue and every override (3), a
 * forgotten password from the sign-in page to the mail's link (4), no screen and no dialog scrolling sideways at
 * 390 px, the WireGuard config included (5), plurals (6), the audit actor filter by email or key name (7), and the
 * dark theme with axe's contrast checks in both themes (13). Every screen is checked with axe; any console error
 * or CSP violation fails the run.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant } from '../../src/modules/tenant-admin/index.js';
import { bearer, login, newTenant, newUser, PASSWORD, uniq } from '../helpers/factories.js';
import { startSmtp, type TestSmtp } from '../helpers/smtp.js';
import {
  type AxeFinding,
  axe,
  type Browsing,
  chromiumAvailable,
  signIn as harnessSignIn,
  launch,
  nav,
  type Server,
  startServer,
} from './harness.js';

if (!chromiumAvailable() && process.env.CI)
  throw new Error('chromium is missing: apt-get install -y chromium');

let server: Server;
let smtp: TestSmtp;
/** The platform tenant's owner (holds `*`): the first admin of a fresh install. */
let ops: { tenantId: number; email: string };
/** An ordinary tenant: its owner, and a member who forgets their password. */
let acme: { tenantId: number; slug: string; owner: string; member: string };
const findings: AxeFinding[] = [];
const keyName = `deploy-${uniq('k')}`;
const STRONG = 'N3w-Passphrase!x';

async function check(page: Page, screen: string) {
  findings.push(...(await axe(page, screen)));
}

/** Signs in as a tenant's user (password only: no account here has a second factor). */
const signIn = (page: Page, organisation: string | number, email: string, password = PASSWORD) =>
  harnessSignIn(page, server.origin, { organisation, email, password });

/** Whether the page, or any open dialog, is wider than its box: what scrolls sideways. */
function sideways(page: Page) {
  return page.evaluate(() => {
    const out: string[] = [];
    const doc = document.scrollingElement!;
    if (doc.scrollWidth > doc.clientWidth) {
      // Name the widest element sticking out, so a failure says what to fix.
      let culprit = '';
      for (const el of document.querySelectorAll('body *')) {
        const r = el.getBoundingClientRect();
        if (r.right > doc.clientWidth + 1 && !el.closest('dialog')) {
          culprit = `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} (right ${Math.round(r.right)})`;
          break;
        }
      }
      out.push(`page ${doc.scrollWidth} > ${doc.clientWidth}: ${culprit}`);
    }
    for (const d of document.querySelectorAll('dialog[open]'))
      if (d.scrollWidth > d.clientWidth)
        out.push(`dialog "${d.querySelector('h2')?.textContent}" ${d.scrollWidth} > ${d.clientWidth}`);
    return out;
  });
}

describe.skipIf(!chromiumAvailable())('issue 20: the console without dead ends', () => {
  beforeAll(async () => {
    smtp = await startSmtp();
    server = await startServer({ SMTP_URL: smtp.url });
    const slug = uniq('pf');
    const platform = await createTenant(server.app.ctx, {
      slug,
      name: `Platform ${slug}`,
      isPlatform: true,
      admin: { email: `ops@${slug}.test`, password: PASSWORD },
    });
    ops = { tenantId: platform.tenant.id, email: platform.admin!.email };
    const t = await newTenant(server.app);
    const member = await newUser(server.app, t.tenant.id, { roles: ['member'] });
    acme = { tenantId: t.tenant.id, slug: t.tenant.slug, owner: t.admin.email, member: member.email };
  });

  afterAll(async () => {
    await server?.close();
    await smtp?.close();
  });

  describe('at 1440 px, light theme', () => {
    let b: Browsing;
    let page: Page;
    beforeAll(async () => {
      b = await launch({ width: 1440, height: 900 });
      page = b.page;
      page.setDefaultTimeout(10_000);
    });
    afterAll(async () => {
      await b?.close();
    });

    it('4: Forgot password? mails a link; its page lists the broken rules, then sets the password', async () => {
      await page.goto(`${server.origin}/admin/`);
      await page.getByRole('link', { name: 'Forgot password?' }).click();
      await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/admin/forgot-password');
      await page.getByLabel('Organisation').fill(acme.slug);
      await page.getByLabel('Email', { exact: true }).fill(acme.member);
      await check(page, 'forgot password');
      await page.getByRole('button', { name: 'Send the link' }).click();
      await page.getByRole('status').filter({ hasText: /./ }).first().waitFor();
      const mail = await smtp.waitFor(acme.member);
      const token = /[?&]token=([A-Za-z0-9._%-]+)/.exec(mail.text)?.[1];
      expect(token).toBeTruthy();

      // The page the mail's link opens (PUBLIC_URL/admin/reset-password?token=…), reached directly.
      await page.goto(`${server.origin}/admin/reset-password?token=${token}`);
      await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
      const next = page.getByLabel('New password', { exact: true });
      await next.fill('abc');
      await page.getByLabel('Repeat the new password').fill('abc');
      await page.getByRole('button', { name: 'Set the password' }).click();
      // Each broken rule, next to the field, tied to it.
      await expect.poll(() => next.getAttribute('aria-invalid')).toBe('true');
      const described = (await next.getAttribute('aria-describedby'))!.split(' ');
      const rules = page.locator(`[id="${described.at(-1)}"]`);
      await expect.poll(() => rules.locator('li').count()).toBeGreaterThanOrEqual(3);
      const text = await rules.textContent();
      expect(text).toContain('is too short');
      expect(text).toContain('needs an upper-case letter');
      expect(text).toContain('needs a digit');
      await check(page, 'reset password: rules broken');

      await next.fill(STRONG);
      await page.getByLabel('Repeat the new password').fill(STRONG);
      await page.getByRole('button', { name: 'Set the password' }).click();
      await page.getByText('Your password is changed').waitFor();
      // The link is spent: opened again, the page says so.
      await page.goto(`${server.origin}/admin/reset-password?token=${token}`);
      await page.getByText('This link has already been used.').waitFor();
      await page.goto(`${server.origin}/admin/reset-password?token=nope`);
      await page.getByText('This link is not valid.').waitFor();
      await check(page, 'reset password: bad link');
      await page.getByRole('link', { name: 'Back to sign-in' }).click();
      await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
      // The new password signs in.
      await signIn(page, acme.slug, acme.member, STRONG);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
    });

    it('6: counts read "1 user", "2 users"; "1 utilisateur", "2 utilisateurs"', async () => {
      const lone = await newTenant(server.app);
      await signIn(page, lone.tenant.slug, lone.admin.email);
      await nav(page, 'Users');
      await page.getByText('1 user', { exact: true }).waitFor();
      await nav(page, 'API keys');
      await page.getByText('0 active keys', { exact: true }).waitFor();
      await newUser(server.app, lone.tenant.id);
      await nav(page, 'Users');
      await page.getByText('2 users', { exact: true }).waitFor();
      await page.getByRole('button', { name: 'FR', exact: true }).click();
      await page.getByText('2 utilisateurs', { exact: true }).waitFor();
      await nav(page, 'Clés d’API');
      await page.getByText('0 clé active', { exact: true }).waitFor();
      await page.getByRole('button', { name: 'EN', exact: true }).click();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
    });

    it('1: field errors next to their fields, in English then French, in page forms and dialogs', async () => {
      await signIn(page, acme.slug, acme.owner);
      // A page form: the tenant settings refuse an IP range that is none.
      await nav(page, 'Tenant settings');
      const ranges = page.getByLabel('Allowed IP ranges');
      await ranges.fill('not-an-ip');
      await page.getByRole('button', { name: 'Save settings' }).click();
      await expect.poll(() => ranges.getAttribute('aria-invalid')).toBe('true');
      const errorOf = async (field: typeof ranges) => {
        const ids = (await field.getAttribute('aria-describedby'))!.split(' ');
        return page.locator(`[id="${ids.at(-1)}"]`).textContent();
      };
      expect(await errorOf(ranges)).toBe('Not an IP range (CIDR) or IP address');
      await check(page, 'settings: field error');
      await page.getByRole('button', { name: 'FR', exact: true }).click();
      await page.getByRole('button', { name: 'Enregistrer les paramètres' }).click();
      await expect
        .poll(() => errorOf(page.getByLabel('Plages IP autorisées')))
        .toBe('Ce n’est pas une plage IP (CIDR) ni une adresse IP');
      await page.getByRole('button', { name: 'EN', exact: true }).click();
      await page.getByLabel('Allowed IP ranges').fill('');

      // A dialog: an API key that expires in the past.
      await nav(page, 'API keys');
      await page.getByRole('button', { name: 'New API key' }).click();
      const dialog = page.getByRole('dialog', { name: 'New API key' });
      await dialog.getByLabel('Name', { exact: true }).fill('too-late');
      const expires = dialog.getByLabel('Expires on (optional)');
      await expires.fill('2020-01-01');
      await dialog.getByRole('button', { name: 'Create key' }).click();
      await expect.poll(() => expires.getAttribute('aria-invalid')).toBe('true');
      expect(await errorOf(expires)).toBe('Must be in the future');
      await check(page, 'api key dialog: field error');
      await dialog.getByRole('button', { name: 'Cancel' }).click();

      // My profile: a new password's broken rules, listed under it.
      await nav(page, 'My profile');
      await page.getByLabel('Current password').fill(PASSWORD);
      const next = page.getByLabel('New password', { exact: true });
      await next.fill('password');
      await page.getByLabel('Repeat the new password').fill('password');
      await page.getByRole('button', { name: 'Change password' }).click();
      await expect.poll(() => next.getAttribute('aria-invalid')).toBe('true');
      const rules = await errorOf(next);
      expect(rules).toContain('needs an upper-case letter');
      expect(rules).toContain('is among the most common passwords');
    });

    it('7: the audit log finds an actor by email and names actors by email', async () => {
      await nav(page, 'Audit log');
      await page.getByLabel('Actor').fill(acme.owner.toUpperCase());
      await page.getByRole('button', { name: 'Apply filters' }).click();
      const firstActor = page.locator('table.table-audit tbody tr').first().locator('td').nth(2);
      await expect.poll(() => firstActor.textContent()).toContain(acme.owner);
      const actors = await page.locator('table.table-audit tbody tr td:nth-child(3)').allInnerTexts();
      expect(actors.length).toBeGreaterThan(0);
      expect(actors.every((a) => a.includes(acme.owner))).toBe(true);
      await page.getByLabel('Actor').fill('nobody@example.test');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await page.getByText('No records match.').waitFor();
      await check(page, 'audit: actor filter');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
    });

    it('2: a * holder is offered every permission as a scope, and makes an organisation key with a role', async () => {
      await signIn(page, ops.tenantId, ops.email);
      await nav(page, 'API keys');
      await page.getByRole('button', { name: 'New API key' }).click();
      const dialog = page.getByRole('dialog', { name: 'New API key' });
      const scopes = dialog.getByRole('group', { name: 'Scopes' });
      for (const p of [
        'users.read',
        'audit.read',
        'roles.assign',
        'platform.features',
        'scim',
        'profile.read',
      ])
        await scopes.getByLabel(p, { exact: true }).waitFor();
      await dialog.getByLabel('Name', { exact: true }).fill(keyName);
      await dialog.getByLabel('Acts as').selectOption({ label: 'The organisation, with a role' });
      const role = dialog.getByLabel('Role', { exact: true });
      const roles = await role.locator('option').allInnerTexts();
      // A * holder may grant every role, the owner's too.
      expect(roles).toEqual(expect.arrayContaining(['Owner (owner)', 'Viewer (viewer)']));
      // A tenant key has no owner whose own data a self scope would open.
      expect(await scopes.getByLabel('profile.read', { exact: true }).count()).toBe(0);
      await role.selectOption({ label: 'Administrator (admin)' });
      await scopes.getByLabel('users.read', { exact: true }).check();
      await scopes.getByLabel('users.write', { exact: true }).check();
      await check(page, 'api key dialog: organisation key');
      await dialog.getByRole('button', { name: 'Create key' }).click();
      const shown = page.getByRole('dialog', { name: 'API key created' });
      const raw = (await shown.getByTestId('raw-key').textContent()) ?? '';
      await shown.getByRole('button', { name: 'I have stored it' }).click();
      const row = page.getByRole('row').filter({ hasText: keyName });
      await row.getByText('organisation').waitFor();
      // The key works, with its role: it creates a user (an audited act, signed by the key).
      const used = await page.request.post(`${server.origin}/api/v1/users`, {
        headers: { 'x-api-key': raw },
        data: { email: `${uniq('by-key')}@example.test`, password: STRONG },
      });
      expect(used.status()).toBe(201);
    });

    it('7: the audit log finds a key by its name and names it', async () => {
      await nav(page, 'Audit log');
      await page.getByLabel('Actor').fill(keyName);
      await page.getByRole('button', { name: 'Apply filters' }).click();
      const actors = page.locator('table.table-audit tbody tr td:nth-child(3)');
      await expect.poll(async () => (await actors.allInnerTexts()).length).toBeGreaterThan(0);
      expect((await actors.allInnerTexts()).every((a) => a.includes(keyName))).toBe(true);
    });

    it('3: a platform operator edits the catalogue; overrides by role and by user are set and removed', async () => {
      const flag = `beta-${uniq('f')}`;
      await nav(page, 'Feature flags');
      await page.getByRole('button', { name: 'New flag' }).click();
      const create = page.getByRole('dialog', { name: 'New flag' });
      await create.getByLabel('Flag', { exact: true }).fill(flag);
      await create.getByLabel('Description').fill('The new editor');
      await check(page, 'features: new flag');
      await create.getByRole('button', { name: 'Create the flag' }).click();
      const row = page.getByRole('row').filter({ hasText: flag });
      await row.getByText('The new editor').waitFor();

      await row.getByRole('button', { name: `Edit ${flag}` }).click();
      const edit = page.getByRole('dialog', { name: `Edit ${flag}` });
      await edit.getByLabel('On by default').check();
      await edit.getByLabel('Gradual rollout (%)').fill('25');
      await edit.getByRole('button', { name: 'Save' }).click();
      await row.getByText('25 %').waitFor();

      await row.getByRole('button', { name: `Add an override to ${flag}` }).click();
      const override = page.getByRole('dialog', { name: `Add an override to ${flag}` });
      await override.getByLabel('Override for').selectOption('role');
      await override.getByLabel('Role', { exact: true }).selectOption({ label: 'Viewer (viewer)' });
      await override.getByLabel('Value').selectOption('off');
      await check(page, 'features: override dialog');
      await override.getByRole('button', { name: 'Save' }).click();
      await row.getByText('Role Viewer: Off').waitFor();

      await row.getByRole('button', { name: `Add an override to ${flag}` }).click();
      await override.getByLabel('Override for').selectOption('user');
      await override.getByLabel("User's email").fill('nobody@example.test');
      await override.getByLabel('Value').selectOption('on');
      await override.getByRole('button', { name: 'Save' }).click();
      await override.getByText('No user of this organisation has the email nobody@example.test').waitFor();
      await override.getByLabel("User's email").fill(ops.email);
      await override.getByRole('button', { name: 'Save' }).click();
      await row.getByText(/User #\d+: On/).waitFor();
      await page.getByRole('dialog', { name: `Add an override to ${flag}` }).waitFor({ state: 'hidden' });
      await check(page, 'features: overrides');

      const overrides = async () => {
        const res = await server.app.inject({
          method: 'GET',
          url: '/api/v1/features',
          headers: bearer(await login(server.app, ops.tenantId, ops.email)),
        });
        return (res.json().features as { key: string; overrides: { scope: string }[] }[])
          .find((f) => f.key === flag)!
          .overrides.map((o) => o.scope)
          .sort();
      };
      expect(await overrides()).toEqual(['role', 'user']);
      await row.getByRole('button', { name: /Remove the role override/ }).click();
      await expect.poll(() => row.getByText('Role Viewer: Off').count()).toBe(0);
      expect(await overrides()).toEqual(['user']);

      await row.getByRole('button', { name: `Delete ${flag}` }).click();
      const del = page.getByRole('dialog', { name: 'Delete the flag' });
      await del.getByLabel(`Type ${flag} to confirm`).fill(flag);
      await del.getByRole('button', { name: 'Delete' }).click();
      await expect.poll(() => page.getByRole('row').filter({ hasText: flag }).count()).toBe(0);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
    });

    it('2, 3: an ordinary admin is offered only the roles they may grant, and overrides but no catalogue', async () => {
      // A manager (assigns roles) who may also manage keys and flags through a custom role.
      const manager = await newUser(server.app, acme.tenantId, { roles: ['manager'] });
      const owner = bearer(await login(server.app, acme.tenantId, acme.owner));
      const custom = await server.app.inject({
        method: 'POST',
        url: '/api/v1/roles',
        headers: owner,
        payload: {
          code: 'keys_flags',
          name: 'Keys and flags',
          permissions: ['api_keys.read', 'api_keys.write', 'features.read', 'features.write'],
        },
      });
      expect(custom.statusCode).toBe(201);
      const given = await server.app.inject({
        method: 'POST',
        url: `/api/v1/users/${manager.id}/roles`,
        headers: owner,
        payload: { role_id: custom.json().id },
      });
      expect(given.statusCode).toBe(201);
      await signIn(page, acme.slug, manager.email);
      await nav(page, 'API keys');
      await page.getByRole('button', { name: 'New API key' }).click();
      const dialog = page.getByRole('dialog', { name: 'New API key' });
      await dialog.getByLabel('Acts as').selectOption('tenant');
      const roles = await dialog.getByLabel('Role', { exact: true }).locator('option').allInnerTexts();
      // Member (users.read, features.read) is within a manager's reach; admin and owner are not.
      expect(roles).toContain('Member (member)');
      expect(roles).not.toContain('Administrator (admin)');
      expect(roles).not.toContain('Owner (owner)');
      // What is offered, the API accepts.
      await dialog.getByLabel('Name', { exact: true }).fill(`member-${uniq('k')}`);
      await dialog.getByLabel('Role', { exact: true }).selectOption({ label: 'Member (member)' });
      await dialog.getByRole('group', { name: 'Scopes' }).getByLabel('users.read', { exact: true }).check();
      await dialog.getByRole('button', { name: 'Create key' }).click();
      await page
        .getByRole('dialog', { name: 'API key created' })
        .getByRole('button', { name: 'I have stored it' })
        .click();
      const flag = `shared-${uniq('f')}`;
      const made = await server.app.inject({
        method: 'POST',
        url: '/api/v1/features/catalogue',
        headers: bearer(await login(server.app, ops.tenantId, ops.email)),
        payload: { key: flag },
      });
      expect(made.statusCode).toBe(201);
      await nav(page, 'Feature flags');
      // Overrides of the flag, yes; the catalogue itself, no.
      await page.getByRole('button', { name: `Add an override to ${flag}` }).waitFor();
      expect(await page.getByRole('button', { name: 'New flag' }).count()).toBe(0);
      expect(await page.getByRole('button', { name: `Edit ${flag}` }).count()).toBe(0);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
    });

    it('no serious accessibility violation, no console error, no CSP violation', () => {
      expect(findings).toEqual([]);
      expect(b.problems.cspViolations).toEqual([]);
      // The refused submissions above answer 4xx on purpose (Chrome logs each failed request).
      expect(b.problems.consoleErrors.filter((e) => !/status of 4(22|00)/.test(e))).toEqual([]);
    });
  });

  describe('at 390 px', () => {
    let b: Browsing;
    let page: Page;
    beforeAll(async () => {
      b = await launch({ width: 390, height: 844 });
      page = b.page;
      page.setDefaultTimeout(10_000);
    });
    afterAll(async () => {
      await b?.close();
    });

    it('5: no screen and no dialog scrolls sideways, the WireGuard config included', async () => {
      const wide: string[] = [];
      const look = async (where: string) => {
        for (const w of await sideways(page)) wide.push(`${where}: ${w}`);
      };
      for (const path of ['/', '/forgot-password', '/reset-password?token=nope']) {
        await page.goto(`${server.origin}/admin${path}`);
        await page.locator('h1').first().waitFor();
        await look(path);
      }
      await signIn(page, ops.tenantId, ops.email);
      await page.getByRole('button', { name: 'Menu' }).click();
      const labels = await page.locator('#nav').getByRole('link').allInnerTexts();
      await page.getByRole('button', { name: 'Menu' }).click();
      expect(labels.length).toBeGreaterThanOrEqual(10);
      for (const label of labels) {
        await nav(page, label);
        await page.getByRole('heading', { level: 1, name: label }).waitFor();
        await page.waitForTimeout(150);
        await look(label);
        // Every creation dialog of the screen, opened and looked at.
        for (const name of [
          'New user',
          'New API key',
          'New peer',
          'New role',
          'New flag',
          'New connection',
        ]) {
          const opener = page.getByRole('button', { name, exact: true });
          if ((await opener.count()) === 0) continue;
          await opener.click();
          await page.locator('dialog[open]').waitFor();
          await look(`${label}: ${name}`);
          await page.keyboard.press('Escape');
          await page
            .locator('dialog[open]')
            .waitFor({ state: 'detached' })
            .catch(() => {});
        }
      }

      // The dialog that overflowed: a new peer's config, shown once, with its private key.
      await nav(page, 'WireGuard');
      await page.getByRole('button', { name: 'New peer' }).click();
      const dialog = page.getByRole('dialog', { name: 'New peer' });
      const peer = `phone-${uniq('p')}`;
      await dialog.getByLabel('Name', { exact: true }).fill(peer);
      await dialog.getByRole('button', { name: 'Create peer' }).click();
      const created = page.getByRole('dialog', { name: `Peer ${peer} created` });
      const config = created.locator('pre.config');
      await config.waitFor();
      await look('WireGuard: peer created');
      const text = await config.textContent();
      expect(text).toMatch(/PrivateKey = \S{44}/);
      // The whole key is inside the dialog's box, not cut off at its edge.
      const box = await created.boundingBox();
      const pre = await config.boundingBox();
      expect(pre!.x + pre!.width).toBeLessThanOrEqual(box!.x + box!.width);
      expect(await config.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
      await check(page, 'wireguard: peer created at 390 px');
      await created.getByRole('button', { name: 'Done' }).click();
      expect(wide).toEqual([]);
      expect(findings).toEqual([]);
      expect(b.problems.cspViolations).toEqual([]);
    }, 240_000);
  });

  describe('dark theme', () => {
    let b: Browsing;
    let page: Page;
    beforeAll(async () => {
      b = await launch({ width: 1440, height: 900 }, { colorScheme: 'dark' });
      page = b.page;
      page.setDefaultTimeout(10_000);
    });
    afterAll(async () => {
      await b?.close();
    });

    it('13: follows prefers-color-scheme, passes axe contrast on every screen, and the switch is remembered', async () => {
      const theme = () => page.evaluate(() => document.documentElement.dataset.theme);
      await page.goto(`${server.origin}/admin/`);
      await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
      expect(await theme()).toBe('dark');
      await check(page, 'dark: sign-in');
      await signIn(page, ops.tenantId, ops.email);
      await check(page, 'dark: overview');
      const labels = await page.locator('#nav').getByRole('link').allInnerTexts();
      for (const label of labels) {
        await nav(page, label);
        await page.getByRole('heading', { level: 1, name: label }).waitFor();
        await page.waitForTimeout(150);
        await check(page, `dark: ${label}`);
      }
      // A dialog and a field error in the dark.
      await nav(page, 'API keys');
      await page.getByRole('button', { name: 'New API key' }).click();
      const dialog = page.getByRole('dialog', { name: 'New API key' });
      await dialog.getByLabel('Name', { exact: true }).fill('late');
      await dialog.getByLabel('Expires on (optional)').fill('2020-01-01');
      await dialog.getByRole('button', { name: 'Create key' }).click();
      await dialog.getByText('Must be in the future').waitFor();
      await check(page, 'dark: dialog with a field error');
      await dialog.getByRole('button', { name: 'Cancel' }).click();

      const toggle = page.getByRole('button', { name: 'Dark theme' });
      expect(await toggle.getAttribute('aria-pressed')).toBe('true');
      await toggle.click();
      expect(await theme()).toBe('light');
      await page.reload();
      await page.getByRole('heading', { name: 'API keys' }).waitFor();
      // Remembered over the system's preference.
      expect(await theme()).toBe('light');
      expect(await page.getByRole('button', { name: 'Dark theme' }).getAttribute('aria-pressed')).toBe(
        'false',
      );
      await page.getByRole('button', { name: 'Dark theme' }).click();
      expect(await theme()).toBe('dark');

      expect(findings).toEqual([]);
      expect(b.problems.cspViolations).toEqual([]);
      expect(b.problems.consoleErrors.filter((e) => !/status of 422/.test(e))).toEqual([]);
    }, 240_000);
  });
});
