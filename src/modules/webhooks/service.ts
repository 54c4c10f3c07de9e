/** Webhook endpoints (API.md §23): create, read, change, delete, rotate, replay, test, and the delivery log. */
import { randomUUID } from 'node:crypto';
import { type AuditContext, writeAudit } from '../../platform/audit/writer.js';
import type { Executor } from '../../platform/db/client.js';
import { parseTimeIdCursor, timeIdPage } from '../../platform/http/cursor.js';
import { notFound, validationError } from '../../platform/http/errors.js';
import { checkUrl, SsrfError } from '../../platform/net/ssrf.js';
import { isKnownSubscription } from './catalogue.js';
import type { WebhooksDeps } from './deps.js';
import { webhooksErrors } from './errors.js';
import * as repo from './repository.js';
import { newSigningSecret } from './signing.js';

/** How long the previous secret keeps signing after a rotation. */
export const ROTATION_OVERLAP_MS = 24 * 3600_000;
const REPLAY_MAX = 1000;

export interface Actor {
  tenantId: number;
  userId: number | null;
  audit: AuditContext;
}

/** The sealed secret is bound to its endpoint: a sealed value copied onto another row does not open. */
export const secretAad = (tenantId: number, endpointId: string) => `webhook:${tenantId}:${endpointId}`;

/** What an audit record says of a URL: scheme, host and path; a query string may carry a receiver's token. */
function urlForAudit(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

function assertUrl(ctx: WebhooksDeps, url: string): void {
  try {
    checkUrl(url, ctx.config.env);
  } catch (err) {
    if (err instanceof SsrfError) throw validationError('url', err.message, 'value_error.url');
    throw err;
  }
}

function assertEvents(events: readonly string[]): void {
  const unknown = events.filter((e) => !isKnownSubscription(e));
  if (unknown.length > 0)
    throw validationError('events', `unknown event types: ${unknown.join(', ')}`, 'value_error.event_type');
}

export function toEndpointRead(e: repo.EndpointRead) {
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    events: e.events,
    enabled: e.enabled,
    disabled_reason: e.disabledReason,
    failing_since: e.failingSince?.toISOString() ?? null,
    previous_secret_expires_at:
      e.previousSecretExpiresAt && e.previousSecretExpiresAt.getTime() > Date.now()
        ? e.previousSecretExpiresAt.toISOString()
        : null,
    created_by_user_id: e.createdByUserId,
    created_at: e.createdAt.toISOString(),
    updated_at: e.updatedAt.toISOString(),
  };
}

export async function createEndpoint(
  ctx: WebhooksDeps,
  actor: Actor,
  body: { url: string; events: string[]; enabled?: boolean; description?: string | null },
) {
  assertUrl(ctx, body.url);
  assertEvents(body.events);
  const secret = newSigningSecret();
  const id = randomUUID();
  const created = await ctx.database.withTenant(actor.tenantId, async (tx) => {
    // Serialises creations of one tenant, so two racing requests cannot both pass the limit.
    await repo.lockTenantEndpoints(tx, actor.tenantId);
    if ((await repo.countEndpoints(tx, actor.tenantId)) >= ctx.config.webhooks.maxEndpoints)
      throw webhooksErrors.error('WEBHOOK_LIMIT_REACHED', { limit: ctx.config.webhooks.maxEndpoints });
    const row = await repo.insertEndpoint(tx, actor.tenantId, {
      id,
      url: body.url,
      description: body.description ?? null,
      events: body.events,
      enabled: body.enabled ?? true,
      secretSealed: ctx.secretBox.encrypt(secret, secretAad(actor.tenantId, id)),
      // Events from now on: the records already written are not replayed to a new endpoint.
      cursorSeq: await repo.auditHead(tx, actor.tenantId),
      createdByUserId: actor.userId,
    });
    await writeAudit(tx, actor.tenantId, actor.audit, {
      eventType: 'webhook.created',
      resourceType: 'webhook_endpoint',
      resourceId: id,
      metadata: { url: urlForAudit(body.url), events: body.events, enabled: row.enabled },
    });
    return row;
  });
  return { ...toEndpointRead(created), secret };
}

export async function listEndpoints(ctx: WebhooksDeps, tenantId: number) {
  const rows = await ctx.database.readTenant(tenantId, (tx) => repo.listEndpoints(tx, tenantId));
  return { endpoints: rows.map(toEndpointRead), total: rows.length };
}

async function endpointOr404(tx: Executor, tenantId: number, id: string, lock = false) {
  const row = lock ? await repo.lockEndpoint(tx, tenantId, id) : await repo.findEndpoint(tx, tenantId, id);
  if (!row) throw notFound('webhook_endpoint');
  return row;
}

export async function getEndpoint(ctx: WebhooksDeps, tenantId: number, id: string) {
  return toEndpointRead(await ctx.database.readTenant(tenantId, (tx) => endpointOr404(tx, tenantId, id)));
}

export async function updateEndpoint(
  ctx: WebhooksDeps,
  actor: Actor,
  id: string,
  patch: { url?: string; events?: string[]; enabled?: boolean; description?: string | null },
) {
  if (patch.url !== undefined) assertUrl(ctx, patch.url);
  if (patch.events !== undefined) assertEvents(patch.events);
  const row = await ctx.database.withTenant(actor.tenantId, async (tx) => {
    const before = await endpointOr404(tx, actor.tenantId, id, true);
    const reenabled = patch.enabled === true && !before.enabled;
    const after = await repo.updateEndpoint(tx, actor.tenantId, id, {
      ...(patch.url !== undefined ? { url: patch.url } : {}),
      ...(patch.events !== undefined ? { events: patch.events } : {}),
      ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      // Enabled again: its failure history starts over (its backlog is delivered from where it stopped).
      ...(reenabled ? { failingSince: null, disabledReason: null } : {}),
      updatedAt: new Date(ctx.clock.now()),
    });
    await writeAudit(tx, actor.tenantId, actor.audit, {
      eventType: 'webhook.updated',
      resourceType: 'webhook_endpoint',
      resourceId: id,
      metadata: {
        before: { url: urlForAudit(before.url), events: before.events, enabled: before.enabled },
        after: { url: urlForAudit(after!.url), events: after!.events, enabled: after!.enabled },
      },
    });
    return after!;
  });
  return toEndpointRead(row);
}

export async function deleteEndpoint(ctx: WebhooksDeps, actor: Actor, id: string): Promise<void> {
  await ctx.database.withTenant(actor.tenantId, async (tx) => {
    const before = await endpointOr404(tx, actor.tenantId, id, true);
    // Its deliveries go with it (ON DELETE CASCADE): nothing is sent for a deleted endpoint.
    await repo.deleteEndpoint(tx, actor.tenantId, id);
    await writeAudit(tx, actor.tenantId, actor.audit, {
      eventType: 'webhook.deleted',
      resourceType: 'webhook_endpoint',
      resourceId: id,
      metadata: { url: urlForAudit(before.url), events: before.events },
    });
  });
}

export async function rotateSecret(ctx: WebhooksDeps, actor: Actor, id: string) {
  const secret = newSigningSecret();
  const now = ctx.clock.now();
  const row = await ctx.database.withTenant(actor.tenantId, async (tx) => {
    const after = await repo.rotateEndpointSecret(
      tx,
      actor.tenantId,
      id,
      ctx.secretBox.encrypt(secret, secretAad(actor.tenantId, id)),
      new Date(now + ROTATION_OVERLAP_MS),
      new Date(now),
    );
    if (!after) throw notFound('webhook_endpoint');
    await writeAudit(tx, actor.tenantId, actor.audit, {
      eventType: 'webhook.secret_rotated',
      resourceType: 'webhook_endpoint',
      resourceId: id,
      metadata: { previous_secret_expires_at: new Date(now + ROTATION_OVERLAP_MS).toISOString() },
    });
    return after;
  });
  return { ...toEndpointRead(row), secret };
}

export function toDeliveryRead(d: repo.DeliveryRead) {
  return {
    id: d.id,
    endpoint_id: d.endpointId,
    event_id: d.eventId,
    event_type: d.eventType,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
    response_status: d.lastStatus,
    error: d.lastError,
    latency_ms: d.lastLatencyMs,
    response_excerpt: d.lastResponse,
    audit_seq_from: d.firstSeq,
    audit_seq_to: d.lastSeq,
    replay_of: d.replayOf,
    created_at: d.createdAt.toISOString(),
    delivered_at: d.deliveredAt?.toISOString() ?? null,
  };
}

export async function listDeliveries(
  ctx: WebhooksDeps,
  tenantId: number,
  endpointId: string,
  q: { status?: 'pending' | 'delivered' | 'failed'; cursor?: string; limit?: number },
) {
  const limit = q.limit ?? 50;
  const after = parseTimeIdCursor(q.cursor);
  return ctx.database.readTenant(tenantId, async (tx) => {
    await endpointOr404(tx, tenantId, endpointId);
    const rows = await repo.deliveryPage(tx, tenantId, endpointId, {
      status: q.status,
      after,
      limit: limit + 1,
    });
    const { page, next } = timeIdPage(rows, limit);
    return { deliveries: page.map(toDeliveryRead), next_cursor: next };
  });
}

/** Sends again: the same event id and body, as a new delivery with its own attempts. */
export async function replay(
  ctx: WebhooksDeps,
  actor: Actor,
  endpointId: string,
  sel: { event_id?: string; from?: string; to?: string },
) {
  let selection: { eventId: string } | { from: Date; to: Date };
  if (sel.event_id !== undefined) selection = { eventId: sel.event_id };
  else if (sel.from !== undefined && sel.to !== undefined) {
    const from = new Date(sel.from);
    const to = new Date(sel.to);
    if (!(from < to)) throw validationError('to', 'must be after from', 'value_error.range');
    selection = { from, to };
  } else throw validationError('event_id', 'give event_id, or from and to', 'value_error.missing');
  const now = new Date(ctx.clock.now());
  return ctx.database.withTenant(actor.tenantId, async (tx) => {
    const endpoint = await endpointOr404(tx, actor.tenantId, endpointId, true);
    if (!endpoint.enabled) throw webhooksErrors.error('WEBHOOK_ENDPOINT_DISABLED');
    const sources = await repo.replaySources(tx, actor.tenantId, endpointId, selection, REPLAY_MAX + 1);
    if ('eventId' in selection && sources.length === 0) throw notFound('webhook_event');
    const chosen = 'eventId' in selection ? sources.slice(0, 1) : sources.slice(0, REPLAY_MAX);
    await repo.insertDeliveries(
      tx,
      actor.tenantId,
      endpointId,
      chosen.map((s) => ({
        eventId: s.eventId,
        eventType: s.eventType,
        payload: s.payload,
        contentType: s.contentType,
        firstSeq: s.firstSeq ?? 0,
        lastSeq: s.lastSeq ?? 0,
        replayOf: s.id,
      })),
      now,
    );
    await writeAudit(tx, actor.tenantId, actor.audit, {
      eventType: 'webhook.replayed',
      resourceType: 'webhook_endpoint',
      resourceId: endpointId,
      metadata: { ...sel, deliveries: chosen.length },
    });
    return { replayed: chosen.length, truncated: sources.length > REPLAY_MAX };
  });
}

/** A `webhook.test` event to the endpoint, through the same queue, signing and log as every other. */
export async function sendTest(ctx: WebhooksDeps, actor: Actor, endpointId: string) {
  const now = new Date(ctx.clock.now());
  const id = `test_${randomUUID()}`;
  return ctx.database.withTenant(actor.tenantId, async (tx) => {
    const endpoint = await endpointOr404(tx, actor.tenantId, endpointId, true);
    if (!endpoint.enabled) throw webhooksErrors.error('WEBHOOK_ENDPOINT_DISABLED');
    const payload = JSON.stringify({
      type: 'webhook.test',
      id,
      created_at: now.toISOString(),
      tenant_id: actor.tenantId,
      data: { endpoint_id: endpointId, message: 'A test event from MassaCorp' },
    });
    const [deliveryId] = await repo.insertDeliveries(
      tx,
      actor.tenantId,
      endpointId,
      [
        {
          eventId: id,
          eventType: 'webhook.test',
          payload,
          contentType: 'application/json',
          firstSeq: 0,
          lastSeq: 0,
        },
      ],
      now,
    );
    const row = (await repo.findDelivery(tx, actor.tenantId, deliveryId!))!;
    await writeAudit(tx, actor.tenantId, actor.audit, {
      eventType: 'webhook.test_sent',
      resourceType: 'webhook_endpoint',
      resourceId: endpointId,
      metadata: { event_id: id },
    });
    return toDeliveryRead(row);
  });
}
