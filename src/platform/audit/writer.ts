/**
 * The one audit writer. Callers pass the transaction that makes the change, so the record commits or rolls back
 * with it. The chain head's row lock (taken by the upsert) serialises writers of one tenant: no gaps, no forks.
 * Personal values in metadata (emails, names, phones) are moved to `audit_pii` before hashing (see pii.ts), so
 * every module's records can later be pseudonymised by erasure without touching the chain.
 */
import { sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { GENESIS_HASH, recordHash } from './hash-chain.js';
import { extractPii, storePii } from './pii.js';

export type ActorType = 'user' | 'api_key' | 'oidc_client' | 'system';

/** Who did it and from where; built once per request (see http/request-context). */
export interface AuditContext {
  actorType: ActorType;
  actorId: string | null;
  ipAddress: string | null;
  userAgent: string | null;
  requestId: string | null;
  sessionId: string | null;
}

export const SYSTEM_AUDIT_CONTEXT: AuditContext = {
  actorType: 'system',
  actorId: null,
  ipAddress: null,
  userAgent: null,
  requestId: null,
  sessionId: null,
};

export interface AuditEvent {
  eventType: string;
  success?: boolean;
  resourceType?: string | null;
  resourceId?: string | number | null;
  metadata?: Record<string, unknown>;
  /** Overrides of the context, e.g. the actor of a login is the user found, not the anonymous caller. */
  actorType?: ActorType;
  actorId?: string | number | null;
  sessionId?: string | null;
}

/**
 * How far a record's created_at may stray from the order records were written in (their ids). A tenant's records
 * are written one at a time (the chain head's row lock is held from reading the head to the insert), each dated
 * by its writer's clock after taking the lock: a later record is never dated earlier than an earlier one by more
 * than the clock difference between two app replicas. Keyset readers bound a page by time with this margin, so
 * PostgreSQL plans and reads only the months (partitions) that can hold it. A day: far beyond any clock an app
 * could run with (sessions, TOTP and JWT lifetimes would fail long before).
 */
export const AUDIT_CLOCK_SKEW_MS = 24 * 3600_000;

export async function writeAudit(
  tx: Executor,
  tenantId: number,
  ctx: AuditContext,
  event: AuditEvent,
): Promise<{ id: number; seq: number; hash: string }> {
  const head = await tx.execute<{ last_seq: string; last_hash: string }>(sql`
    insert into audit_chain_heads (tenant_id, last_seq, last_hash) values (${tenantId}, 0, ${GENESIS_HASH})
    on conflict (tenant_id) do update set last_seq = audit_chain_heads.last_seq
    returning last_seq, last_hash`);
  const row = head.rows[0]!;
  const seq = Number(row.last_seq) + 1;
  const pii = extractPii(event.metadata ?? {});
  const fields = {
    tenantId,
    seq,
    eventType: event.eventType,
    actorType: event.actorType ?? ctx.actorType,
    actorId: event.actorId !== undefined ? nullableString(event.actorId) : ctx.actorId,
    resourceType: event.resourceType ?? null,
    resourceId: nullableString(event.resourceId),
    success: event.success ?? true,
    ipAddress: ctx.ipAddress,
    userAgent: ctx.userAgent,
    requestId: ctx.requestId,
    sessionId: event.sessionId !== undefined ? event.sessionId : ctx.sessionId,
    metadata: pii.metadata,
    createdAt: new Date(),
  };
  const hash = recordHash(row.last_hash, fields);
  await storePii(tx, tenantId, piiSubject(fields), pii.items);
  const inserted = await tx.execute<{ id: string }>(sql`
    with ins as (
      insert into audit_log (tenant_id, seq, event_type, actor_type, actor_id, resource_type, resource_id, success,
        ip_address, user_agent, request_id, session_id, metadata, created_at, prev_hash, hash)
      values (${tenantId}, ${seq}, ${fields.eventType}, ${fields.actorType}, ${fields.actorId}, ${fields.resourceType},
        ${fields.resourceId}, ${fields.success}, ${fields.ipAddress}, ${fields.userAgent}, ${fields.requestId},
        ${fields.sessionId}, ${JSON.stringify(fields.metadata)}::jsonb, ${fields.createdAt.toISOString()}::timestamptz,
        ${row.last_hash}, ${hash})
      returning id
    ), head as (
      update audit_chain_heads set last_seq = ${seq}, last_hash = ${hash} where tenant_id = ${tenantId}
    )
    select id from ins`);
  return { id: Number(inserted.rows[0]!.id), seq, hash };
}

/** Whose personal data the record's values are: the user it is about, else the user who acted. */
function piiSubject(f: {
  resourceType: string | null;
  resourceId: string | null;
  actorType: string;
  actorId: string | null;
}): number | null {
  const asId = (v: string | null) =>
    v !== null && /^\d{1,10}$/.test(v) && Number(v) <= 2_147_483_647 ? Number(v) : null;
  if (f.resourceType === 'user') return asId(f.resourceId);
  return f.actorType === 'user' ? asId(f.actorId) : null;
}

function nullableString(v: string | number | null | undefined): string | null {
  return v === null || v === undefined ? null : String(v);
}
