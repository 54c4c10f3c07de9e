/**
 * Verification at scale (issue 25): a full re-verification runs as a background job (hashing on a worker
 * thread) with progress, sets the verification mark, and GET /audit/verify then re-hashes only what was
 * appended since. Tampering before the mark is the full job's to find; tampering with the marked record, or
 * after it, is found by GET /audit/verify too.
 */
import { readdir, readFile } from 'node:fs/promises';
import { getPriority } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyTenants } from '../../src/cli/audit.js';
import { canonicalJson, chainedBody, GENESIS_HASH, recordHash } from '../../src/platform/audit/hash-chain.js';
import { verifyChain } from '../../src/platform/audit/verify.js';
import { startHashWorkers } from '../../src/platform/audit/verify-jobs.js';
import { canonicalBody, type PageRecord, pageRecordHash } from '../../src/platform/audit/verify-page.js';
import { keys } from '../../src/platform/store/keys.js';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant, type Tokens } from '../helpers/factories.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app?.close();
});

async function adminOf() {
  const t = await newTenant(app, { superuser: true });
  return { ...t, tokens: await login(app, t.tenant.id, t.admin.email) };
}

/** Appends `count` valid records after the tenant's head, in one statement (as audit.export.test.ts does). */
async function bulkAppend(tenantId: number, count: number) {
  const [head] = await app.ctx.database.query<{ last_seq: string; last_hash: string }>(
    'select last_seq::text as last_seq, last_hash from audit_chain_heads where tenant_id = $1',
    [tenantId],
  );
  let seq = Number(head?.last_seq ?? 0);
  let prev = head?.last_hash ?? GENESIS_HASH;
  const rows = [];
  const base = Date.now();
  for (let i = 0; i < count; i++) {
    seq += 1;
    const r = {
      tenantId,
      seq,
      eventType: 'bulk.event',
      actorType: 'system' as const,
      actorId: null,
      resourceType: 'thing',
      resourceId: String(seq),
      success: true,
      ipAddress: null,
      userAgent: 'bulk',
      requestId: null,
      sessionId: null,
      metadata: { n: seq, nested: { b: 1, a: [1, 'x'] } },
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
  await app.ctx.database.query(
    `insert into audit_chain_heads (tenant_id, last_seq, last_hash) values ($1, $2, $3)
     on conflict (tenant_id) do update set last_seq = excluded.last_seq, last_hash = excluded.last_hash`,
    [tenantId, seq, prev],
  );
  return seq;
}

async function tamper(statement: string) {
  await app.ctx.database.execScript(
    `begin; set local session_replication_role = replica; ${statement}; commit;`,
  );
}

async function idAtSeq(tenantId: number, seq: number): Promise<number> {
  const [r] = await app.ctx.database.query<{ id: string }>(
    'select id::text as id from audit_log where tenant_id = $1 and seq = $2',
    [tenantId, seq],
  );
  return Number(r!.id);
}

const call = (tokens: Tokens, method: 'GET' | 'POST', url: string) =>
  app.inject({ method, url: `/api/v1/audit${url}`, headers: bearer(tokens) });

/** Starts the full job and waits for its end, returning the job as GET /verify/full reports it. */
async function fullRun(tokens: Tokens) {
  const start = await call(tokens, 'POST', '/verify/full');
  expect(start.statusCode, start.body).toBe(202);
  expect(start.json()).toMatchObject({ status: 'running', result: null });
  for (let i = 0; i < 600; i++) {
    const res = await call(tokens, 'GET', '/verify/full');
    expect(res.statusCode).toBe(200);
    const job = res.json();
    expect(job.job_id).toBe(start.json().job_id);
    if (job.status !== 'running') return job;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the verification job did not end');
}

describe('audit verification at scale', () => {
  it('the full job verifies on a worker and sets the mark; GET /verify then re-hashes only new records', async () => {
    const { tenant, tokens } = await adminOf();
    expect((await call(tokens, 'GET', '/verify/full')).statusCode).toBe(404);
    const head = await bulkAppend(tenant.id, 3000);
    const job = await fullRun(tokens);
    // The job's own start is audited before it reads the chain: one record more than the head we wrote.
    expect(job).toMatchObject({ status: 'done', error: null, result: { valid: true } });
    expect(job.checked).toBe(head + 1);
    expect(job.total).toBe(job.checked);
    expect(job.finished_at).toBeTruthy();

    const first = (await call(tokens, 'GET', '/verify')).json();
    // The marked record is re-hashed, then only what follows it.
    expect(first).toMatchObject({ valid: true, checked: 1, verified_from_seq: job.checked });
    const newHead = await bulkAppend(tenant.id, 25);
    const second = (await call(tokens, 'GET', '/verify')).json();
    expect(second).toMatchObject({ valid: true, checked: 26, verified_from_seq: job.checked });
    // The mark moved on with it.
    expect((await call(tokens, 'GET', '/verify')).json()).toMatchObject({
      checked: 1,
      verified_from_seq: newHead,
    });

    // Changing the marked record is found at once.
    const marked = await idAtSeq(tenant.id, newHead);
    await tamper(`update audit_log set success = false where id = ${marked}`);
    expect((await call(tokens, 'GET', '/verify')).json()).toMatchObject({
      valid: false,
      reason: 'hash_mismatch',
      first_invalid_id: marked,
    });
    await tamper(`update audit_log set hash = 'forged' where id = ${marked}`);
    expect((await call(tokens, 'GET', '/verify')).json()).toMatchObject({
      valid: false,
      reason: 'mark_mismatch',
      first_invalid_id: marked,
    });
  });

  it('tampering before the mark is the full job’s (and the CLI’s) to find', async () => {
    const { tenant, tokens } = await adminOf();
    await bulkAppend(tenant.id, 500);
    expect((await fullRun(tokens)).result).toMatchObject({ valid: true });
    const victim = await idAtSeq(tenant.id, 100);
    await tamper(`update audit_log set event_type = 'forged' where id = ${victim}`);
    // GET /verify trusts the mark (documented): it re-hashes only the marked record.
    expect((await call(tokens, 'GET', '/verify')).json()).toMatchObject({ valid: true, checked: 1 });
    const job = await fullRun(tokens);
    expect(job).toMatchObject({
      status: 'done',
      result: { valid: false, reason: 'hash_mismatch', first_invalid_id: victim },
    });
    const [cli] = await verifyTenants(app, String(tenant.id));
    expect(cli).toMatchObject({ valid: false, reason: 'hash_mismatch', first_invalid_id: victim });
  });

  it('one job at a time per tenant: a start while one runs reports the running one', async () => {
    const { tenant, tokens } = await adminOf();
    // A job running on another replica: its lock and its record are in the shared store.
    const running = {
      job_id: 'elsewhere',
      status: 'running',
      checked: 5,
      total: 10,
      started_at: new Date().toISOString(),
      finished_at: null,
      records_per_second: 1,
      result: null,
      error: null,
    };
    await app.ctx.store.setIfAbsent(keys.auditVerifyLock(tenant.id), 'elsewhere', 60);
    await app.ctx.store.set(keys.auditVerifyJob(tenant.id), JSON.stringify(running), 60);
    const again = await call(tokens, 'POST', '/verify/full');
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(running);
    await app.ctx.store.del(keys.auditVerifyLock(tenant.id));
    expect((await fullRun(tokens)).result).toMatchObject({ valid: true });
  });

  it('the page hash is the writer’s hash, byte for byte, over awkward values', () => {
    const records = [
      { metadata: {}, actorId: null, ipAddress: null, userAgent: null, requestId: null, sessionId: null },
      {
        metadata: {
          z: 1,
          a: { y: [3, { d: null, c: 'é' }], b: 1.5 },
          '': 'empty',
          Ü: 'ü',
          B: true,
          'a\u0000': 1,
        },
        actorId: 'quote " back \\ slash',
        ipAddress: '::1',
        userAgent: 'tab\tnewline\nbell\u0007 emoji 😀 line sep \u2028',
        requestId: 'r',
        sessionId: 's',
      },
      {
        metadata: { n: -0.000001, big: 12345678901234, e: 1e21, arr: [] },
        actorId: '7',
        ipAddress: '10.0.0.1',
        userAgent: 'u',
        requestId: null,
        sessionId: null,
      },
    ];
    let prev = GENESIS_HASH;
    records.forEach((x, i) => {
      const fields = {
        tenantId: 42,
        seq: i + 1,
        eventType: 'e.v',
        actorType: 'user',
        resourceType: i === 0 ? null : 'thing',
        resourceId: i === 0 ? null : String(i),
        success: i % 2 === 0,
        createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i, 7)),
        ...x,
      };
      // As PostgreSQL's json_agg hands the record to the hasher (the metadata through jsonb, as stored).
      const rec: PageRecord = [
        i + 100,
        fields.seq,
        fields.eventType,
        fields.actorType,
        fields.actorId,
        fields.resourceType,
        fields.resourceId,
        fields.success,
        fields.ipAddress,
        fields.userAgent,
        fields.requestId,
        fields.sessionId,
        JSON.parse(JSON.stringify(fields.metadata)),
        fields.createdAt.toISOString(),
        prev,
        '',
      ];
      expect(canonicalBody(42, rec)).toBe(canonicalJson(chainedBody(fields)));
      const h = recordHash(prev, fields);
      expect(pageRecordHash(42, prev, rec)).toBe(h);
      prev = h;
    });
  });

  /** Threads of this process whose nice value is the hash threads' (field 19 of /proc/self/task/<tid>/stat). */
  async function nicedThreads(): Promise<number> {
    let n = 0;
    for (const tid of await readdir('/proc/self/task')) {
      const stat = await readFile(`/proc/self/task/${tid}/stat`, 'utf8').catch(() => '');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[16]) === 10) n++;
    }
    return n;
  }

  it('pages hashed on two workers out of order: a break at or near a page boundary is named in chain order', async () => {
    const { tenant } = await adminOf();
    const head = await bulkAppend(tenant.id, 1000);
    const pool = startHashWorkers(2);
    const run = () =>
      verifyChain(app.ctx.database, tenant.id, { pageSize: 100, hasher: pool.hash, depth: 4 });
    try {
      expect(await run()).toEqual({ valid: true, checked: head });
      // The hashing threads run below the event loop's priority (verify-worker.ts): Linux keeps a nice per thread.
      // (Unless this process already runs at nice 10 or more, where it proves nothing.)
      if (process.platform === 'linux' && getPriority() < 10)
        expect(await nicedThreads()).toBeGreaterThanOrEqual(2);
      // A later break and an earlier one: the earlier is reported, whichever worker finishes first.
      const late = await idAtSeq(tenant.id, 950);
      const early = await idAtSeq(tenant.id, 401);
      await tamper(`update audit_log set event_type = 'forged' where id = ${late}`);
      await tamper(`update audit_log set prev_hash = 'forged' where id = ${early}`);
      expect(await run()).toMatchObject({
        valid: false,
        reason: 'prev_hash_mismatch',
        first_invalid_id: early,
        checked: 400,
      });
      // The first record of a page that follows a gap (seq 301 removed: the page after 300 starts at 302).
      const afterGap = await idAtSeq(tenant.id, 302);
      await tamper(`delete from audit_log where tenant_id = ${tenant.id} and seq = 301`);
      expect(await run()).toMatchObject({
        valid: false,
        reason: 'seq_gap',
        first_invalid_id: afterGap,
        checked: 300,
      });
      // The last record of a page changed: its own hash fails, not the next page's link.
      const last = await idAtSeq(tenant.id, 200);
      await tamper(`update audit_log set success = false where id = ${last}`);
      expect(await run()).toMatchObject({
        valid: false,
        reason: 'hash_mismatch',
        first_invalid_id: last,
        checked: 199,
      });
    } finally {
      await pool.stop();
    }
  });
});
