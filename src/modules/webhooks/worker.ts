import { Counter, Gauge } from 'prom-client';
import { SYSTEM_AUDIT_CONTEXT, writeAudit } from '../../platform/audit/writer.js';
import { runInBackground } from '../../platform/mail/background.js';
import { createGuardedFetch } from '../../platform/net/ssrf.js';
import { roleHolderIds, roleIdByCode } from '../rbac/index.js';
import { userEmail } from '../users/index.js';
import type { WebhooksDeps } from './deps.js';
import { deliveriesFor } from './events.js';
import * as repo from './repository.js';
import { secretAad } from './service.js';
import { signedHeaders } from './signing.js';

/** Wait before attempt n+1 after attempt n failed (Standard Webhooks' suggested schedule); then it has failed. */
export const RETRY_DELAYS_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];
/** An endpoint failing this long (every attempt since) is disabled. */
export const DISABLE_AFTER_MS = 24 * 3600_000;
const LEASE_MS = 60_000;
/** Deliveries claimed (and sent side by side) per step. */
const CLAIM_BATCH = 50;
const FANOUT_ENDPOINTS = 50;
const RESPONSE_EXCERPT = 1000;
const PRUNE_EVERY_MS = 60_000;
const PRUNE_BATCH = 5000;

/** ±20 % so that many deliveries failing together do not all come back at the same instant. */
export function retryDelay(attempt: number, random = Math.random): number | null {
  const base = RETRY_DELAYS_MS[attempt - 1];
  if (base === undefined) return null;
  return Math.round(base * (0.8 + 0.4 * random()));
}

export interface WebhookWorker {
  /** One fan-out and one round of deliveries (tests call it to step without waiting for the timer). */
  tick(): Promise<{ fannedOut: number; sent: number; pruned: number }>;
  stop(): Promise<void>;
}

interface Claimed {
  id: string;
  tenantId: number;
  endpointId: string;
  eventId: string;
  payload: string;
  contentType: string;
  attempts: number;
}

export function createWorker(ctx: WebhooksDeps): WebhookWorker {
  const fetchGuarded = createGuardedFetch({ env: ctx.config.env });
  const cfg = ctx.config.webhooks;
  const deliveries = new Counter({
    name: 'webhook_deliveries_total',
    help: 'Webhook delivery attempts by result (delivered, retry, failed)',
    labelNames: ['result'],
    registers: [ctx.metrics.registry],
  });
  new Gauge({
    name: 'webhook_oldest_pending_seconds',
    help: 'Age of the oldest undelivered webhook delivery (the lag), 0 when none waits',
    registers: [ctx.metrics.registry],
    async collect() {
      this.set(await ctx.database.withSystem((tx) => repo.oldestPendingAge(tx)));
    },
  });

  async function fanOutOne(tenantId: number, endpointId: string): Promise<number> {
    return ctx.database.withTenant(tenantId, async (tx) => {
      const endpoint = await repo.lockForFanOut(tx, tenantId, endpointId);
      if (!endpoint?.enabled) return 0;
      // The queue bound: past it, events wait in the audit log (nothing is lost) until deliveries drain.
      const room = cfg.maxQueued - (await repo.pendingCount(tx, tenantId, endpointId));
      if (room <= 0) return 0;
      const rows = await repo.auditAfter(tx, tenantId, endpoint.cursorSeq, Math.min(cfg.batchSize, room));
      if (rows.length === 0) return 0;
      const made = await deliveriesFor(tx, tenantId, rows, endpoint.events);
      await repo.insertDeliveries(tx, tenantId, endpointId, made, new Date(ctx.clock.now()));
      await repo.setCursor(tx, tenantId, endpointId, rows[rows.length - 1]!.seq);
      return made.length;
    });
  }

  async function fanOut(): Promise<number> {
    let made = 0;
    const behind = await ctx.database.withSystem((tx) => repo.endpointsBehind(tx, FANOUT_ENDPOINTS));
    for (const e of behind) made += await fanOutOne(e.tenantId, e.id);
    return made;
  }

  /** Due deliveries, claimed with a lease: no other worker takes them until it runs out. */
  function claim(): Promise<Claimed[]> {
    const now = new Date(ctx.clock.now());
    return ctx.database.withSystem((tx) => repo.claimDue(tx, now, LEASE_MS, CLAIM_BATCH));
  }

  async function secretsOf(d: Claimed): Promise<Target> {
    const e = await ctx.database.readTenant(d.tenantId, (tx) =>
      repo.endpointSecrets(tx, d.tenantId, d.endpointId),
    );
    if (!e?.enabled) return null;
    const aad = secretAad(d.tenantId, d.endpointId);
    const secrets = [ctx.secretBox.decrypt(e.secretSealed, aad)];
    if (
      e.previousSecretSealed &&
      e.previousSecretExpiresAt &&
      e.previousSecretExpiresAt.getTime() > ctx.clock.now()
    )
      secrets.push(ctx.secretBox.decrypt(e.previousSecretSealed, aad));
    return { url: e.url, secrets };
  }

  type Target = { url: string; secrets: string[] } | null;

  async function send(d: Claimed, targets: Map<string, Promise<Target>>): Promise<Attempt> {
    // One read (and decryption) per endpoint per step, however many of its deliveries the step sends.
    let pending = targets.get(d.endpointId);
    if (!pending) {
      pending = secretsOf(d);
      targets.set(d.endpointId, pending);
    }
    let target: Target;
    try {
      target = await pending;
    } catch (err) {
      // A secret that does not open (ENCRYPTION_KEY changed without its old key, a damaged row) fails this
      // endpoint's deliveries, as a receiver that is down would, and never the step of every other endpoint.
      ctx.log.warn({ err, endpointId: d.endpointId }, 'webhooks: the signing secret could not be unsealed');
      return {
        d,
        o: { ok: false, status: null, error: 'signing secret unreadable', latency: 0, excerpt: null },
        parked: false,
      };
    }
    if (!target) {
      // Disabled since it was queued: it waits (not an attempt) until the endpoint is enabled again.
      return {
        d,
        o: { ok: false, status: null, error: 'endpoint disabled', latency: 0, excerpt: null },
        parked: true,
      };
    }
    const started = performance.now();
    let outcome: Outcome;
    // A timer of our own, cleared when the attempt ends: AbortSignal.timeout's would outlive every delivery of a
    // burst by the whole timeout.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), cfg.timeoutMs);
    try {
      const res = await fetchGuarded(target.url, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': d.contentType,
          'user-agent': 'MassaCorp-Webhooks/1',
          // The wall clock, not ctx.clock: receivers check the timestamp against theirs (replay window).
          ...signedHeaders(target.secrets, d.eventId, Math.floor(Date.now() / 1000), d.payload),
        },
        body: d.payload,
        signal: abort.signal,
      });
      const text = await res.text().catch(() => '');
      outcome = {
        ok: res.status >= 200 && res.status < 300,
        status: res.status,
        error: null,
        latency: Math.round(performance.now() - started),
        excerpt: text.slice(0, RESPONSE_EXCERPT),
      };
    } catch (err) {
      outcome = {
        ok: false,
        status: null,
        error: (err as Error).message.slice(0, 300),
        latency: Math.round(performance.now() - started),
        excerpt: null,
      };
    } finally {
      clearTimeout(timer);
    }
    return { d, o: outcome, parked: false };
  }

  interface Outcome {
    ok: boolean;
    status: number | null;
    error: string | null;
    latency: number;
    excerpt: string | null;
  }

  interface Attempt {
    d: Claimed;
    o: Outcome;
    /** Not an attempt: the endpoint was disabled after the delivery was claimed. */
    parked: boolean;
  }

  /**
   * The outcomes of one step for one tenant, in one transaction (not one per delivery: a backlog is sent 50 at a
   * time, and on the embedded database every transaction waits for the one before).
   */
  async function recordAll(tenantId: number, attempts: Attempt[]): Promise<void> {
    const now = new Date(ctx.clock.now());
    const disabled = await ctx.database.withTenant(tenantId, async (tx) => {
      const recovered = new Set<string>();
      const failing = new Set<string>();
      for (const { d, o, parked } of attempts) {
        const result = {
          lastStatus: o.status,
          lastError: o.error,
          lastLatencyMs: o.latency,
          lastResponse: o.excerpt,
        };
        if (parked) await repo.parkDelivery(tx, tenantId, d.id, new Date(now.getTime() + 60_000));
        else if (o.ok) {
          deliveries.inc({ result: 'delivered' });
          await repo.recordAttempt(tx, tenantId, d.id, result, { delivered: now });
          recovered.add(d.endpointId);
        } else {
          const wait = retryDelay(d.attempts);
          deliveries.inc({ result: wait === null ? 'failed' : 'retry' });
          await repo.recordAttempt(tx, tenantId, d.id, result, {
            retryAt: wait === null ? null : new Date(now.getTime() + wait),
          });
          failing.add(d.endpointId);
        }
      }
      // A success clears the endpoint's run of failures, unless this very step also failed on it.
      for (const id of recovered)
        if (!failing.has(id)) await repo.updateEndpoint(tx, tenantId, id, { failingSince: null });
      const disabledNow: string[] = [];
      for (const id of failing) {
        const e = await repo.markFailing(tx, tenantId, id, now);
        if (!e?.enabled || !e.failingSince || now.getTime() - e.failingSince.getTime() < DISABLE_AFTER_MS)
          continue;
        await repo.updateEndpoint(tx, tenantId, id, {
          enabled: false,
          disabledReason: 'failing for 24 hours',
          updatedAt: now,
        });
        await writeAudit(tx, tenantId, SYSTEM_AUDIT_CONTEXT, {
          eventType: 'webhook.disabled',
          resourceType: 'webhook_endpoint',
          resourceId: id,
          metadata: { reason: 'failing for 24 hours', failing_since: e.failingSince.toISOString() },
        });
        disabledNow.push(id);
      }
      return disabledNow;
    });
    for (const id of disabled) runInBackground(ctx, 'webhook disabled mail', () => mailAdmins(tenantId, id));
  }

  async function mailAdmins(tenantId: number, endpointId: string): Promise<void> {
    const emails = await ctx.database.withTenant(tenantId, async (tx) => {
      const ids = new Set<number>();
      for (const code of ['owner', 'admin']) {
        const roleId = await roleIdByCode(tx, tenantId, code);
        if (roleId) for (const id of await roleHolderIds(tx, tenantId, roleId)) ids.add(id);
      }
      const out: string[] = [];
      for (const id of ids) {
        const email = await userEmail(tx, tenantId, id);
        if (email) out.push(email);
      }
      return out;
    });
    for (const to of emails)
      await ctx.mailer.send({
        to,
        subject: 'MassaCorp: a webhook endpoint was disabled',
        text:
          `The webhook endpoint ${endpointId} of your organisation failed every delivery for 24 hours and was ` +
          'disabled. Its events are kept: fix the receiver, then enable the endpoint again in the console ' +
          '(Webhooks) or with PATCH /api/v1/webhooks/{id} {"enabled": true}; delivery resumes where it stopped.',
      });
  }

  /**
   * The delivery log's retention, at most once a minute per worker and a bounded batch each time: the log holds
   * payloads (personal data), so it must not grow forever, and a big backlog is deleted over several ticks
   * instead of in one long statement.
   */
  let prunedAt = Number.NEGATIVE_INFINITY;
  async function prune(): Promise<number> {
    const now = ctx.clock.now();
    if (now - prunedAt < PRUNE_EVERY_MS) return 0;
    prunedAt = now;
    const before = new Date(now - cfg.retentionDays * 86_400_000);
    return ctx.database.withSystem((tx) => repo.pruneFinished(tx, before, PRUNE_BATCH));
  }

  async function tick() {
    const pruned = await prune();
    const fannedOut = await fanOut();
    const claimed = await claim();
    const targets = new Map<string, Promise<Target>>();
    const attempts = await Promise.all(claimed.map((d) => send(d, targets)));
    const byTenant = new Map<number, Attempt[]>();
    for (const a of attempts) byTenant.set(a.d.tenantId, [...(byTenant.get(a.d.tenantId) ?? []), a]);
    for (const [tenantId, list] of byTenant) await recordAll(tenantId, list);
    return { fannedOut, sent: claimed.length, pruned };
  }

  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> | null = null;
  let stopped = false;
  const loop = () => {
    if (stopped) return;
    let busy = false;
    running = tick()
      .then((r) => {
        // A backlog: go on at once instead of waiting a poll interval between batches.
        busy = r.fannedOut > 0 || r.sent === CLAIM_BATCH;
      })
      .catch((err: unknown) => ctx.log.warn({ err }, 'webhooks: worker tick failed; trying again'))
      .finally(() => {
        running = null;
        if (!stopped) timer = setTimeout(loop, busy ? 0 : cfg.pollMs).unref();
      });
  };
  if (cfg.worker) timer = setTimeout(loop, cfg.pollMs).unref();
  return {
    tick,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

const workers = new WeakMap<WebhooksDeps, WebhookWorker>();

/** Starts the app's worker (its timer runs only with WEBHOOK_WORKER on; tick() steps it either way). */
export function startWorker(ctx: WebhooksDeps): void {
  workers.set(ctx, createWorker(ctx));
}

export async function stopWorker(ctx: WebhooksDeps): Promise<void> {
  await workers.get(ctx)?.stop();
  workers.delete(ctx);
}

/** The app's worker (tests step it with tick()). */
export function webhookWorker(ctx: WebhooksDeps): WebhookWorker {
  const w = workers.get(ctx);
  if (!w) throw new Error('the webhooks module is not set up on this app');
  return w;
}
