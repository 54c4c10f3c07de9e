/**
 * Issue 25: audit_log is partitioned by month, and retention drops whole months instead of deleting row by row;
 * the hash chains and their verification are unaffected. Records are written in March and April 2019 by moving
 * the system clock (the writer stamps records with it), so these months hold this file's records only.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureAuditPartitions, pruneTenants } from '../../src/platform/audit/retention.js';
import { verifyChain } from '../../src/platform/audit/verify.js';
import { SYSTEM_AUDIT_CONTEXT, writeAudit } from '../../src/platform/audit/writer.js';
import { createTestApp } from '../helpers/app.js';
import { newTenant, type TestTenant } from '../helpers/factories.js';

let app: FastifyInstance;
let archiveDir: string;

beforeAll(async () => {
  app = await createTestApp();
  archiveDir = await mkdtemp(path.join(tmpdir(), 'mc-audit-part-'));
});
afterAll(async () => {
  await app.close();
  await rm(archiveDir, { recursive: true, force: true });
});
afterEach(() => {
  vi.useRealTimers();
});

const asOwner = async <T extends Record<string, unknown>>(q: ReturnType<typeof sql>) =>
  (await app.ctx.database.withSystem((tx) => tx.execute<T>(q))).rows;

async function partitions(): Promise<string[]> {
  return (
    await asOwner<{ name: string }>(sql`
      select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
       where i.inhparent = 'audit_log'::regclass order by c.relname`)
  ).map((r) => r.name);
}

/** Writes n records for the tenant, stamped at `at` (the writer reads the system clock). */
async function writeAt(at: string, tenantId: number, n: number): Promise<void> {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(at));
  try {
    for (let i = 0; i < n; i++)
      await app.ctx.database.withTenant(tenantId, (tx) =>
        writeAudit(tx, tenantId, SYSTEM_AUDIT_CONTEXT, { eventType: 'test.partitioned', metadata: { i } }),
      );
  } finally {
    vi.useRealTimers();
  }
}

async function count(tenantId: number): Promise<number> {
  const [r] = await asOwner<{ n: number }>(
    sql`select count(*)::int as n from audit_log where tenant_id = ${tenantId}`,
  );
  return Number(r!.n);
}

describe('issue 25: audit_log partitioned by month', () => {
  it('is a partitioned table with this month and the next three made ahead, a default, and no app privilege on any', async () => {
    const [kind] = await asOwner<{ kind: string }>(
      sql`select relkind::text as kind from pg_class where oid = 'audit_log'::regclass`,
    );
    expect(kind!.kind).toBe('p');
    const month = (offset: number) => {
      const d = new Date();
      const m = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset, 1));
      return `audit_log_p${m.getUTCFullYear()}${String(m.getUTCMonth() + 1).padStart(2, '0')}`;
    };
    await ensureAuditPartitions(app.ctx.database, new Date());
    const names = await partitions();
    for (const offset of [0, 1, 2, 3]) expect(names).toContain(month(offset));
    expect(names).toContain('audit_log_default');
    // Idempotent: nothing left to make.
    expect(await ensureAuditPartitions(app.ctx.database, new Date())).toBe(0);
    const held = await asOwner<{ name: string }>(sql`
      select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
       where i.inhparent = 'audit_log'::regclass
         and (has_table_privilege('massacorp_app', c.oid, 'SELECT') or has_table_privilege('massacorp_app', c.oid, 'INSERT'))`);
    expect(held).toEqual([]);
    // Nor may it run retention's steps (only making partitions, which it does at start).
    const t = await newTenant(app);
    for (const q of [
      sql`select audit_anchor(${t.tenant.id}, 1, 'x')`,
      sql`select audit_delete_pruned(${t.tenant.id})`,
      sql`select audit_drop_pruned_partitions(now())`,
      sql`select audit_log_secure_partition('audit_log_default')`,
    ])
      await expect(app.ctx.database.withTenant(t.tenant.id, (tx) => tx.execute(q))).rejects.toThrow();
    await expect(
      app.ctx.database.withTenant(t.tenant.id, (tx) =>
        tx.execute(sql`select audit_log_ensure_partitions(now(), now())`),
      ),
    ).resolves.toBeTruthy();
  });

  it('retention drops whole months (no row deleted) when every tenant in them is past its cutoff, deletes only what another tenant keeps, and the chains verify', async () => {
    // March and April 2019: their partitions, then two tenants created and written to in March, more in April.
    await asOwner(sql`select audit_log_ensure_partitions('2019-03-01T00:00:00Z', '2019-04-30T00:00:00Z')`);
    expect(await partitions()).toEqual(expect.arrayContaining(['audit_log_p201903', 'audit_log_p201904']));
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2019-03-10T12:00:00Z'));
    let t1: TestTenant;
    let t2: TestTenant;
    try {
      t1 = await newTenant(app);
      t2 = await newTenant(app);
    } finally {
      vi.useRealTimers();
    }
    await writeAt('2019-03-11T12:00:00Z', t1.tenant.id, 5);
    await writeAt('2019-03-12T12:00:00Z', t2.tenant.id, 3);
    await writeAt('2019-04-10T12:00:00Z', t1.tenant.id, 4);
    await writeAt('2019-04-11T12:00:00Z', t2.tenant.id, 2);
    await writeAt(new Date().toISOString(), t1.tenant.id, 1);
    await writeAt(new Date().toISOString(), t2.tenant.id, 1);
    const march = async (tenantId: number) =>
      Number(
        (
          await asOwner<{ n: number }>(
            sql`select count(*)::int as n from audit_log where tenant_id = ${tenantId} and created_at < '2019-04-01T00:00:00Z'`,
          )
        )[0]!.n,
      );
    const marchT1 = await march(t1.tenant.id);
    const marchT2 = await march(t2.tenant.id);
    const totalT1 = await count(t1.tenant.id);

    // Both tenants' retention ends on 1 April 2019: March goes whole, nothing is deleted row by row.
    const first = await pruneTenants(
      app.ctx.database,
      [
        { tenantId: t1.tenant.id, cutoff: new Date('2019-04-01T00:00:00Z') },
        { tenantId: t2.tenant.id, cutoff: new Date('2019-04-01T00:00:00Z') },
      ],
      { dir: archiveDir },
    );
    expect(first.droppedPartitions).toEqual(['audit_log_p201903']);
    expect(first.results.map((r) => [r.pruned, r.deleted])).toEqual([
      [marchT1, 0],
      [marchT2, 0],
    ]);
    expect(await partitions()).not.toContain('audit_log_p201903');
    expect(await count(t1.tenant.id)).toBe(totalT1 - marchT1);
    for (const t of [t1, t2]) {
      const v = await verifyChain(app.ctx.database, t.tenant.id);
      expect(v).toMatchObject({ valid: true });
      expect(v.anchored_at_seq).toBeGreaterThan(0);
    }

    // Only t1's retention reaches April: t2 still keeps April, so t1's April records are deleted one by one.
    const second = await pruneTenants(
      app.ctx.database,
      [{ tenantId: t1.tenant.id, cutoff: new Date('2019-05-01T00:00:00Z') }],
      { dir: archiveDir },
    );
    expect(second.droppedPartitions).toEqual([]);
    expect(second.results[0]).toMatchObject({ pruned: 4, deleted: 4 });
    expect(await partitions()).toContain('audit_log_p201904');

    // Then t2's reaches it too: April now holds only records behind an anchor, and goes whole.
    const third = await pruneTenants(
      app.ctx.database,
      [{ tenantId: t2.tenant.id, cutoff: new Date('2019-05-01T00:00:00Z') }],
      { dir: archiveDir },
    );
    expect(third.droppedPartitions).toEqual(['audit_log_p201904']);
    expect(third.results[0]).toMatchObject({ pruned: 2, deleted: 0 });
    for (const t of [t1, t2]) {
      expect(await count(t.tenant.id)).toBe(1);
      await expect(verifyChain(app.ctx.database, t.tenant.id)).resolves.toMatchObject({
        valid: true,
        checked: 1,
      });
    }
    // The chains go on from their anchors.
    await writeAt(new Date().toISOString(), t1.tenant.id, 2);
    await expect(verifyChain(app.ctx.database, t1.tenant.id)).resolves.toMatchObject({
      valid: true,
      checked: 3,
    });
  });

  it('a record whose month has no partition lands in the default one, and that month then gets none', async () => {
    const t = await newTenant(app);
    await writeAt('2018-06-15T12:00:00Z', t.tenant.id, 1);
    const [row] = await asOwner<{ part: string }>(
      sql`select tableoid::regclass::text as part from audit_log where tenant_id = ${t.tenant.id} and created_at < '2019-01-01'`,
    );
    expect(row!.part).toBe('audit_log_default');
    await asOwner(sql`select audit_log_ensure_partitions('2018-06-01T00:00:00Z', '2018-07-31T00:00:00Z')`);
    const names = await partitions();
    expect(names).not.toContain('audit_log_p201806');
    expect(names).toContain('audit_log_p201807');
    await expect(verifyChain(app.ctx.database, t.tenant.id)).resolves.toMatchObject({ valid: true });
  });
});
