/**
 * Security alert mail on sign-in from a new device (API.md §16). A device is new when no other session of the
 * user, past or present, has the same device type, browser and OS. The mail leaves in the background so the
 * sign-in never waits for SMTP.
 */
import { sql } from 'drizzle-orm';
import type { AppContext } from '../../platform/context.js';
import { runInBackground } from '../../platform/mail/background.js';
import { newSignInMail } from '../../platform/mail/templates.js';

export function installSecurityAlerts(ctx: AppContext): void {
  ctx.hooks.loginSucceeded.push(async (e) => {
    const seen = await ctx.database.withTenant(e.tenantId, async (tx) => {
      const r = await tx.execute(sql`
        select 1 from sessions
        where tenant_id = ${e.tenantId} and user_id = ${e.userId} and id <> ${e.sessionId}::uuid
          and device_type is not distinct from ${e.deviceType} and browser is not distinct from ${e.browser}
          and os is not distinct from ${e.os}
        limit 1`);
      return r.rows.length > 0;
    });
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
