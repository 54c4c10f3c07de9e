/**
 * Issue 20 item 10 in Debian's chromium: an administrator (signed in with TOTP) recovers a user's account from the
 * user's page: ends one of their sessions (the other stays), mails them a password-reset link (a real SMTP
 * server receives it, with the console's reset page as its link), and resets their second factors after proving
 * their own current code. Checked through the API; axe on the page; CSP and console errors watched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, newTenant, newUser } from '../helpers/factories.js';
import { startSmtp, type TestSmtp } from '../helpers/smtp.js';
import { enrolTotp, safeTotpMoment, totpCode } from '../helpers/totp.js';
import {
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

describe.skipIf(!chromiumAvailable())('issue 20 item 10: account recovery by an administrator', () => {
  beforeAll(async () => {
    smtp = await startSmtp();
    server = await startServer({ SMTP_URL: smtp.url });
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await smtp?.close();
  });

  it('ends one session, sends a reset link and resets MFA after the admin proves their own code', async () => {
    const { tenant, admin } = await newTenant(server.app);
    const adminTotp = await enrolTotp(server.app, tenant.id, admin.email);
    const member = await newUser(server.app, tenant.id, { roles: ['member'] });
    // Two sessions of the member (this one, and enrolTotp's own): one to end, one that must stay.
    await login(server.app, tenant.id, member.email);
    await enrolTotp(server.app, tenant.id, member.email);
    const b: Browsing = await launch({ width: 1440, height: 900 });
    try {
      const page = b.page;
      page.setDefaultTimeout(15_000);
      await signIn(page, server.origin, {
        organisation: tenant.slug,
        email: admin.email,
        totpSecret: adminTotp.secret,
      });
      await page.goto(`${server.origin}/admin/users/${member.id}`);
      await page.getByRole('heading', { name: 'Account recovery' }).waitFor();
      expect(
        (await axe(page, 'user page with recovery')).filter(
          (f) => f.impact === 'serious' || f.impact === 'critical',
        ),
      ).toEqual([]);

      const sessionsOf = async () => {
        const r = await server.app.inject({
          method: 'GET',
          url: `/api/v1/users/${member.id}/sessions`,
          headers: { authorization: `Bearer ${adminTotp.tokens.access_token}` },
        });
        return (r.json().sessions as { id: string; is_active: boolean }[]).filter((s) => s.is_active);
      };
      const before = await sessionsOf();
      expect(before.length).toBeGreaterThanOrEqual(2);
      await page
        .getByRole('button', { name: /^End the session on / })
        .first()
        .click();
      await page.getByRole('dialog').getByRole('button', { name: 'End session' }).click();
      await page.getByText('Session ended').waitFor();
      expect((await sessionsOf()).length).toBe(before.length - 1);

      await page.getByRole('button', { name: 'Send password reset link' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Send password reset link' }).click();
      await page.getByText(`Reset link sent to ${member.email}`).waitFor();
      const mail = await smtp.waitFor(member.email, (m) => m.text.includes('reset-password?token='));
      expect(mail.text).toContain(`${server.origin}/admin/reset-password?token=`);

      await page.getByRole('button', { name: 'Reset two-factor authentication' }).click();
      const dialog = page.getByRole('dialog');
      // The admin's own code, a step after the one used at sign-in (a used code is refused as a replay).
      await safeTotpMoment();
      await dialog.getByLabel('Your authentication code').fill(totpCode(adminTotp.secret, 1));
      await dialog.getByRole('button', { name: 'Reset two-factor authentication' }).click();
      await page.getByText(`Two-factor authentication of ${member.email} reset`).waitFor();
      await page.getByText('MFA off').first().waitFor();
      const status = await server.app.inject({
        method: 'GET',
        url: `/api/v1/users/${member.id}`,
        headers: { authorization: `Bearer ${adminTotp.tokens.access_token}` },
      });
      expect(status.json().has_mfa).toBe(false);
      // The reset ended every session of the member.
      expect(await sessionsOf()).toEqual([]);
      expect(b.problems.cspViolations).toEqual([]);
      expect(b.problems.consoleErrors).toEqual([]);
    } finally {
      await b.close();
    }
  }, 180_000);
});
