/**
 * Issue 20 item 12 in Debian's chromium: an administrator's users list shows each user's roles, MFA and last
 * sign-in; a header click sorts it (aria-sort says how); two users are selected with the keyboard and mouse, given
 * a role, then deactivated together with the admin's own row, whose refusal is reported per user. Checked through
 * the API; axe on every state; CSP and console errors watched; nothing scrolls sideways at 390 px.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, newTenant, newUser } from '../helpers/factories.js';
import { enrolTotp } from '../helpers/totp.js';
import {
  type AxeFinding,
  axe,
  type Browsing,
  chromiumAvailable,
  launch,
  nav,
  type Server,
  signIn,
  startServer,
} from './harness.js';

if (!chromiumAvailable() && process.env.CI)
  throw new Error('chromium is missing: apt-get install -y chromium');

let server: Server;

/** The users table (the invitations panel below it is a table too). */
const table = (page: Page) => page.getByRole('table', { name: 'Users', exact: true });
/** The row of the list that shows this address (its name cell shows it at 390 px, its email cell at 1440). */
const row = (page: Page, email: string) => table(page).locator('tbody tr').filter({ hasText: email });

describe.skipIf(!chromiumAvailable())('issue 20 item 12: the users list', () => {
  beforeAll(async () => {
    server = await startServer();
  }, 120_000);
  afterAll(async () => {
    await server?.close();
  });

  it('shows roles, MFA and last sign-in; sorts; assigns a role to two users and deactivates them', async () => {
    const { tenant, admin } = await newTenant(server.app);
    const ana = await newUser(server.app, tenant.id, { email: 'ana@example.test', roles: ['viewer'] });
    const bob = await newUser(server.app, tenant.id, { email: 'bob@example.test' });
    const zed = await newUser(server.app, tenant.id, { email: 'zed@example.test', roles: ['member'] });
    // Ana signs in (and turns on TOTP); Bob and Zed never signed in.
    await login(server.app, tenant.id, ana.email);
    await enrolTotp(server.app, tenant.id, ana.email);
    const findings: AxeFinding[] = [];
    const b: Browsing = await launch({ width: 1440, height: 900 });
    try {
      const page = b.page;
      page.setDefaultTimeout(15_000);
      await signIn(page, server.origin, { organisation: tenant.slug, email: admin.email });
      await nav(page, 'Users');
      await row(page, zed.email).waitFor();
      // The columns: roles, MFA, last sign-in.
      for (const name of ['Roles', 'MFA', 'Last sign-in'])
        await table(page).getByRole('columnheader', { name, exact: true }).waitFor();
      await row(page, ana.email).getByRole('cell', { name: 'viewer', exact: true }).waitFor();
      await row(page, ana.email).getByText('On', { exact: true }).waitFor();
      await row(page, bob.email).getByText('Off', { exact: true }).waitFor();
      await row(page, bob.email).getByRole('cell', { name: 'never', exact: true }).waitFor();
      expect(await row(page, ana.email).locator('time').count()).toBe(1);
      findings.push(...(await axe(page, 'users list')));

      // Sort by email: ascending, then descending on a second click (from the keyboard).
      const emailHeader = table(page).getByRole('columnheader', { name: 'Email', exact: true });
      expect(await emailHeader.getAttribute('aria-sort')).toBeNull();
      await table(page).getByRole('button', { name: 'Email', exact: true }).click();
      await table(page).locator('th[aria-sort="ascending"]', { hasText: 'Email' }).waitFor();
      await table(page).locator('tbody tr').first().filter({ hasText: admin.email }).waitFor();
      await table(page).getByRole('button', { name: 'Email', exact: true }).focus();
      await page.keyboard.press('Enter');
      await table(page).locator('th[aria-sort="descending"]', { hasText: 'Email' }).waitFor();
      await table(page).locator('tbody tr').first().filter({ hasText: zed.email }).waitFor();
      // Most recent sign-in first: the admin (just now, in this browser), then Ana.
      await table(page).getByRole('button', { name: 'Last sign-in', exact: true }).click();
      await table(page).getByRole('button', { name: 'Last sign-in', exact: true }).click();
      await table(page).locator('th[aria-sort="descending"]', { hasText: 'Last sign-in' }).waitFor();
      await table(page).locator('tbody tr').first().filter({ hasText: admin.email }).waitFor();
      await table(page).locator('tbody tr').nth(1).filter({ hasText: ana.email }).waitFor();
      expect(await emailHeader.getAttribute('aria-sort')).toBeNull();

      // Select Ana (keyboard: Space on her box) and Bob (click); the bulk bar counts them.
      await page.getByRole('checkbox', { name: `Select ${ana.email}` }).focus();
      await page.keyboard.press('Space');
      await page.getByRole('checkbox', { name: `Select ${bob.email}` }).check();
      const bar = page.getByRole('region', { name: 'Selected users' });
      await bar.getByText('2 users selected').waitFor();
      findings.push(...(await axe(page, 'users list, two selected')));

      // Assign role: the picker offers what the admin may grant; Manager for both.
      await bar.getByRole('button', { name: 'Assign role' }).click();
      const assign = page.getByRole('dialog', { name: 'Assign a role to 2 users' });
      await assign.getByLabel('Role').selectOption({ label: 'Manager' });
      findings.push(...(await axe(page, 'assign role dialog')));
      await assign.getByRole('button', { name: 'Assign role' }).click();
      await assign.waitFor({ state: 'detached' });
      await row(page, ana.email).getByRole('cell', { name: 'manager, viewer', exact: true }).waitFor();
      await row(page, bob.email).getByRole('cell', { name: 'manager', exact: true }).waitFor();
      await bar.waitFor({ state: 'detached' });

      // Deactivate both, with the admin's own row among them: the two go, the admin's row is refused and said so.
      await page.getByRole('checkbox', { name: `Select ${ana.email}` }).check();
      await page.getByRole('checkbox', { name: `Select ${bob.email}` }).check();
      await page.getByRole('checkbox', { name: `Select ${admin.email}` }).check();
      await bar.getByText('3 users selected').waitFor();
      await bar.getByRole('button', { name: 'Deactivate' }).click();
      const confirm = page.getByRole('dialog', { name: 'Deactivate 3 users' });
      await confirm.getByText(bob.email).waitFor();
      findings.push(...(await axe(page, 'deactivate dialog')));
      await confirm.getByRole('button', { name: 'Deactivate' }).click();
      await confirm.waitFor({ state: 'detached' });
      await row(page, ana.email).getByText('Inactive', { exact: true }).waitFor();
      await row(page, bob.email).getByText('Inactive', { exact: true }).waitFor();
      const report = page.getByRole('region', { name: 'Result of the last change' });
      await report.getByText('2 users changed · 1 user not changed').waitFor();
      await report.getByText(`${admin.email}: This action is not allowed on your own account`).waitFor();
      findings.push(...(await axe(page, 'users list after the bulk change')));

      // Select all, then none, with the header's box.
      const all = page.getByRole('checkbox', { name: 'Select every row on this page' });
      await all.check();
      await bar.getByText('4 users selected').waitFor();
      await all.uncheck();
      await bar.waitFor({ state: 'detached' });

      // The API agrees.
      const token = (await login(server.app, tenant.id, admin.email)).access_token;
      const listed = await server.app.inject({
        method: 'GET',
        url: '/api/v1/users?sort=email',
        headers: { authorization: `Bearer ${token}` },
      });
      const users = listed.json().users as { email: string; is_active: boolean; roles: string[] }[];
      expect(users.map((u) => [u.email, u.is_active, u.roles])).toEqual([
        [admin.email, true, ['owner']],
        [ana.email, false, ['manager', 'viewer']],
        [bob.email, false, ['manager']],
        [zed.email, true, ['member']],
      ]);
      expect(findings).toEqual([]);
      expect(b.problems.cspViolations).toEqual([]);
      expect(b.problems.consoleErrors).toEqual([]);
    } finally {
      await b.close();
    }
  }, 180_000);

  it('at 390 px, the list with its bulk bar does not scroll sideways (the table scrolls in its box)', async () => {
    const { tenant, admin } = await newTenant(server.app);
    const one = await newUser(server.app, tenant.id, { email: 'one@example.test' });
    const b: Browsing = await launch({ width: 390, height: 844 });
    try {
      const page = b.page;
      page.setDefaultTimeout(15_000);
      await signIn(page, server.origin, { organisation: tenant.slug, email: admin.email });
      await nav(page, 'Users');
      await page.getByRole('checkbox', { name: `Select ${one.email}` }).check();
      await page.getByRole('region', { name: 'Selected users' }).getByText('1 user selected').waitFor();
      const wide = await page.evaluate(() => {
        const doc = document.scrollingElement!;
        return doc.scrollWidth - doc.clientWidth;
      });
      expect(wide).toBeLessThanOrEqual(0);
      expect(await axe(page, 'users list at 390 px')).toEqual([]);
      expect(b.problems.cspViolations).toEqual([]);
    } finally {
      await b.close();
    }
  }, 120_000);
});
