/** Audit log reads: SQL only, the tenant in every WHERE. Keyset pagination on id (never OFFSET). */
import { and, asc, desc, eq, gt, gte, lt, lte, or, type SQL } from 'drizzle-orm';
import {
  type AuditRow,
  type AuditTextTimeRow,
  auditColumns,
  auditLog,
  auditTextTimeColumns,
} from '../../platform/audit/tables.js';
import type { ActorType } from '../../platform/audit/writer.js';
import type { Executor } from '../../platform/db/client.js';
import type { Filters } from './schemas.js';

function conditions(tenantId: number, f: Filters): SQL[] {
  const c: SQL[] = [eq(auditLog.tenantId, tenantId)];
  if (f.event_type) c.push(eq(auditLog.eventType, f.event_type));
  if (f.actor_id) c.push(eq(auditLog.actorId, f.actor_id));
  if (f.resource_type) c.push(eq(auditLog.resourceType, f.resource_type));
  if (f.resource_id) c.push(eq(auditLog.resourceId, f.resource_id));
  if (f.success !== undefined) c.push(eq(auditLog.success, f.success));
  if (f.from) c.push(gte(auditLog.createdAt, new Date(f.from)));
  if (f.to) c.push(lte(auditLog.createdAt, new Date(f.to)));
  return c;
}

/** An actor the listing is narrowed to: its id, and its type unless any type will do (a bare id). */
export interface ActorRef {
  type: ActorType | null;
  id: string;
}

/** Newest first, ids below the cursor; `actors` (never empty), when given, keeps the records of one of them. */
export function listPage(
  tx: Executor,
  tenantId: number,
  f: Filters,
  beforeId: number | null,
  limit: number,
  actors: ActorRef[] | null = null,
): Promise<AuditRow[]> {
  const c = conditions(tenantId, f);
  if (beforeId !== null) c.push(lt(auditLog.id, beforeId));
  if (actors)
    c.push(
      or(
        ...actors.map((a) =>
          and(eq(auditLog.actorId, a.id), a.type === null ? undefined : eq(auditLog.actorType, a.type)),
        ),
      )!,
    );
  return tx
    .select(auditColumns)
    .from(auditLog)
    .where(and(...c))
    .orderBy(desc(auditLog.id))
    .limit(limit);
}

/** Oldest first, ids above `afterId` (export pages). */
export function exportPage(
  tx: Executor,
  tenantId: number,
  f: Filters,
  afterId: number,
  limit: number,
): Promise<AuditTextTimeRow[]> {
  return tx
    .select(auditTextTimeColumns)
    .from(auditLog)
    .where(and(...conditions(tenantId, f), gt(auditLog.id, afterId)))
    .orderBy(asc(auditLog.id))
    .limit(limit);
}
