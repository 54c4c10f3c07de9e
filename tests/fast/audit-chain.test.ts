/**
 * The audit writer and the chain verifier, called directly on the worker's migrated database (the fast tier:
 * no Fastify, no HTTP). The route-level view of the same chain (GET /audit/verify, the CLI) stays in
 * tests/integration/audit.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/platform/audit/verify.js';
import { SYSTEM_AUDIT_CONTEXT, writeAudit } from '../../src/platform/audit/writer.js';
import type { Database } from '../../src/platform/db/client.js';
import { testDatabase } from '../helpers/app.js';

let database: Database;

beforeAll(async () => {
  database = await testDatabase();
});

/** A tenant of this test's own: the database is shared with the other files of the worker. */
async function newTenantRow(): Promise<number> {
  const slug = `fast-${randomUUID().slice(0, 8)}`;
  return database.withSystem(async (tx) => {
    const r = await tx.execute<{ id: number }>(
      sql`insert into tenants (slug, name) values (${slug}, ${slug}) returning id`,
    );
    return Number(r.rows[0]!.id);
  });
}

async function writeEvents(tenantId: number, n: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const rec = await database.withTenant(tenantId, (tx) =>
      writeAudit(tx, tenantId, SYSTEM_AUDIT_CONTEXT, {
        eventType: 'test.event',
        resourceType: 'thing',
        resourceId: i,
        metadata: { i },
      }),
    );
    expect(rec.seq).toBe(i + 1);
    ids.push(rec.id);
  }
  return ids;
}

/** Changes a row behind the application: the append-only trigger is skipped as a superuser restore would. */
async function tamper(statement: string) {
  await database.execScript(`begin; set local session_replication_role = replica; ${statement}; commit;`);
}

describe('audit chain, without the app', () => {
  it('records written in tenant transactions chain from seq 1 and verify', async () => {
    const tenantId = await newTenantRow();
    await writeEvents(tenantId, 3);
    expect(await verifyChain(database, tenantId)).toEqual({ valid: true, checked: 3 });
    // A page smaller than the chain walks it the same way.
    expect(await verifyChain(database, tenantId, { pageSize: 2 })).toEqual({ valid: true, checked: 3 });
  });

  it('a changed record is named; a deleted tail is a head mismatch; another tenant stays valid', async () => {
    const a = await newTenantRow();
    const b = await newTenantRow();
    const ids = await writeEvents(a, 3);
    await writeEvents(b, 2);
    await tamper(`update audit_log set success = false where id = ${ids[1]}`);
    expect(await verifyChain(database, a)).toMatchObject({
      valid: false,
      first_invalid_id: ids[1],
      reason: 'hash_mismatch',
    });
    expect(await verifyChain(database, b)).toEqual({ valid: true, checked: 2 });

    const c = await newTenantRow();
    const tail = await writeEvents(c, 2);
    await tamper(`delete from audit_log where id = ${tail[1]}`);
    expect(await verifyChain(database, c)).toMatchObject({ valid: false, reason: 'head_mismatch' });
  });

  it('a tenant transaction sees no other tenant’s records (RLS under the writer)', async () => {
    const a = await newTenantRow();
    const b = await newTenantRow();
    await writeEvents(a, 1);
    const seen = await database.withTenant(b, async (tx) => {
      const r = await tx.execute<{ n: string }>(
        sql`select count(*)::text as n from audit_log where tenant_id = ${a}`,
      );
      return Number(r.rows[0]!.n);
    });
    expect(seen).toBe(0);
  });
});
