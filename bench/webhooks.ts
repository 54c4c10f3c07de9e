/**
 * Webhooks under a burst (issue 22): one tenant with an endpoint subscribed to `*` and one to the audit stream,
 * BENCH_WEBHOOK_EVENTS (10,000) audit records written at once (100 transactions of 100, as a bulk import would),
 * then the app's own worker (WEBHOOK_POLL_MS=50) delivers to a real HTTP receiver on loopback. Measured: the time
 * until the last event is received (the burst's lag), each event's lag (received − committed) at p50/p99, the
 * receiver's count (each event once), and the process's peak RSS against its RSS before the burst (memory must
 * not grow with the backlog: fan-out and claims work in bounded steps). Embedded by default; DATABASE_URL for
 * PostgreSQL. `npm run bench:webhooks`, and at the end of `npm run bench`. Prints one JSON line.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createTenant } from '../src/modules/tenant-admin/index.js';
import { SYSTEM_AUDIT_CONTEXT, writeAudit } from '../src/platform/audit/writer.js';

const EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 10_000);
/** A folder: heap snapshots before and after the burst are written there, and what grew is printed. */
const SNAPSHOTS = process.env.BENCH_HEAP_SNAPSHOTS;
const config = loadConfig(
  {
    ...process.env,
    ENV: 'test',
    LOG_LEVEL: 'silent',
    JWT_SECRET: 'bench-jwt-secret-0123456789abcdef0123',
    ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
    PGLITE_DIR: process.env.DATABASE_URL ? undefined : 'memory://',
    STORE_PREFIX: `bench-webhooks:${process.pid}:`,
    ARGON2_MEMORY_KIB: '4096',
    ARGON2_TIME_COST: '1',
    WEBHOOK_WORKER: 'false',
    WEBHOOK_POLL_MS: '50',
  },
  { persistSecrets: false },
);

const received = new Map<string, number>();
let streamed = 0;
let duplicates = 0;
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    const now = Date.now();
    if (req.url === '/stream') streamed += body.trim().split('\n').length;
    else {
      const id = String(req.headers['webhook-id']);
      if (received.has(id)) duplicates++;
      received.set(id, now - Date.parse(JSON.parse(body).created_at));
    }
    res.writeHead(204).end();
  });
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

const app = await buildApp({ ...config, webhooks: { ...config.webhooks, worker: true } }, { migrate: true });
const slug = `bench-hooks-${process.pid}`;
const { tenant } = await createTenant(app.ctx, { slug, name: 'Bench webhooks' });
const { createEndpoint } = await import('../src/modules/webhooks/service.js');
const actor = { tenantId: tenant.id, userId: null, audit: SYSTEM_AUDIT_CONTEXT };
await createEndpoint(app.ctx, actor, { url: `${base}/events`, events: ['user.created'] });
await createEndpoint(app.ctx, actor, { url: `${base}/stream`, events: ['audit.record'] });

const gc = (globalThis as { gc?: () => void }).gc;
// Twice: objects freed by the first collection's weak callbacks and finalizers go in the second.
const collect = () => {
  gc?.();
  gc?.();
};
collect();
const snapshotBefore = SNAPSHOTS ? writeHeapSnapshot(join(SNAPSHOTS, 'before.heapsnapshot')) : null;
collect();
const rssBefore = process.memoryUsage().rss;
const heapBefore = process.memoryUsage().heapUsed;
let rssPeak = rssBefore;
let heapPeak = heapBefore;
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  rssPeak = Math.max(rssPeak, m.rss);
  heapPeak = Math.max(heapPeak, m.heapUsed);
}, 50);

const t0 = Date.now();
for (let done = 0; done < EVENTS; done += 100) {
  await app.ctx.database.withTenant(tenant.id, async (tx) => {
    for (let i = done; i < Math.min(EVENTS, done + 100); i++)
      await writeAudit(tx, tenant.id, SYSTEM_AUDIT_CONTEXT, {
        eventType: 'user.created',
        resourceType: 'user',
        resourceId: i + 1,
        metadata: { source: 'bench' },
      });
  });
}
const written = Date.now() - t0;
// The stream also carries the stream endpoint's own webhook.created record.
while (received.size < EVENTS || streamed < EVENTS + 1) {
  if (Date.now() - t0 > 600_000) throw new Error(`stuck: ${received.size} events, ${streamed} records`);
  await new Promise((r) => setTimeout(r, 20));
}
const drained = Date.now() - t0;
clearInterval(sampler);
const lags = [...received.values()].sort((a, b) => a - b);
const deliveredOnce = received.size;
// The receiver's own record of 10,000 ids lives in this process: dropped, so the heap after is the app's.
received.clear();
collect();
const heapAfter = process.memoryUsage().heapUsed;
const snapshotAfter = SNAPSHOTS ? writeHeapSnapshot(join(SNAPSHOTS, 'after.heapsnapshot')) : null;
const pct = (p: number) => lags[Math.min(lags.length - 1, Math.floor((p / 100) * lags.length))]!;
console.log(
  JSON.stringify({
    backend: app.ctx.database.kind,
    events: EVENTS,
    delivered: deliveredOnce,
    write_ms: written,
    all_delivered_after_ms: drained,
    events_per_second: Math.round(EVENTS / (drained / 1000)),
    event_lag_ms: { p50: pct(50), p99: pct(99), max: lags[lags.length - 1] },
    stream_records: streamed,
    duplicates,
    rss_mb: { before: Math.round(rssBefore / 1e6), peak: Math.round(rssPeak / 1e6) },
    // The JS heap; with --expose-gc (npm run bench:webhooks) before and after are measured after a collection.
    heap_mb: {
      before: Math.round(heapBefore / 1e6),
      peak: Math.round(heapPeak / 1e6),
      after: Math.round(heapAfter / 1e6),
    },
  }),
);
if (snapshotBefore && snapshotAfter) {
  const { heapGrowth } = await import('./heap-diff.js');
  console.log(JSON.stringify({ heap_growth_by_kind: heapGrowth(snapshotBefore, snapshotAfter) }));
}
await app.close();
receiver.close();
