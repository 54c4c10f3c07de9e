/**
 * The one audit writer. Callers pass the transaction that makes the change, so the record commits or rolls back
 * with it. The chain head's row lock (taken by the upsert) serialises writers of one tenant: no gaps, no forks.
 */
import { sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { GENESIS_HASH, recordHash } from './hash-chain.js';

export type ActorType = 'user' | 'api_key' | 'system';

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
    metadata: event.metadata ?? {},
    createdAt: new Date(),
  };
  const hash = recordHash(row.last_hash, fields);
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

function nullableString(v: string | number | null | undefined): string | null {
  return v === null || v === undefined ? null : String(v);
}
