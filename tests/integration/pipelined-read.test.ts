/**
 * Issue 12: Database.readTenant sends the RLS context and the reads a request issues together in one round trip
 * (one extended-protocol pipeline, one Sync, one implicit transaction) on PostgreSQL. RLS stays the backstop.
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant } from '../helpers/factories.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app?.close();
});

type Row = Record<string, unknown>;

describe('issue 12 pipelined reads (readTenant)', () => {
  it('runs every statement as the RLS role with the tenant context', async () => {
    const { tenant } = await newTenant(app);
    const [a, b] = await app.ctx.database.readTenant(tenant.id, (tx) =>
      Promise.all([
        tx.execute<Row>(sql`select current_user as who, current_setting('app.tenant_id') as t`),
        tx.execute<Row>(sql`select current_setting('app.tenant_id') as t, ${'x'}::text as p`),
      ]),
    );
    expect(a.rows[0]).toEqual({ who: 'massacorp_app', t: String(tenant.id) });
    expect(b.rows[0]).toEqual({ t: String(tenant.id), p: 'x' });
  });

  it("RLS hides another tenant's rows even when the statement asks for them", async () => {
    const one = await newTenant(app);
    const two = await newTenant(app);
    const [mine, theirs] = await app.ctx.database.readTenant(one.tenant.id, (tx) =>
      Promise.all([
        tx.execute<Row>(sql`select id from users where tenant_id = ${one.tenant.id}`),
        tx.execute<Row>(sql`select id from users where tenant_id = ${two.tenant.id}`),
      ]),
    );
    expect(mine.rows.map((r) => Number(r.id))).toEqual([one.admin.id]);
    expect(theirs.rows).toEqual([]);
  });

  it('queries issued after an await travel in a later pipeline, still behind the context', async () => {
    const { tenant } = await newTenant(app);
    const out = await app.ctx.database.readTenant(tenant.id, async (tx) => {
      const first = await tx.execute<Row>(sql`select 1 as n`);
      const second = await tx.execute<Row>(sql`select current_setting('app.tenant_id') as t`);
      return [first.rows[0], second.rows[0]];
    });
    expect(out).toEqual([{ n: 1 }, { t: String(tenant.id) }]);
  });

  it('a failing statement fails the read, and the connection serves the next one', async () => {
    const { tenant } = await newTenant(app);
    await expect(
      app.ctx.database.readTenant(tenant.id, (tx) =>
        Promise.all([tx.execute(sql`select 1`), tx.execute(sql`select 1/0`), tx.execute(sql`select 2`)]),
      ),
    ).rejects.toThrow();
    for (let i = 0; i < 25; i++) {
      const r = await app.ctx.database.readTenant(tenant.id, (tx) =>
        tx.execute<Row>(sql`select current_setting('app.tenant_id') as t`),
      );
      expect(r.rows[0]).toEqual({ t: String(tenant.id) });
    }
    // The context ended with the implicit transaction: a plain query on the pool is not in the tenant any more.
    const rows = await Promise.all(
      Array.from({ length: 25 }, () =>
        app.ctx.database.query<Row>(
          "select current_user as who, coalesce(current_setting('app.tenant_id', true), '') as t",
        ),
      ),
    );
    for (const [r] of rows) expect(r).toMatchObject({ t: '' });
    for (const [r] of rows) expect(r!.who).not.toBe('massacorp_app');
  });

  it.runIf(Boolean(process.env.DATABASE_URL))(
    'GET /users/{id}: one message exchange with PostgreSQL (context + user + MFA state)',
    async () => {
      const { tenant, admin } = await newTenant(app);
      const t = await login(app, tenant.id, admin.email);
      const url = `/api/v1/users/${admin.id}`;
      expect((await app.inject({ url, headers: bearer(t) })).statusCode).toBe(200);
      const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
      const original = proto.query;
      let exchanges = 0;
      proto.query = function (this: unknown, ...args: unknown[]) {
        exchanges++;
        return original.apply(this, args);
      };
      try {
        const res = await app.inject({ url, headers: bearer(t) });
        expect(res.statusCode).toBe(200);
        expect(res.json()).toMatchObject({ id: admin.id, email: admin.email, roles: ['owner'] });
      } finally {
        proto.query = original;
      }
      expect(exchanges).toBe(1);
    },
  );
});
