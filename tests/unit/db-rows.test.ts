/**
 * Issue 23 item 7: the repository helpers of src/platform/db/rows.ts, on a real (embedded) PostgreSQL: no app,
 * no migrations, one table of its own.
 */
import { PGlite } from '@electric-sql/pglite';
import { eq, sql } from 'drizzle-orm';
import { integer, PgDialect, pgTable, serial, text } from 'drizzle-orm/pg-core';
import { drizzle } from 'drizzle-orm/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstOrNull, ofTenant, one } from '../../src/platform/db/rows.js';

const things = pgTable('things', {
  id: serial('id').primaryKey(),
  tenantId: integer('tenant_id').notNull(),
  name: text('name').notNull(),
  secret: text('secret'),
});
const thingColumns = { id: things.id, tenantId: things.tenantId, name: things.name };

let client: PGlite;
let db: ReturnType<typeof drizzle>;
beforeAll(async () => {
  client = new PGlite();
  db = drizzle(client);
  await client.exec(`
    create table things (id serial primary key, tenant_id int not null, name text not null, secret text);
    insert into things (tenant_id, name, secret) values (1, 'a', 's1'), (1, 'b', 's2'), (2, 'a', 's3');
  `);
});
afterAll(async () => {
  await client?.close();
});

describe('firstOrNull', () => {
  it('returns the first row, or null for none', () => {
    expect(firstOrNull([{ a: 1 }, { a: 2 }])).toEqual({ a: 1 });
    expect(firstOrNull([])).toBeNull();
  });
});

describe('ofTenant', () => {
  it('is tenant_id = $1 AND the conditions given, skipping undefined ones', () => {
    const q = new PgDialect().sqlToQuery(ofTenant(things, 7, eq(things.name, 'x'), undefined));
    expect(q.sql).toBe('("things"."tenant_id" = $1 and "things"."name" = $2)');
    expect(q.params).toEqual([7, 'x']);
    const alone = new PgDialect().sqlToQuery(ofTenant(things, 7));
    expect(alone.sql).toBe('"things"."tenant_id" = $1');
  });
});

describe('one', () => {
  it("returns the tenant's row, with only the selected columns", async () => {
    const row = await one(
      db
        .select(thingColumns)
        .from(things)
        .where(ofTenant(things, 2, eq(things.name, 'a'))),
    );
    expect(row).toEqual({ id: 3, tenantId: 2, name: 'a' });
    expect(row).not.toHaveProperty('secret');
  });

  it("returns null for another tenant's row", async () => {
    const row = await one(
      db
        .select(thingColumns)
        .from(things)
        .where(ofTenant(things, 2, eq(things.name, 'b'))),
    );
    expect(row).toBeNull();
  });

  it('asks the database for one row (LIMIT 1), not all of them', async () => {
    let statement = '';
    const query = db
      .select(thingColumns)
      .from(things)
      .where(ofTenant(things, 1))
      .orderBy(sql`${things.id} desc`);
    const spy = {
      limit(n: number) {
        const limited = query.limit(n);
        statement = limited.toSQL().sql;
        return limited;
      },
    };
    expect(await one(spy)).toEqual({ id: 2, tenantId: 1, name: 'b' });
    expect(statement).toMatch(/ limit \$\d+$/);
  });

  it('works after FOR UPDATE inside a transaction', async () => {
    const row = await db.transaction((tx) =>
      one(
        tx
          .select(thingColumns)
          .from(things)
          .where(ofTenant(things, 1, eq(things.id, 1)))
          .for('update'),
      ),
    );
    expect(row).toEqual({ id: 1, tenantId: 1, name: 'a' });
  });
});
