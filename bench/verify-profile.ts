/**
 * Where a full re-verification's time goes (issue 25), per record, on the first `--records` records of tenant
 * "big" in DATABASE_URL (a `bench:data --reuse NAME` database): reading pages (as row objects, the old way, and
 * as one json_agg text per page, the new way), hashing them (the writer's recordHash on row objects, and
 * verify-page.ts's hashPage on the JSON text), and posting a page to another thread (structured clone of the row
 * objects, or of the one string). Each step alone, on one thread, one after another.
 *
 *   DATABASE_URL=postgres://…/NAME npx tsx bench/verify-profile.ts --records 200000
 */

import { parseArgs } from 'node:util';
import { MessageChannel } from 'node:worker_threads';
import pg from 'pg';
import { type ChainedFields, recordHash } from '../src/platform/audit/hash-chain.js';
import { hashPage } from '../src/platform/audit/verify-page.js';

const { values: args } = parseArgs({
  options: { records: { type: 'string', default: '200000' }, page: { type: 'string', default: '5000' } },
});
const RECORDS = Number(args.records);
const PAGE = Number(args.page);
const db = new pg.Client({ connectionString: process.env.DATABASE_URL });
await db.connect();
const tenantId = (await db.query<{ id: number }>(`select id from tenants where slug = 'big'`)).rows[0]!.id;
const iso = `to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

type Row = Record<string, string | boolean | null>;
async function timed<T>(what: string, fn: () => Promise<T> | T): Promise<T> {
  const t = performance.now();
  const out = await fn();
  const ms = performance.now() - t;
  console.log(`${what.padEnd(58)} ${((ms * 1000) / RECORDS).toFixed(2).padStart(6)} µs/record`);
  return out;
}

const objectPages = await timed('read, row objects (old: 16 text columns per row)', async () => {
  const pages: Row[][] = [];
  for (let after = 0; after < RECORDS; after += PAGE)
    pages.push(
      (
        await db.query<Row>(
          `select id::text as id, seq::text as seq, event_type, actor_type, actor_id, resource_type, resource_id,
             success, ip_address, user_agent, request_id, session_id, metadata::text as metadata,
             ${iso} as created_at, prev_hash, hash
           from audit_log where tenant_id = $1 and seq > $2 order by seq limit $3`,
          [tenantId, after, PAGE],
        )
      ).rows,
    );
  return pages;
});
const jsonPages = await timed('read, one json_agg text per page (new)', async () => {
  const pages: string[] = [];
  for (let after = 0; after < RECORDS; after += PAGE)
    pages.push(
      (
        await db.query<{ page: string }>(
          `select json_agg(json_build_array(p.id, p.seq, p.event_type, p.actor_type, p.actor_id, p.resource_type,
             p.resource_id, p.success, p.ip_address, p.user_agent, p.request_id, p.session_id, p.metadata,
             to_char(p.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), p.prev_hash, p.hash)
             order by p.seq)::text as page
           from (select * from audit_log where tenant_id = $1 and seq > $2 order by seq limit $3) p`,
          [tenantId, after, PAGE],
        )
      ).rows[0]!.page,
    );
  return pages;
});
await db.end();

async function post(values: unknown[]) {
  const { port1, port2 } = new MessageChannel();
  for (const v of values)
    await new Promise<void>((r) => {
      port2.once('message', () => r());
      port1.postMessage(v);
    });
  port1.close();
  port2.close();
}
await timed('post to a thread, row objects (structured clone)', () => post(objectPages));
await timed('post to a thread, one string per page', () => post(jsonPages));

await timed('hash, old: JSON.parse + Date + generic canonicalJson + createHash', () => {
  for (const page of objectPages)
    for (const r of page) {
      const fields: ChainedFields = {
        tenantId,
        seq: Number(r.seq),
        eventType: r.event_type as string,
        actorType: r.actor_type as string,
        actorId: r.actor_id as string | null,
        resourceType: r.resource_type as string | null,
        resourceId: r.resource_id as string | null,
        success: r.success as boolean,
        ipAddress: r.ip_address as string | null,
        userAgent: r.user_agent as string | null,
        requestId: r.request_id as string | null,
        sessionId: r.session_id as string | null,
        metadata: JSON.parse(r.metadata as string) as Record<string, unknown>,
        createdAt: new Date(r.created_at as string),
      };
      if (recordHash(r.prev_hash as string, fields) !== r.hash) throw new Error(`mismatch at ${r.seq}`);
    }
});
await timed('hash, new: hashPage (JSON.parse of the page + written-out body)', () => {
  for (const json of jsonPages) if (!hashPage({ tenantId, json }).ok) throw new Error('page mismatch');
});
