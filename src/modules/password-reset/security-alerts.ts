/**
 * Security alert mail on sign-in from a new device (API.md §16). A device is new when no other session of the
 * user, past or present, has the same device type, browser and OS. The mail leaves in the background so the
 * sign-in never waits for SMTP.
 */
import type { AppContext } from '../../platform/context.js';
import { runInBackground } from '../../platform/mail/background.js';
import { newSignInMail } from '../../platform/mail/templates.js';
import { hasOtherSessionFromDevice } from '../sessions/index.js';

export function installSecurityAlerts(ctx: AppContext): void {
  ctx.hooks.loginSucceeded.push(async (e) => {
    // The sessions table is the sessions module's: it answers the question.
    const seen = await ctx.database.withTenant(e.tenantId, (tx) =>
      hasOtherSessionFromDevice(tx, e.tenantId, e.userId, e.sessionId, e),
    );
    if (seen) return;
    const mail = newSignInMail(e.email, {
      at: new Date(),
      ip: e.ip,
      deviceType: e.deviceType,
      browser: e.browser,
      os: e.os,
    });
    runInBackground(ctx, 'new sign-in alert mail', () => ctx.mailer.send(mail));
  });
}
