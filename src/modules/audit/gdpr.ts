/**
 * The audit trail's part of GDPR (API.md §9). Export: the user's own events (as actor or as subject), newest
 * first, with only their own personal values put back. Erasure: records are never deleted (the hash chain must
 * still verify); the personal values they point to are (audit_pii), leaving opaque references. It runs in the
 * `audit` phase, after every module hook that may still write a record naming the user.
 */
import { and, desc, eq, or } from 'drizzle-orm';
import { collectRefs, erasePii, lookupPii, rehydrate } from '../../platform/audit/pii.js';
import { recordLine } from '../../platform/audit/retention.js';
import { auditColumns, auditLog } from '../../platform/audit/tables.js';
import type { AppContext } from '../../platform/context.js';
import type { Tx } from '../../platform/db/client.js';
import { userEmail } from '../users/index.js';

/** Audit events in an export: the newest ones, enough for any real account; the cap keeps the response bounded. */
export const EXPORT_AUDIT_LIMIT = 5000;

export async function exportAuditEvents(tx: Tx, tenantId: number, userId: number) {
  const uid = String(userId);
  const events = await tx
    .select(auditColumns)
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
  const email = await userEmail(tx, tenantId, userId);
  // No such user: the export is a 404 anyway (the users section is null), so nothing is put back.
  const values =
    email === null
      ? new Map<string, string>()
      : await lookupPii(tx, tenantId, collectRefs(events.map((e) => e.metadata)), { userId, email });
  return {
    audit_events: events.slice(0, EXPORT_AUDIT_LIMIT).map((e) => {
      const line = recordLine(e);
      return { ...line, metadata: rehydrate(line.metadata, values) };
    }),
    audit_events_truncated: events.length > EXPORT_AUDIT_LIMIT,
  };
}

export function registerAuditGdpr(ctx: AppContext): void {
  ctx.hooks.gdprExport.push({ name: 'audit', spread: true, collect: exportAuditEvents });
  ctx.hooks.gdprErase.push({
    name: 'audit',
    phase: 'audit',
    erase: async (tx, tenantId, userId, _afterCommit, erasure) => ({
      audit_values_erased: await erasePii(tx, tenantId, userId, [erasure.email]),
    }),
  });
}
