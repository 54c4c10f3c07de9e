/**
 * Issue 20 item 9 in Debian's chromium: an administrator invites a person with a role from the Users screen; the
 * person opens the link of the real mail (`/admin/accept-invite?token=…`), sets a name and a password, and signs
 * in; a second invitation is revoked from the pending list and its link then says so. axe on each page; CSP and
 * console errors watched; nothing scrolls sideways at 390 px.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTenant, PASSWORD, uniq } from '../helpers/factories.js';
import { startSmtp, type TestSmtp } from '../helpers/smtp.js';
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
let smtp: TestSmtp;
const findings: AxeFinding[] = [];
const STRONG = 'Invited-Passphrase-7x';

const linkIn = (text: string) => /https?:\/\/\S+\/admin\/accept-invite\?token=\S+/.exec(text)?.[0] ?? '';

describe.skipIf(!chromiumAvailable())('issue 20 item 9: invitations in the console', () => {
  beforeAll(async () => {
    smtp = await startSmtp();
    server = await startServer({ SMTP_URL: smtp.url });
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await smtp?.close();
  });

  it('invite with a role, accept from the mail, sign in; a revoked invitation link says so', async () => {
    const { tenant, admin } = await newTenant(server.app);
    const invited = `${uniq('guest')}@example.test`;
    const withdrawn = `${uniq('late')}@example.test`;
    const b: Browsing = await launch({ width: 390, height: 844 });
    try {
      const page = b.page;
      page.setDefaultTimeout(15_000);
      await signIn(page, server.origin, { organisation: tenant.slug, email: admin.email });
      await page.goto(`${server.origin}/admin/users`);
      await page.getByRole('heading', { name: 'Pending invitations' }).waitFor();

      for (const email of [invited, withdrawn]) {
        await page.getByRole('button', { name: 'Invite', exact: true }).click();
        const dialog = page.getByRole('dialog');
        await dialog.getByLabel('Email').fill(email);
        if (email === invited) await dialog.getByLabel('Member (member)').check();
        findings.push(...(await axe(page, 'invite dialog')));
        await dialog.getByRole('button', { name: 'Send invitation' }).click();
        await page.getByText(`Invitation sent to ${email}`).waitFor();
      }
      await page.getByRole('cell', { name: withdrawn, exact: true }).waitFor();
      findings.push(...(await axe(page, 'users with pending invitations')));
      await page.getByRole('button', { name: `Revoke the invitation of ${withdrawn}` }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
      await page.getByText('Invitation revoked').waitFor();
      await page.getByRole('cell', { name: withdrawn, exact: true }).waitFor({ state: 'detached' });
      await page.getByRole('cell', { name: invited, exact: true }).waitFor();

      // The invited person, signed out, from the link in the real mail.
      const mail = await smtp.waitFor(invited, (m) => m.text.includes('accept-invite'));
      const link = linkIn(mail.text);
      expect(link.startsWith(`${server.origin}/admin/accept-invite?token=`)).toBe(true);
      const guest: Browsing = await launch({ width: 390, height: 844 });
      try {
        const p = guest.page;
        p.setDefaultTimeout(15_000);
        await p.goto(link);
        await p.getByRole('heading', { name: 'Join your organisation' }).waitFor();
        await p.getByText(`as ${invited}`).waitFor();
        findings.push(...(await axe(p, 'accept invitation')));
        await p.getByLabel('First name').fill('Gina');
        await p.getByLabel('Last name').fill('Guest');
        await p.getByLabel('New password', { exact: true }).fill(STRONG);
        await p.getByLabel(/Repeat|Confirm/).fill(STRONG);
        await p.getByRole('button', { name: 'Create my account' }).click();
        await p.getByText('Your account is ready').waitFor();
        // The link works once.
        await p.goto(link);
        await p.getByText('already accepted').waitFor();
        // The revoked one says so.
        const other = linkIn((await smtp.waitFor(withdrawn, (m) => m.text.includes('accept-invite'))).text);
        await p.goto(other);
        await p.getByText('This invitation was withdrawn.').waitFor();
        expect(guest.problems.cspViolations).toEqual([]);
        expect(guest.problems.consoleErrors.filter((e) => !/status of 4(00|04|10)/.test(e))).toEqual([]);
      } finally {
        await guest.close();
      }
      // The new account signs in with the role it was invited with.
      const login = await server.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { 'x-tenant-id': String(tenant.id) },
        payload: { email: invited, password: STRONG },
      });
      expect(login.statusCode, login.body).toBe(200);
      const me = await server.app.inject({
        method: 'GET',
        url: '/api/v1/users/me',
        headers: { authorization: `Bearer ${login.json().access_token}` },
      });
      expect(me.json()).toMatchObject({
        email: invited,
        first_name: 'Gina',
        last_name: 'Guest',
        is_verified: true,
      });
      // Read by the admin (a member may not list roles).
      const adminLogin = await server.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { 'x-tenant-id': String(tenant.id) },
        payload: { email: admin.email, password: PASSWORD },
      });
      const roles = await server.app.inject({
        method: 'GET',
        url: `/api/v1/users/${me.json().id}/roles`,
        headers: { authorization: `Bearer ${adminLogin.json().access_token}` },
      });
      expect(roles.json().roles.map((r: { code: string }) => r.code)).toEqual(['member']);
      expect(b.problems.cspViolations).toEqual([]);
      expect(b.problems.consoleErrors).toEqual([]);
    } finally {
      await b.close();
    }
    expect(findings.filter((f) => f.impact === 'serious' || f.impact === 'critical')).toEqual([]);
  }, 180_000);
});
