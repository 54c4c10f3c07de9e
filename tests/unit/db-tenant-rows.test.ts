/**
 * src/platform/db/tenant-rows.ts on a real (embedded) PostgreSQL: no app, no migrations, one table of its own.
 * What matters: every method keeps to the tenant it is given (another tenant's rows are never read, changed or
 * removed), and reads and RETURNING carry only the bound columns (never `secret`).
 */
import { PGlite } from '@electric-sql/pglite';
import { asc, desc, eq, gt } from 'drizzle-orm';
import { integer, pgTable, serial, text } from 'drizzle-orm/pg-core';
import { drizzle } from 'drizzle-orm/pglite';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Executor } from '../../src/platform/db/client.js';
import { tenantRows } from '../../src/platform/db/tenant-rows.js';

const things = pgTable('things', {
  id: serial('id').primaryKey(),
  tenantId: integer('tenant_id').notNull(),
  name: text('name').notNull(),
  secret: text('secret'),
});
const thingRows = tenantRows(things, { id: things.id, tenantId: things.tenantId, name: things.name });

const client = new PGlite();
// The app types both backends as node-postgres (client.ts); drizzle's API over PGlite is the same.
const db = drizzle(client) as unknown as Executor;

beforeEach(async () => {
  await client.exec(`
    drop table if exists things;
    create table things (id serial primary key, tenant_id int not null, name text not null, secret text);
    insert into things (tenant_id, name, secret) values (1, 'a', 's1'), (1, 'b', 's2'), (2, 'a', 's3');
  `);
});
afterAll(async () => {
  await client.close();
});

const secretsOf = async (tenantId: number) =>
  (
    await client.query<{ name: string; secret: string | null }>(
      `select name, secret from things where tenant_id = ${tenantId} order by id`,
    )
  ).rows;

describe('tenantRows reads', () => {
  it("find and findById return the tenant's row with the bound columns only", async () => {
    expect(await thingRows.find(db, 2, eq(things.name, 'a'))).toEqual({ id: 3, tenantId: 2, name: 'a' });
    expect(await thingRows.findById(db, 1, 2)).toEqual({ id: 2, tenantId: 1, name: 'b' });
    expect(await thingRows.findById(db, 1, 2)).not.toHaveProperty('secret');
  });

  it("never finds another tenant's row", async () => {
    expect(await thingRows.find(db, 2, eq(things.name, 'b'))).toBeNull();
    expect(await thingRows.findById(db, 2, 1)).toBeNull();
    expect(await thingRows.lockById(db, 2, 1)).toBeNull();
  });

  it('lock and lockById work inside a transaction', async () => {
    const row = await (db as unknown as ReturnType<typeof drizzle>).transaction((tx) =>
      thingRows.lockById(tx as unknown as Executor, 1, 1),
    );
    expect(row).toEqual({ id: 1, tenantId: 1, name: 'a' });
  });

  it('list: only the tenant, in the order asked, paged by offset or by keyset', async () => {
    await client.exec(`insert into things (tenant_id, name) values (1, 'c'), (1, 'd')`);
    const all = await thingRows.list(db, 1, { orderBy: [desc(things.id)] });
    expect(all.map((r) => r.name)).toEqual(['d', 'c', 'b', 'a']);
    const page = await thingRows.list(db, 1, { orderBy: [asc(things.id)], offset: 1, limit: 2 });
    expect(page.map((r) => r.name)).toEqual(['b', 'c']);
    const after = await thingRows.list(db, 1, {
      where: [gt(things.id, 2)],
      orderBy: [asc(things.id)],
      limit: 1,
    });
    expect(after.map((r) => r.name)).toEqual(['c']);
    expect(await thingRows.list(db, 3, { orderBy: [asc(things.id)] })).toEqual([]);
  });

  it("pick and pluck read one column of the tenant's rows only", async () => {
    expect(await thingRows.pick(db, 1, things.id, eq(things.name, 'b'))).toBe(2);
    expect(await thingRows.pick(db, 2, things.id, eq(things.name, 'b'))).toBeNull();
    expect(await thingRows.pick(db, 2, things.name, eq(things.id, 1))).toBeNull();
    expect(await thingRows.pluck(db, 1, things.name, { orderBy: [desc(things.name)] })).toEqual(['b', 'a']);
    expect(await thingRows.pluck(db, 2, things.id, { where: [eq(things.name, 'a')] })).toEqual([3]);
    expect(await thingRows.pluck(db, 3, things.id, {})).toEqual([]);
  });

  it('where: tenant_id first, then the conditions (undefined ones skipped)', () => {
    const q = (db as unknown as ReturnType<typeof drizzle>)
      .select({ id: things.id })
      .from(things)
      .where(thingRows.where(7, eq(things.name, 'x'), undefined))
      .toSQL();
    expect(q.sql).toContain('where ("things"."tenant_id" = $1 and "things"."name" = $2)');
    expect(q.params).toEqual([7, 'x']);
  });
});

describe('tenantRows writes', () => {
  it('insert sets the tenant itself and returns the bound columns', async () => {
    const row = await thingRows.insert(db, 2, { name: 'new', secret: 'kept' });
    expect(row).toEqual({ id: 4, tenantId: 2, name: 'new' });
    expect(await secretsOf(2)).toEqual([
      { name: 'a', secret: 's3' },
      { name: 'new', secret: 'kept' },
    ]);
  });

  it("insert cannot be handed another tenant: the argument wins over the row's", async () => {
    const values = { name: 'smuggled', tenantId: 1 } as { name: string };
    expect((await thingRows.insert(db, 2, values)).tenantId).toBe(2);
  });

  it("update, updateOne and updateReturning change the tenant's rows only", async () => {
    expect(await thingRows.update(db, 2, { name: 'x' }, eq(things.id, 1))).toBe(0);
    expect(await thingRows.updateOne(db, 2, { name: 'x' }, eq(things.id, 1))).toBeNull();
    expect(await thingRows.update(db, 1, { name: 'x' }, eq(things.id, 1))).toBe(1);
    expect(await thingRows.updateOne(db, 1, { name: 'y' }, eq(things.id, 2))).toEqual({
      id: 2,
      tenantId: 1,
      name: 'y',
    });
    const all = await thingRows.updateReturning(db, 1, { secret: null });
    expect(all.map((r) => r.id).sort()).toEqual([1, 2]);
    expect(await secretsOf(2)).toEqual([{ name: 'a', secret: 's3' }]);
  });

  it('an update cannot move a row to another tenant: a type error, and refused if a cast got it through', async () => {
    // @ts-expect-error tenantId is not among what an update may set
    const moving = thingRows.update(db, 1, { tenantId: 2 }, eq(things.id, 1));
    await expect(moving).rejects.toThrow('an update of things may not set tenant_id');
    expect(await secretsOf(1)).toHaveLength(2);
  });

  it("delete and deleteReturning remove the tenant's rows only", async () => {
    expect(await thingRows.delete(db, 2, eq(things.id, 1))).toBe(0);
    expect(await thingRows.deleteReturning(db, 2, eq(things.id, 1))).toEqual([]);
    expect(await thingRows.deleteReturning(db, 1, eq(things.id, 1))).toEqual([
      { id: 1, tenantId: 1, name: 'a' },
    ]);
    expect(await thingRows.delete(db, 1)).toBe(1);
    expect(await secretsOf(1)).toEqual([]);
    expect(await secretsOf(2)).toEqual([{ name: 'a', secret: 's3' }]);
  });
});
