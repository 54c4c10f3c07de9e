/**
 * POST /users/{id}/mfa/reset (issue 20): an administrator who dominates a user removes every second factor of
 * theirs (TOTP, security keys, recovery codes) and ends their sessions, for a person who lost their phone. The
 * administrator proves their own second factor within 5 minutes first (step-up.ts requireOwnSecondFactor); the
 * user is told by mail. A user whose tenant or role requires MFA enrols again at the next sign-in.
 */
import type { AuditContext } from '../../platform/audit/writer.js';
import { writeAudit } from '../../platform/audit/writer.js';
import { notFound } from '../../platform/http/errors.js';
import { runInBackground } from '../../platform/mail/background.js';
import { mfaResetMail } from '../../platform/mail/templates.js';
import { bumpUserVersion } from '../../platform/store/versions.js';
import { publishRevocations, revokeUserSessions } from '../sessions/index.js';
import { type Actor, assertMayRemoveUser, userById } from '../users/index.js';
import type { MfaDeps } from './deps.js';
import * as repo from './repository.js';
import { requireOwnSecondFactor } from './step-up.js';

export async function resetUserMfa(
  ctx: MfaDeps,
  actor: Actor,
  sessionId: string | null,
  targetId: number,
  audit: AuditContext = actor.audit,
): Promise<{ sessions_ended: number }> {
  const { tenantId } = actor;
  // 404 outside the tenant, 400 OWN_ACCOUNT for oneself (/mfa/disable is the way), 403 unless the caller dominates.
  await assertMayRemoveUser(ctx, actor, targetId);
  if (actor.userId === null) throw notFound('user');
  await requireOwnSecondFactor(ctx, { tenantId, userId: actor.userId, sessionId });
  const done = await ctx.database.withTenant(tenantId, async (tx) => {
    const user = await userById(tx, tenantId, targetId);
    if (!user) throw notFound('user');
    // The same lock as every factor removal: a concurrent enrolment or removal waits for this one.
    await repo.lockUserFactors(tx, tenantId, targetId);
    const totp = await repo.findTotp(tx, tenantId, targetId);
    const keys = await repo.countCredentials(tx, tenantId, targetId);
    const codes = await repo.countUnusedRecoveryCodes(tx, tenantId, targetId);
    await repo.deleteTotp(tx, tenantId, targetId);
    await repo.deleteRecoveryCodes(tx, tenantId, targetId);
    await repo.deleteCredentials(tx, tenantId, targetId);
    const ended = await revokeUserSessions(tx, tenantId, targetId, 'mfa_reset');
    await writeAudit(tx, tenantId, audit, {
      eventType: 'mfa.reset',
      resourceType: 'user',
      resourceId: targetId,
      metadata: {
        totp_removed: Boolean(totp),
        security_keys_removed: keys,
        recovery_codes_removed: codes,
        sessions_ended: ended.length,
      },
    });
    return { email: user.email, ended };
  });
  await publishRevocations(ctx, done.ended);
  await bumpUserVersion(ctx.store, tenantId, targetId);
  const mail = mfaResetMail(done.email, new Date());
  runInBackground(ctx, 'MFA reset mail', () => ctx.mailer.send(mail));
  return { sessions_ended: done.ended.length };
}
