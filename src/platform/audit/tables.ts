import { sql } from 'drizzle-orm';
import { bigint, boolean, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const auditLog = pgTable('audit_log', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  tenantId: integer('tenant_id').notNull(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  eventType: text('event_type').notNull(),
  actorType: text('actor_type').$type<'user' | 'api_key' | 'oidc_client' | 'system'>().notNull(),
  actorId: text('actor_id'),
  resourceType: text('resource_type'),
  resourceId: text('resource_id'),
  success: boolean('success').notNull(),
  ipAddress: text('ip_address'),
  userAgent: text('user_agent'),
  requestId: text('request_id'),
  sessionId: text('session_id'),
  metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  prevHash: text('prev_hash').notNull(),
  hash: text('hash').notNull(),
});
export type AuditRow = typeof auditLog.$inferSelect;

/**
 * Every column of a record, named (issue 23 item 7): the reads (the audit API, GDPR export, chain verification,
 * the retention archive) select these, so a column added to audit_log reaches none of them until it is listed
 * here, which is also when the hash chain (hash-chain.ts) must decide whether it covers it.
 */
export const auditColumns = {
  id: auditLog.id,
  tenantId: auditLog.tenantId,
  seq: auditLog.seq,
  eventType: auditLog.eventType,
  actorType: auditLog.actorType,
  actorId: auditLog.actorId,
  resourceType: auditLog.resourceType,
  resourceId: auditLog.resourceId,
  success: auditLog.success,
  ipAddress: auditLog.ipAddress,
  userAgent: auditLog.userAgent,
  requestId: auditLog.requestId,
  sessionId: auditLog.sessionId,
  metadata: auditLog.metadata,
  createdAt: auditLog.createdAt,
  prevHash: auditLog.prevHash,
  hash: auditLog.hash,
};

/**
 * created_at as PostgreSQL formats it, in exactly the form Date#toISOString gives (records carry milliseconds,
 * as the writer hashes them). Bulk reads select this instead of the timestamp: turning a million timestamps into
 * Dates cost the export about half of its time.
 */
export const createdAtIso = sql<string>`to_char(${auditLog.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
export const auditTextTimeColumns = { ...auditColumns, createdAt: createdAtIso };
export type AuditTextTimeRow = Omit<AuditRow, 'createdAt'> & { createdAt: string };

export const auditChainHeads = pgTable('audit_chain_heads', {
  tenantId: integer('tenant_id').primaryKey(),
  lastSeq: bigint('last_seq', { mode: 'number' }).notNull(),
  lastHash: text('last_hash').notNull(),
});

export const auditAnchors = pgTable('audit_anchors', {
  tenantId: integer('tenant_id').notNull(),
  prunedThroughSeq: bigint('pruned_through_seq', { mode: 'number' }).notNull(),
  lastHashPruned: text('last_hash_pruned').notNull(),
  recordsPruned: bigint('records_pruned', { mode: 'number' }).notNull(),
  archiveRef: text('archive_ref'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const auditPii = pgTable('audit_pii', {
  tenantId: integer('tenant_id').notNull(),
  ref: text('ref').notNull(),
  subjectUserId: integer('subject_user_id'),
  kind: text('kind').notNull(),
  value: text('value').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
