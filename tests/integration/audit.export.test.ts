/**
 * The export streams: 50,000 records leave in keyset pages while the server's memory stays flat, and the
 * chain of all of them verifies. Records are generated with a valid chain and bulk-inserted (the writer one by
 * one would take minutes on PGlite); /verify then proves the generator matched the writer's hashing.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportPage } from '../../src/modules/audit/repository.js';
import { GENESIS_HASH, recordHash } from '../../src/platform/audit/hash-chain.js';
import { collectRefs, lookupPii, rehydrate } from '../../src/platform/audit/pii.js';
import { recordLine } from '../../src/platform/audit/retention.js';
import { writeAudit } from '../../src/platform/audit/writer.js';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant } from '../helpers/factories.js';

const TOTAL = 50_000;
// A full collection on demand, so what we measure is memory the export keeps, not garbage awaiting the GC.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const BATCH = 5_000;
let app: FastifyInstance;

beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app?.close();
});

/** Appends `count` valid records after the tenant's current head, as the owner, in a few big statements. */
async function bulkAppend(tenantId: number, count: number) {
  const [head] = await app.ctx.database.query<{ last_seq: string; last_hash: string }>(
    'select last_seq::text as last_seq, last_hash from audit_chain_heads where tenant_id = $1',
    [tenantId],
  );
  let seq = Number(head?.last_seq ?? 0);
  let prev = head?.last_hash ?? GENESIS_HASH;
  const base = Date.now();
  for (let done = 0; done < count; done += BATCH) {
    const rows = [];
    for (let i = 0; i < Math.min(BATCH, count - done); i++) {
      seq += 1;
      const r = {
        tenantId,
        seq,
        eventType: 'bulk.event',
        actorType: 'system',
        actorId: null,
        resourceType: 'thing',
        resourceId: String(seq),
        success: true,
        ipAddress: '10.0.0.1',
        userAgent: 'bulk-generator/1.0',
        requestId: null,
        sessionId: null,
        metadata: { n: seq, note: 'x'.repeat(300) },
        createdAt: new Date(base + seq),
      };
      const hash = recordHash(prev, r);
      rows.push({ ...r, createdAt: r.createdAt.toISOString(), prevHash: prev, hash });
      prev = hash;
    }
    await app.ctx.database.query(
      `insert into audit_log (tenant_id, seq, event_type, actor_type, actor_id, resource_type, resource_id, success, ip_address,
         user_agent, request_id, session_id, metadata, created_at, prev_hash, hash)
       select x."tenantId", x.seq, x."eventType", x."actorType", x."actorId", x."resourceType", x."resourceId", x.success, x."ipAddress",
         x."userAgent", x."requestId", x."sessionId", x.metadata, x."createdAt", x."prevHash", x.hash
       from jsonb_to_recordset($1::jsonb) as x("tenantId" int, seq bigint, "eventType" text, "actorType" text, "actorId" text,
         "resourceType" text, "resourceId" text, success boolean, "ipAddress" text, "userAgent" text, "requestId" text,
         "sessionId" text, metadata jsonb, "createdAt" timestamptz, "prevHash" text, hash text)`,
      [JSON.stringify(rows)],
    );
  }
  await app.ctx.database.query(
    `insert into audit_chain_heads (tenant_id, last_seq, last_hash) values ($1, $2, $3)
     on conflict (tenant_id) do update set last_seq = excluded.last_seq, last_hash = excluded.last_hash`,
    [tenantId, seq, prev],
  );
}

describe('audit export at scale', () => {
  it(`streams ${TOTAL} records as NDJSON with flat memory, and the chain verifies`, async () => {
    const t = await newTenant(app, { superuser: true });
    const tokens = await login(app, t.tenant.id, t.admin.email);
    await bulkAppend(t.tenant.id, TOTAL);

    gc();
    const before = process.memoryUsage();
    let peakHeap = before.heapUsed;
    let peakRetained = 0;
    let chunks = 0;
    let peakRss = before.rss;
    let bytes = 0;
    let lines = 0;
    let lastSeq = 0;
    let ordered = true;
    let tail = '';
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/audit/logs/export?format=ndjson',
      headers: bearer(tokens),
      payloadAsStream: true,
    });
    expect(res.statusCode).toBe(200);
    for await (const chunk of res.stream()) {
      const text = tail + (chunk as Buffer).toString('utf8');
      bytes += (chunk as Buffer).length;
      const parts = text.split('\n');
      tail = parts.pop()!;
      for (const p of parts) {
        lines += 1;
        // Spot-check order without parsing every line.
        if (lines % 997 === 0) {
          const seq = JSON.parse(p).seq as number;
          if (seq <= lastSeq) ordered = false;
          lastSeq = seq;
        }
      }
      const m = process.memoryUsage();
      peakHeap = Math.max(peakHeap, m.heapUsed);
      peakRss = Math.max(peakRss, m.rss);
      if (++chunks % 10 === 0) {
        gc();
        peakRetained = Math.max(peakRetained, process.memoryUsage().heapUsed - before.heapUsed);
      }
    }
    const heapDeltaMb = (peakHeap - before.heapUsed) / 1048576;
    const retainedMb = peakRetained / 1048576;
    const rssDeltaMb = (peakRss - before.rss) / 1048576;
    const exportMb = bytes / 1048576;
    console.log(
      `audit export: ${lines} lines, ${exportMb.toFixed(1)} MiB streamed; peak heap +${heapDeltaMb.toFixed(1)} MiB (garbage included), retained after GC +${retainedMb.toFixed(1)} MiB, peak RSS +${rssDeltaMb.toFixed(1)} MiB`,
    );
    expect(lines).toBeGreaterThanOrEqual(TOTAL);
    expect(ordered).toBe(true);
    // Buffering the export would need at least its own size in memory; streaming needs a few pages.
    expect(chunks).toBeGreaterThan(40);
    expect(retainedMb).toBeLessThan(Math.min(15, exportMb / 3));

    const verify = await app.inject({ method: 'GET', url: '/api/v1/audit/verify', headers: bearer(tokens) });
    expect(verify.json()).toMatchObject({ valid: true });
    expect(verify.json().checked).toBeGreaterThanOrEqual(TOTAL);
  }, 60_000);

  it('each NDJSON line, written by PostgreSQL around its metadata, is JSON.stringify(recordLine) byte for byte', async () => {
    const t = await newTenant(app, { superuser: true });
    const tokens = await login(app, t.tenant.id, t.admin.email);
    const awkward = 'quote " back \\ tab\t nl\n cr\r bell\u0007 del\u007f é 😀 \u2028 </script>';
    await app.ctx.database.withTenant(t.tenant.id, async (tx) => {
      await writeAudit(
        tx,
        t.tenant.id,
        {
          actorType: 'user',
          actorId: '7',
          ipAddress: '2001:db8::1',
          userAgent: awkward,
          requestId: 'req-"x"',
          sessionId: null,
        },
        {
          eventType: 'test.awkward',
          resourceType: 'user',
          resourceId: 7,
          success: false,
          // The email goes to audit_pii: the export shows it back in place of its reference.
          metadata: { email: 'someone@example.com', z: [1, { b: null, a: awkward }], n: 1.5, big: 2 ** 52 },
        },
      );
      await writeAudit(
        tx,
        t.tenant.id,
        {
          actorType: 'system',
          actorId: null,
          ipAddress: null,
          userAgent: null,
          requestId: null,
          sessionId: null,
        },
        { eventType: 'test.plain' },
      );
    });
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/audit/logs/export?format=ndjson',
      headers: bearer(tokens),
    });
    expect(res.statusCode).toBe(200);
    const expected = await app.ctx.database.withTenant(t.tenant.id, async (tx) => {
      const rows = await exportPage(tx, t.tenant.id, {}, 0, 1000);
      const values = await lookupPii(tx, t.tenant.id, collectRefs(rows.map((r) => r.metadata)));
      return rows.map((r) => {
        const l = recordLine(r);
        return `${JSON.stringify({ ...l, metadata: rehydrate(l.metadata, values) })}\n`;
      });
    });
    // The export's own audit record is written before the export reads: it is among the lines.
    expect(expected.length).toBeGreaterThanOrEqual(3);
    expect(res.body).toBe(expected.join(''));
    expect(res.body).toContain('someone@example.com');
    expect(res.body).toContain(JSON.stringify(awkward));
  });
});
