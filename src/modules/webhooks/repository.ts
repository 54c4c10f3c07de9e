/** SQL only for webhooks; tenant_id in every WHERE except the workers' cross-tenant claims (see worker.ts). */
import { and, asc, count, desc, eq, gt, lt, or, sql } from 'drizzle-orm';
import { type AuditRow, auditColumns, auditLog } from '../../platform/audit/tables.js';
import type { Executor } from '../../platform/db/client.js';
import { ofTenant } from '../../platform/db/rows.js';
import { tenantRows } from '../../platform/db/tenant-rows.js';
import type { NewDelivery } from './events.js';
import { webhookDeliveries, webhookEndpoints } from './tables.js';

/** An endpoint as the API reads it: never its secrets (only the worker and a rotation read those). */
const endpointColumns = {
  id: webhookEndpoints.id,
  tenantId: webhookEndpoints.tenantId,
  url: webhookEndpoints.url,
  description: webhookEndpoints.description,
  events: webhookEndpoints.events,
  enabled: webhookEndpoints.enabled,
  cursorSeq: webhookEndpoints.cursorSeq,
  failingSince: webhookEndpoints.failingSince,
  disabledReason: webhookEndpoints.disabledReason,
  previousSecretExpiresAt: webhookEndpoints.previousSecretExpiresAt,
  createdByUserId: webhookEndpoints.createdByUserId,
  createdAt: webhookEndpoints.createdAt,
  updatedAt: webhookEndpoints.updatedAt,
};
export const endpointRows = tenantRows(webhookEndpoints, endpointColumns);
export type EndpointRead = NonNullable<Awaited<ReturnType<typeof endpointRows.findById>>>;

/** What a send needs: the endpoint's address and its secrets (sealed). */
const sendColumns = {
  id: webhookEndpoints.id,
  url: webhookEndpoints.url,
  enabled: webhookEndpoints.enabled,
  secretSealed: webhookEndpoints.secretSealed,
  previousSecretSealed: webhookEndpoints.previousSecretSealed,
  previousSecretExpiresAt: webhookEndpoints.previousSecretExpiresAt,
  failingSince: webhookEndpoints.failingSince,
};
export const endpointSendRows = tenantRows(webhookEndpoints, sendColumns);

/** A delivery in the log: everything but its body. */
const deliveryColumns = {
  id: webhookDeliveries.id,
  tenantId: webhookDeliveries.tenantId,
  endpointId: webhookDeliveries.endpointId,
  eventId: webhookDeliveries.eventId,
  eventType: webhookDeliveries.eventType,
  status: webhookDeliveries.status,
  attempts: webhookDeliveries.attempts,
  nextAttemptAt: webhookDeliveries.nextAttemptAt,
  lastStatus: webhookDeliveries.lastStatus,
  lastError: webhookDeliveries.lastError,
  lastLatencyMs: webhookDeliveries.lastLatencyMs,
  lastResponse: webhookDeliveries.lastResponse,
  firstSeq: webhookDeliveries.firstSeq,
  lastSeq: webhookDeliveries.lastSeq,
  replayOf: webhookDeliveries.replayOf,
  createdAt: webhookDeliveries.createdAt,
  deliveredAt: webhookDeliveries.deliveredAt,
};
export const deliveryRows = tenantRows(webhookDeliveries, deliveryColumns);
export type DeliveryRead = NonNullable<Awaited<ReturnType<typeof deliveryRows.findById>>>;

/** Serialises the creations of one tenant's endpoints (until the transaction ends), so the limit holds under races. */
export async function lockTenantEndpoints(tx: Executor, tenantId: number): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext('webhook_endpoints'), ${tenantId})`);
}

export async function countEndpoints(tx: Executor, tenantId: number): Promise<number> {
  const [r] = await tx.select({ n: count() }).from(webhookEndpoints).where(endpointRows.where(tenantId));
  return Number(r?.n ?? 0);
}

/** The tenant's latest audit seq: a new endpoint's events start after it. */
export async function auditHead(tx: Executor, tenantId: number): Promise<number> {
  const r = await tx.execute<{ last_seq: string }>(
    sql`select last_seq from audit_chain_heads where tenant_id = ${tenantId}`,
  );
  return Number(r.rows[0]?.last_seq ?? 0);
}

/** The tenant's records after `afterSeq`, in chain order. */
export function auditAfter(
  tx: Executor,
  tenantId: number,
  afterSeq: number,
  limit: number,
): Promise<AuditRow[]> {
  return tx
    .select(auditColumns)
    .from(auditLog)
    .where(ofTenant(auditLog, tenantId, gt(auditLog.seq, afterSeq)))
    .orderBy(asc(auditLog.seq))
    .limit(limit);
}

/** Deliveries still waiting for an endpoint (the per-endpoint queue bound). */
export async function pendingCount(tx: Executor, tenantId: number, endpointId: string): Promise<number> {
  const [r] = await tx
    .select({ n: count() })
    .from(webhookDeliveries)
    .where(
      ofTenant(
        webhookDeliveries,
        tenantId,
        eq(webhookDeliveries.endpointId, endpointId),
        eq(webhookDeliveries.status, 'pending'),
      ),
    );
  return Number(r?.n ?? 0);
}

export async function insertDeliveries(
  tx: Executor,
  tenantId: number,
  endpointId: string,
  items: (NewDelivery & { replayOf?: string | null })[],
  now: Date,
): Promise<number> {
  if (items.length === 0) return 0;
  await tx.insert(webhookDeliveries).values(
    items.map((d) => ({
      tenantId,
      endpointId,
      eventId: d.eventId,
      eventType: d.eventType,
      payload: d.payload,
      contentType: d.contentType,
      firstSeq: d.firstSeq,
      lastSeq: d.lastSeq,
      replayOf: d.replayOf ?? null,
      nextAttemptAt: now,
      createdAt: now,
    })),
  );
  return items.length;
}

/** A page of an endpoint's delivery log, newest first; the cursor is the last row's (created_at, id). */
export function deliveryPage(
  tx: Executor,
  tenantId: number,
  endpointId: string,
  opts: { status?: string; after?: { createdAt: Date; id: string } | null; limit: number },
) {
  const past = opts.after
    ? or(
        lt(webhookDeliveries.createdAt, opts.after.createdAt),
        and(eq(webhookDeliveries.createdAt, opts.after.createdAt), lt(webhookDeliveries.id, opts.after.id)),
      )
    : undefined;
  return deliveryRows.list(tx, tenantId, {
    where: [
      eq(webhookDeliveries.endpointId, endpointId),
      opts.status ? eq(webhookDeliveries.status, opts.status as 'pending') : undefined,
      past,
    ],
    orderBy: [desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id)],
    limit: opts.limit,
  });
}

/** The deliveries a replay copies: one event's first delivery, or every original delivery of a time range. */
export function replaySources(
  tx: Executor,
  tenantId: number,
  endpointId: string,
  sel: { eventId: string } | { from: Date; to: Date },
  limit: number,
) {
  const where =
    'eventId' in sel
      ? eq(webhookDeliveries.eventId, sel.eventId)
      : and(
          sql`${webhookDeliveries.createdAt} >= ${sel.from.toISOString()}::timestamptz`,
          sql`${webhookDeliveries.createdAt} < ${sel.to.toISOString()}::timestamptz`,
          sql`${webhookDeliveries.replayOf} is null`,
          sql`${webhookDeliveries.eventType} <> 'webhook.test'`,
        );
  return tx
    .select({
      id: webhookDeliveries.id,
      eventId: webhookDeliveries.eventId,
      eventType: webhookDeliveries.eventType,
      payload: webhookDeliveries.payload,
      contentType: webhookDeliveries.contentType,
      firstSeq: webhookDeliveries.firstSeq,
      lastSeq: webhookDeliveries.lastSeq,
    })
    .from(webhookDeliveries)
    .where(ofTenant(webhookDeliveries, tenantId, eq(webhookDeliveries.endpointId, endpointId), where))
    .orderBy(asc(webhookDeliveries.createdAt), asc(webhookDeliveries.id))
    .limit(limit);
}
