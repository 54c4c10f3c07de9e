/** Row-level security is the backstop behind the tenant_id in every query. */
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { login, newTenant } from '../helpers/factories.js';
import { tenantTables } from '../helpers/rls-catalogue.js';

let app: FastifyInstance;

/** Drizzle wraps driver errors ("Failed query: ..."); the PostgreSQL message is on the cause. */
async function pgError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    const e = err as Error & { cause?: Error };
    return `${e.message} ${e.cause?.message ?? ''}`;
  }
  return 'no error';
}
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app.close();
});

describe('row-level security', () => {
  it('as the app role without tenant context, every tenant table returns no rows', async () => {
    const { tenant, admin } = await newTenant(app);
    await login(app, tenant.id, admin.email);
    // Every table with a tenant column, read from the catalogue: a table added by a migration is covered too.
    const tables = (await app.ctx.database.withSystem((tx) => tenantTables(tx))).map((t) => t.name);
    expect(tables.length).toBeGreaterThanOrEqual(21);
    for (const table of tables) {
      const rows = await app.ctx.database.db.transaction(async (tx) => {
        await tx.execute(sql`select set_config('role', 'massacorp_app', true)`);
        return (await tx.execute<{ n: number }>(sql.raw(`select count(*)::int as n from "${table}"`))).rows;
      });
      expect(rows[0]!.n, table).toBe(0);
    }
    // The same query as the owner sees the data: the zero above is RLS, not an empty table.
    const owner = await app.ctx.database.query<{ n: number }>(
      'select count(*)::int as n from users where tenant_id = $1',
      [tenant.id],
    );
    expect(owner[0]!.n).toBe(1);
  });

  it("inside tenant A's context, tenant B's rows are invisible even without a WHERE clause", async () => {
    const a = await newTenant(app);
    const b = await newTenant(app);
    await login(app, b.tenant.id, b.admin.email);
    const seen = await app.ctx.database.withTenant(a.tenant.id, async (tx) => ({
      users: (await tx.execute<{ tenant_id: number }>(sql`select distinct tenant_id from users`)).rows,
      sessions: (await tx.execute<{ tenant_id: number }>(sql`select distinct tenant_id from sessions`)).rows,
      tenants: (await tx.execute<{ id: number }>(sql`select id from tenants`)).rows,
    }));
    expect(seen.users.map((r) => r.tenant_id)).toEqual([a.tenant.id]);
    expect(seen.sessions.every((r) => r.tenant_id === a.tenant.id)).toBe(true);
    expect(seen.tenants.map((r) => r.id)).toEqual([a.tenant.id]);
  });

  it("refuses to write a row into another tenant from A's context", async () => {
    const a = await newTenant(app);
    const b = await newTenant(app);
    expect(
      await pgError(
        app.ctx.database.withTenant(a.tenant.id, (tx) =>
          tx.execute(
            sql`insert into users (tenant_id, email) values (${b.tenant.id}, 'intruder@example.test')`,
          ),
        ),
      ),
    ).toMatch(/row-level security/);
    await expect(
      app.ctx.database.withTenant(a.tenant.id, (tx) =>
        tx.execute(sql`update users set first_name = 'x' where tenant_id = ${b.tenant.id} returning id`),
      ),
    ).resolves.toMatchObject({ rows: [] });
  });

  it('the app role cannot UPDATE, DELETE or TRUNCATE the audit log', async () => {
    const { tenant, admin } = await newTenant(app);
    await login(app, tenant.id, admin.email);
    for (const stmt of [
      sql`update audit_log set success = false where tenant_id = ${tenant.id}`,
      sql`delete from audit_log where tenant_id = ${tenant.id}`,
      sql`truncate audit_log`,
    ]) {
      expect(await pgError(app.ctx.database.withTenant(tenant.id, (tx) => tx.execute(stmt)))).toMatch(
        /permission denied/,
      );
    }
    // Even the owner is stopped by the trigger.
    expect(
      await pgError(app.ctx.database.query('delete from audit_log where tenant_id = $1', [tenant.id])),
    ).toMatch(/append-only/);
  });
});
