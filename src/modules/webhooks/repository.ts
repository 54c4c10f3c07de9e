/**
 * SQL only for webhooks. tenant_id is in every WHERE except the workers' three cross-tenant statements
 * (endpointsBehind, claimDue, oldestPendingAge), which run in system transactions because one worker serves
 * every tenant; everything they hand on is then read and written in the delivery's own tenant transaction.
 */
import { and, asc, count, desc, eq, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import { type AuditRow, auditColumns, auditLog } from '../../platform/audit/tables.js';
import type { Executor } from '../../platform/db/client.js';
import { ofTenant } from '../../platform/db/rows.js';
import { tenantRows } from '../../platform/db/tenant-rows.js';
import type { NewDelivery } from './events.js';
import { webhookDeliveries, webhookEndpoints } from './tables.js';

/** An endpoint as the API reads it: never its secrets (only a send and a rotation read those). */
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
const endpointRows = tenantRows(webhookEndpoints, endpointColumns);
export type EndpointRead = NonNullable<Awaited<ReturnType<typeof endpointRows.findById>>>;

/** What a send needs: the address and the secrets (sealed). */
const secretColumns = {
  id: webhookEndpoints.id,
  url: webhookEndpoints.url,
  enabled: webhookEndpoints.enabled,
  secretSealed: webhookEndpoints.secretSealed,
  previousSecretSealed: webhookEndpoints.previousSecretSealed,
  previousSecretExpiresAt: webhookEndpoints.previousSecretExpiresAt,
};
const secretRows = tenantRows(webhookEndpoints, secretColumns);

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
const deliveryRows = tenantRows(webhookDeliveries, deliveryColumns);
export type DeliveryRead = NonNullable<Awaited<ReturnType<typeof deliveryRows.findById>>>;

const endpointIs = (id: string) => eq(webhookEndpoints.id, id);
const deliveryIs = (id: string) => eq(webhookDeliveries.id, id);

// --- endpoints ---

export type NewEndpoint = Omit<typeof webhookEndpoints.$inferInsert, 'tenantId'>;
export const insertEndpoint = (tx: Executor, tenantId: number, values: NewEndpoint) =>
  endpointRows.insert(tx, tenantId, values);
export const findEndpoint = endpointRows.findById;
export const lockEndpoint = endpointRows.lockById;
export const listEndpoints = (tx: Executor, tenantId: number) =>
  endpointRows.list(tx, tenantId, { orderBy: [asc(webhookEndpoints.createdAt), asc(webhookEndpoints.id)] });

export type EndpointChange = Partial<
  Pick<
    typeof webhookEndpoints.$inferInsert,
    | 'url'
    | 'events'
    | 'enabled'
    | 'description'
    | 'failingSince'
    | 'disabledReason'
    | 'secretSealed'
    | 'previousSecretSealed'
    | 'previousSecretExpiresAt'
    | 'updatedAt'
  >
>;
export const updateEndpoint = (tx: Executor, tenantId: number, id: string, set: EndpointChange) =>
  endpointRows.updateOne(tx, tenantId, set, endpointIs(id));
export const deleteEndpoint = (tx: Executor, tenantId: number, id: string) =>
  endpointRows.delete(tx, tenantId, endpointIs(id));
/** The address and sealed secrets of an endpoint (a send, a rotation). */
export const endpointSecrets = secretRows.findById;

/**
 * A rotation in one statement: the new sealed secret signs from now on and the current one becomes the previous,
 * until `previousUntil` (SET reads the row as it was). The endpoint, or null when the tenant has no such one.
 */
export async function rotateEndpointSecret(
  tx: Executor,
  tenantId: number,
  id: string,
  sealed: string,
  previousUntil: Date,
  now: Date,
) {
  const [row] = await tx
    .update(webhookEndpoints)
    .set({
      secretSealed: sealed,
      previousSecretSealed: sql`${webhookEndpoints.secretSealed}`,
      previousSecretExpiresAt: previousUntil,
      updatedAt: now,
    })
    .where(ofTenant(webhookEndpoints, tenantId, endpointIs(id)))
    .returning(endpointColumns);
  return row ?? null;
}

/** Serialises the creations of one tenant's endpoints (until the transaction ends), so the limit holds under races. */
export async function lockTenantEndpoints(tx: Executor, tenantId: number): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext('webhook_endpoints'), ${tenantId})`);
}

export async function countEndpoints(tx: Executor, tenantId: number): Promise<number> {
  const [r] = await tx.select({ n: count() }).from(webhookEndpoints).where(endpointRows.where(tenantId));
  return Number(r?.n ?? 0);
}

// --- fan-out ---

/** The tenant's latest audit seq: a new endpoint's events start after it. */
export async function auditHead(tx: Executor, tenantId: number): Promise<number> {
  const r = await tx.execute<{ last_seq: string }>(
    sql`select last_seq from audit_chain_heads where tenant_id = ${tenantId}`,
  );
  return Number(r.rows[0]?.last_seq ?? 0);
}

/** Enabled endpoints whose tenant has records past their cursor (cross-tenant: the workers serve every tenant). */
export function endpointsBehind(tx: Executor, limit: number) {
  return tx
    .select({ id: webhookEndpoints.id, tenantId: webhookEndpoints.tenantId })
    .from(webhookEndpoints)
    .where(
      and(
        eq(webhookEndpoints.enabled, true),
        sql`exists (select 1 from audit_chain_heads h where h.tenant_id = ${webhookEndpoints.tenantId} and h.last_seq > ${webhookEndpoints.cursorSeq})`,
      ),
    )
    .limit(limit);
}

/** The endpoint's fan-out state, locked; null when another worker holds it (SKIP LOCKED) or it is gone. */
export async function lockForFanOut(tx: Executor, tenantId: number, id: string) {
  const [row] = await tx
    .select({
      cursorSeq: webhookEndpoints.cursorSeq,
      events: webhookEndpoints.events,
      enabled: webhookEndpoints.enabled,
    })
    .from(webhookEndpoints)
    .where(ofTenant(webhookEndpoints, tenantId, endpointIs(id)))
    .for('update', { skipLocked: true });
  return row ?? null;
}

export async function setCursor(tx: Executor, tenantId: number, id: string, seq: number): Promise<void> {
  await tx
    .update(webhookEndpoints)
    .set({ cursorSeq: seq })
    .where(ofTenant(webhookEndpoints, tenantId, endpointIs(id)));
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
    .where(ofTenant(auditLog, tenantId, sql`${auditLog.seq} > ${afterSeq}`))
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
): Promise<string[]> {
  if (items.length === 0) return [];
  const rows = await tx
    .insert(webhookDeliveries)
    .values(
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
    )
    .returning({ id: webhookDeliveries.id });
  return rows.map((r) => r.id);
}

// --- deliveries ---

export const findDelivery = deliveryRows.findById;

/** A page of an endpoint's delivery log, newest first; the cursor is the last row's (created_at, id). */
export function deliveryPage(
  tx: Executor,
  tenantId: number,
  endpointId: string,
  opts: {
    status?: 'pending' | 'delivered' | 'failed';
    after?: { createdAt: Date; id: string } | null;
    limit: number;
  },
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
      opts.status ? eq(webhookDeliveries.status, opts.status) : undefined,
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
          isNull(webhookDeliveries.replayOf),
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

/**
 * Due deliveries of every tenant, claimed with a lease (cross-tenant: one worker serves all). SKIP LOCKED: two
 * workers never claim the same one; a lease that runs out (its worker died) makes it due again.
 */
export async function claimDue(tx: Executor, now: Date, leaseMs: number, limit: number) {
  const due = tx
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.status, 'pending'),
        lte(webhookDeliveries.nextAttemptAt, now),
        or(isNull(webhookDeliveries.leaseUntil), lt(webhookDeliveries.leaseUntil, now)),
      ),
    )
    .orderBy(asc(webhookDeliveries.nextAttemptAt), asc(webhookDeliveries.createdAt))
    .limit(limit)
    .for('update', { skipLocked: true });
  return tx
    .update(webhookDeliveries)
    .set({ leaseUntil: new Date(now.getTime() + leaseMs), attempts: sql`${webhookDeliveries.attempts} + 1` })
    .where(inArray(webhookDeliveries.id, due))
    .returning({
      id: webhookDeliveries.id,
      tenantId: webhookDeliveries.tenantId,
      endpointId: webhookDeliveries.endpointId,
      eventId: webhookDeliveries.eventId,
      payload: webhookDeliveries.payload,
      contentType: webhookDeliveries.contentType,
      attempts: webhookDeliveries.attempts,
    });
}

/** Seconds since the oldest undelivered delivery was queued (0 when none waits): the lag metric. */
export async function oldestPendingAge(tx: Executor): Promise<number> {
  const r = await tx.execute<{ age: number | null }>(
    sql`select extract(epoch from now() - min(created_at))::float8 as age from webhook_deliveries where status = 'pending'`,
  );
  return Number(r.rows[0]?.age ?? 0);
}

export interface AttemptResult {
  lastStatus: number | null;
  lastError: string | null;
  lastLatencyMs: number;
  lastResponse: string | null;
}

/** One attempt's outcome: delivered, another attempt at `retryAt`, or failed for good (`retryAt` null). */
export async function recordAttempt(
  tx: Executor,
  tenantId: number,
  id: string,
  result: AttemptResult,
  outcome: { delivered: Date } | { retryAt: Date | null },
): Promise<void> {
  const next =
    'delivered' in outcome
      ? { status: 'delivered' as const, deliveredAt: outcome.delivered }
      : outcome.retryAt
        ? { nextAttemptAt: outcome.retryAt }
        : { status: 'failed' as const };
  await tx
    .update(webhookDeliveries)
    .set({ ...result, leaseUntil: null, ...next })
    .where(ofTenant(webhookDeliveries, tenantId, deliveryIs(id)));
}

/** A delivery whose endpoint was disabled after it was claimed: not an attempt; looked at again in a minute. */
export async function parkDelivery(tx: Executor, tenantId: number, id: string, until: Date): Promise<void> {
  await tx
    .update(webhookDeliveries)
    .set({ leaseUntil: null, attempts: sql`${webhookDeliveries.attempts} - 1`, nextAttemptAt: until })
    .where(ofTenant(webhookDeliveries, tenantId, deliveryIs(id)));
}

/** Marks the endpoint failing since `now` unless it already was; returns since when, and whether it is enabled. */
export async function markFailing(tx: Executor, tenantId: number, id: string, now: Date) {
  const [row] = await tx
    .update(webhookEndpoints)
    .set({ failingSince: sql`coalesce(${webhookEndpoints.failingSince}, ${now.toISOString()}::timestamptz)` })
    .where(ofTenant(webhookEndpoints, tenantId, endpointIs(id)))
    .returning({ failingSince: webhookEndpoints.failingSince, enabled: webhookEndpoints.enabled });
  return row ?? null;
}

/**
 * The delivery log's retention: finished deliveries (delivered or failed for good) created before `before`, at
 * most `limit` of them, deleted. Cross-tenant (system transaction) like the claim: one worker serves every tenant.
 * Pending deliveries are never pruned: they are events still owed.
 */
export async function pruneFinished(tx: Executor, before: Date, limit: number): Promise<number> {
  const r = await tx.execute<{ id: string }>(sql`
    delete from webhook_deliveries where id in (
      select id from webhook_deliveries
      where status <> 'pending' and created_at < ${before.toISOString()}::timestamptz
      limit ${limit})
    returning id`);
  return r.rows.length;
}

/** The tenant's deliveries whose payload holds any of `needles` (exact substrings), locked for a rewrite. */
export async function deliveriesContaining(
  tx: Executor,
  tenantId: number,
  needles: string[],
): Promise<{ id: string; payload: string }[]> {
  if (needles.length === 0) return [];
  const r = await tx.execute<{ id: string; payload: string }>(sql`
    select id, payload from webhook_deliveries
    where tenant_id = ${tenantId}
      and exists (select 1 from jsonb_array_elements_text(${JSON.stringify(needles)}::jsonb) n
                  where strpos(payload, n) > 0)
    for update`);
  return r.rows;
}

export async function setDeliveryPayload(
  tx: Executor,
  tenantId: number,
  id: string,
  payload: string,
): Promise<void> {
  await tx
    .update(webhookDeliveries)
    .set({ payload })
    .where(ofTenant(webhookDeliveries, tenantId, eq(webhookDeliveries.id, id)));
}
