/**
 * GDPR rights (API.md §9): export, erasure, anonymisation, inventory. Everything runs in the caller's tenant;
 * a user id of another tenant is simply not found (404). Erasure and anonymisation happen in one transaction
 * with their audit record: sessions end, every module erases what it holds (ctx.hooks.gdprErase), the audit
 * trail's personal values are deleted (the hashed records keep only opaque references), and the user row is
 * deleted or has every personal field replaced.
 */
import { createHmac } from 'node:crypto';
import { and, desc, eq, or, sql } from 'drizzle-orm';
import { collectRefs, erasePii, lookupPii, rehydrate } from '../../platform/audit/pii.js';
import { recordLine } from '../../platform/audit/retention.js';
import { auditLog } from '../../platform/audit/tables.js';
import { type AuditContext, writeAudit } from '../../platform/audit/writer.js';
import type { AfterCommit, AppContext } from '../../platform/context.js';
import type { Tx } from '../../platform/db/client.js';
import { badRequest, notFound } from '../../platform/http/errors.js';
import { registerMessages } from '../../platform/http/messages.js';
import { clearLoginAttempts } from '../auth/lockout.js';
import { passwordResetTokens } from '../password-reset/tables.js';
import * as sessionsRepo from '../sessions/repository.js';
import { publishRevocations } from '../sessions/service.js';
import { refreshTokens, sessions } from '../sessions/tables.js';
import { findTenantById } from '../tenants/repository.js';
import { resolveSettings } from '../tenants/settings.js';
import { findUserById } from '../users/repository.js';
import { type Actor, assertMayRemoveUser, assertNotLastOwner, runUserDeactivated } from '../users/service.js';
import { users } from '../users/tables.js';
import { inventory } from './inventory.js';

registerMessages({
  CANNOT_ERASE_SELF: {
    fr: 'Vous ne pouvez pas effacer votre propre compte',
    en: 'You cannot erase your own account',
  },
});

/** Audit events in an export: the newest ones, enough for any real account; the cap keeps the response bounded. */
export const EXPORT_AUDIT_LIMIT = 5000;
const CORE_SECTIONS = new Set([
  'exported_at',
  'tenant_id',
  'user',
  'sessions',
  'audit_events',
  'audit_events_truncated',
  'password_reset_requests',
  'identities',
]);

/** Stable, non-reversible name of a user for records and anonymised rows: the same user always gets the same one. */
export function pseudonymFor(ctx: AppContext, tenantId: number, userId: number): string {
  return `user-${createHmac('sha256', ctx.config.encryptionKey).update(`gdpr-pseudonym:${tenantId}:${userId}`).digest('hex').slice(0, 20)}`;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export async function exportUser(ctx: AppContext, tenantId: number, userId: number, audit: AuditContext) {
  return ctx.database.withTenant(tenantId, async (tx) => {
    const user = await findUserById(tx, tenantId, userId);
    if (!user) throw notFound('user');
    const sessionRows = await sessionsRepo.listUserSessions(tx, tenantId, userId, true);
    const uid = String(userId);
    const events = await tx
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.tenantId, tenantId),
          or(
            and(eq(auditLog.actorType, 'user'), eq(auditLog.actorId, uid)),
            and(eq(auditLog.resourceType, 'user'), eq(auditLog.resourceId, uid)),
          ),
        ),
      )
      .orderBy(desc(auditLog.id))
      .limit(EXPORT_AUDIT_LIMIT + 1);
    // Only this user's own values are put back: an admin's events may point at other people's data.
    const values = await lookupPii(tx, tenantId, collectRefs(events.map((e) => e.metadata)), {
      userId,
      email: user.email,
    });
    const resets = await tx
      .select()
      .from(passwordResetTokens)
      .where(and(eq(passwordResetTokens.tenantId, tenantId), eq(passwordResetTokens.userId, userId)))
      .orderBy(desc(passwordResetTokens.createdAt))
      .limit(100);
    const modules: Record<string, unknown> = {};
    for (const hook of ctx.hooks.gdprExport) {
      const key =
        CORE_SECTIONS.has(hook.name) && hook.name !== 'identities' ? `module_${hook.name}` : hook.name;
      modules[key] = await hook.collect(tx, tenantId, userId);
    }
    await writeAudit(tx, tenantId, audit, {
      eventType: 'gdpr.exported',
      resourceType: 'user',
      resourceId: userId,
      metadata: { sections: Object.keys(modules) },
    });
    return {
      exported_at: new Date().toISOString(),
      tenant_id: tenantId,
      user: {
        id: user.id,
        tenant_id: user.tenantId,
        email: user.email,
        first_name: user.firstName,
        last_name: user.lastName,
        phone: user.phone,
        is_active: user.isActive,
        is_verified: user.isVerified,
        is_superuser: user.isSuperuser,
        has_password: user.passwordHash !== null,
        created_at: user.createdAt.toISOString(),
        updated_at: user.updatedAt.toISOString(),
        last_login_at: iso(user.lastLoginAt),
        password_changed_at: iso(user.passwordChangedAt),
      },
      sessions: sessionRows.map((s) => ({
        id: s.id,
        created_at: s.createdAt.toISOString(),
        last_seen_at: s.lastSeenAt.toISOString(),
        expires_at: s.expiresAt.toISOString(),
        revoked_at: iso(s.revokedAt),
        revoked_reason: s.revokedReason,
        ip_address: s.ipAddress,
        user_agent: s.userAgent,
        device_type: s.deviceType,
        browser: s.browser,
        os: s.os,
      })),
      audit_events: events.slice(0, EXPORT_AUDIT_LIMIT).map((e) => {
        const line = recordLine(e);
        return { ...line, metadata: rehydrate(line.metadata, values) };
      }),
      audit_events_truncated: events.length > EXPORT_AUDIT_LIMIT,
      password_reset_requests: resets.map((r) => ({
        created_at: r.createdAt.toISOString(),
        expires_at: r.expiresAt.toISOString(),
        used_at: iso(r.usedAt),
      })),
      // No identity-provider links exist yet (social/SSO); a module that adds them exports under this name.
      identities: [] as unknown[],
      ...modules,
    };
  });
}

export type ErasureMode = 'deleted' | 'anonymized';

/**
 * Erasure and anonymisation take a user out of the tenant: they apply exactly the checks of deleting one
 * (users/service: not oneself, the caller dominates the user, never the last active owner).
 */
export async function eraseUser(
  ctx: AppContext,
  actor: Actor,
  body: { user_id: number; reason: string },
  mode: ErasureMode,
) {
  const { tenantId, audit } = actor;
  const userId = body.user_id;
  if (actor.userId === userId) throw badRequest('CANNOT_ERASE_SELF');
  await assertMayRemoveUser(ctx, actor, userId);
  const pseudonym = pseudonymFor(ctx, tenantId, userId);
  const reason = mode === 'deleted' ? 'gdpr_erasure' : 'gdpr_anonymization';
  const result = await ctx.database.withTenant(tenantId, async (tx) => {
    // The row lock serialises concurrent erasures of one user: the later ones find it gone (404).
    const [user] = await tx
      .select()
      .from(users)
      .where(and(eq(users.tenantId, tenantId), eq(users.id, userId)))
      .for('update');
    if (!user) throw notFound('user');
    // Both modes leave the user unable to sign in: an active owner must not be the last one.
    if (user.isActive) await assertNotLastOwner(tx, tenantId, userId);
    const revoked = await sessionsRepo.revokeSessions(tx, tenantId, { userId }, reason);
    await runUserDeactivated(ctx, tx, tenantId, userId, reason, audit);
    const moduleNames: string[] = [];
    const afterCommit: AfterCommit[] = [];
    for (const hook of ctx.hooks.gdprErase) {
      await hook.erase(tx, tenantId, userId, (fn) => afterCommit.push(fn));
      moduleNames.push(hook.name);
    }
    const erasedValues = await erasePii(tx, tenantId, userId, [user.email]);
    await tx
      .delete(passwordResetTokens)
      .where(and(eq(passwordResetTokens.tenantId, tenantId), eq(passwordResetTokens.userId, userId)));
    if (mode === 'deleted') {
      await deleteOrScrub(tx, tenantId, userId, pseudonym);
    } else {
      await scrubUser(tx, tenantId, userId, pseudonym);
      // Sessions stay as history of use, without what identifies a person's network or browser.
      await tx
        .update(sessions)
        .set({ ipAddress: null, userAgent: null })
        .where(and(eq(sessions.tenantId, tenantId), eq(sessions.userId, userId)));
    }
    await writeAudit(tx, tenantId, audit, {
      eventType: mode === 'deleted' ? 'gdpr.erased' : 'gdpr.anonymized',
      resourceType: 'user',
      resourceId: userId,
      metadata: {
        reason: body.reason,
        pseudonym,
        sessions_revoked: revoked.length,
        audit_values_erased: erasedValues,
        modules: moduleNames,
      },
    });
    return { revoked, erasedValues, moduleNames, email: user.email, afterCommit };
  });
  // Only now that the erasure has committed: store flags (API keys) that every replica obeys.
  for (const after of result.afterCommit) await after();
  await publishRevocations(ctx, result.revoked);
  // Failed-attempt counters are keyed by email in the store: they go too.
  await clearLoginAttempts(ctx, tenantId, result.email);
  return {
    user_id: userId,
    mode,
    pseudonym,
    sessions_revoked: result.revoked.length,
    audit_values_erased: result.erasedValues,
    modules: result.moduleNames,
  };
}

/** Every personal field replaced; the account can never sign in again. */
async function scrubUser(tx: Tx, tenantId: number, userId: number, pseudonym: string) {
  await tx
    .update(users)
    .set({
      email: `${pseudonym}@anonymized.invalid`,
      firstName: null,
      lastName: null,
      phone: null,
      passwordHash: null,
      isActive: false,
      isVerified: false,
      isSuperuser: false,
      updatedAt: new Date(),
    })
    .where(and(eq(users.tenantId, tenantId), eq(users.id, userId)));
}

/**
 * Erasure deletes the row (sessions, tokens and reset links go with it). If a module still references the user
 * without ON DELETE CASCADE, the delete is rolled back to a savepoint and the row is scrubbed instead: no
 * personal field survives either way.
 */
async function deleteOrScrub(tx: Tx, tenantId: number, userId: number, pseudonym: string) {
  await tx
    .delete(refreshTokens)
    .where(
      and(
        eq(refreshTokens.tenantId, tenantId),
        sql`${refreshTokens.sessionId} in (select id from sessions where tenant_id = ${tenantId} and user_id = ${userId})`,
      ),
    );
  await tx.delete(sessions).where(and(eq(sessions.tenantId, tenantId), eq(sessions.userId, userId)));
  try {
    await tx.transaction(async (sp) => {
      await sp.delete(users).where(and(eq(users.tenantId, tenantId), eq(users.id, userId)));
    });
  } catch {
    await scrubUser(tx, tenantId, userId, pseudonym);
  }
}

export async function tenantInventory(ctx: AppContext, tenantId: number) {
  const t = await ctx.database.withTenant(tenantId, (tx) => findTenantById(tx, tenantId));
  return inventory(resolveSettings(t?.settings, ctx.config).audit_retention_days);
}
