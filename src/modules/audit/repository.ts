/** Audit log reads: SQL only, the tenant in every WHERE. Keyset pagination on id (never OFFSET). */
import { and, asc, desc, eq, gt, gte, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import {
  type AuditRow,
  type AuditTextTimeRow,
  auditColumns,
  auditLog,
  auditTextTimeColumns,
  createdAtIso,
} from '../../platform/audit/tables.js';
import { type ActorType, AUDIT_CLOCK_SKEW_MS } from '../../platform/audit/writer.js';
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

/** A keyset position: a record's id, and its created_at when known (older cursors carry only the id). */
export interface Position {
  id: number;
  at: Date | null;
}

/**
 * Newest first, ids below the cursor; `actors` (never empty), when given, keeps the records of one of them.
 * Records older than the cursor's are dated at most AUDIT_CLOCK_SKEW_MS after it: that bound lets PostgreSQL
 * leave out the later months (partitions) instead of planning and probing every one of them.
 */
export function listPage(
  tx: Executor,
  tenantId: number,
  f: Filters,
  before: Position | null,
  limit: number,
  actors: ActorRef[] | null = null,
): Promise<AuditRow[]> {
  const c = conditions(tenantId, f);
  if (before !== null) {
    c.push(lt(auditLog.id, before.id));
    if (before.at) c.push(lte(auditLog.createdAt, new Date(before.at.getTime() + AUDIT_CLOCK_SKEW_MS)));
  }
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

/** An NDJSON export line as PostgreSQL writes it: the JSON before and after the metadata, and the metadata. */
export interface NdjsonPart {
  id: number;
  /** `{"id":…,…,"session_id":…}`: the line's members before metadata, in recordLine's order. */
  head: string;
  metadata: Record<string, unknown>;
  /** `{"created_at":…,"prev_hash":…,"hash":…}`. */
  tail: string;
}

/**
 * exportPage for NDJSON (issue 25, export rate): row_to_json writes the line's other members in C, compact and
 * escaped exactly as JSON.stringify escapes (PostgreSQL text holds no lone surrogates, the one case where they
 * differ); only the metadata comes back as a value, because the export shows its personal values
 * (rehydrated) and jsonb prints itself with spaces. service.ts joins the three; the bytes are those of
 * JSON.stringify(recordLine(row)), which tests/integration/audit.export.test.ts checks line for line.
 */
export async function exportNdjsonPage(
  tx: Executor,
  tenantId: number,
  f: Filters,
  afterId: number,
  limit: number,
): Promise<NdjsonPart[]> {
  const where = and(...conditions(tenantId, f), gt(auditLog.id, afterId));
  const r = await tx.execute<{
    id: string;
    head: string;
    metadata: Record<string, unknown>;
    tail: string;
  }>(sql`
    select p.id::text as id, row_to_json(h)::text as head, p.metadata, row_to_json(t)::text as tail
    from (select ${auditLog.id} as id, ${auditLog.tenantId} as tenant_id, ${auditLog.seq} as seq,
        ${auditLog.eventType} as event_type, ${auditLog.actorType} as actor_type, ${auditLog.actorId} as actor_id,
        ${auditLog.resourceType} as resource_type, ${auditLog.resourceId} as resource_id,
        ${auditLog.success} as success, ${auditLog.ipAddress} as ip_address, ${auditLog.userAgent} as user_agent,
        ${auditLog.requestId} as request_id, ${auditLog.sessionId} as session_id, ${auditLog.metadata} as metadata,
        ${createdAtIso} as created_at, ${auditLog.prevHash} as prev_hash, ${auditLog.hash} as hash
      from ${auditLog} where ${where} order by ${auditLog.id} limit ${limit}) p
    cross join lateral (select p.id, p.tenant_id, p.seq, p.event_type, p.actor_type, p.actor_id, p.resource_type,
      p.resource_id, p.success, p.ip_address, p.user_agent, p.request_id, p.session_id) h
    cross join lateral (select p.created_at, p.prev_hash, p.hash) t
    order by p.id`);
  return r.rows.map((x) => ({ id: Number(x.id), head: x.head, metadata: x.metadata, tail: x.tail }));
}
