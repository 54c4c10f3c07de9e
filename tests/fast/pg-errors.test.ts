/**
 * pgErrorOf (src/platform/db/errors.ts) is how every module turns a database refusal into an answer (409 on a
 * unique key, a scrub on a foreign key, a retry on a race). These pin it against the real driver errors as drizzle
 * wraps them, on the backend in use (PGlite or PostgreSQL), so a driver or drizzle upgrade that moves the SQLSTATE
 * fails here rather than as a 500 in production.
 */
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/platform/db/client.js';
import { pgErrorOf } from '../../src/platform/db/errors.js';
import { testDatabase } from '../helpers/app.js';

let database: Database;
beforeAll(async () => {
  database = await testDatabase();
});

async function refusal(statements: ReturnType<typeof sql>[]): Promise<unknown> {
  try {
    await database.withSystem(async (tx) => {
      for (const s of statements) await tx.execute(s);
    });
  } catch (err) {
    return err;
  }
  throw new Error('the database accepted what it should refuse');
}

describe('pgErrorOf', () => {
  it('finds a unique violation (23505) and its constraint under the wrapper', async () => {
    const err = await refusal([
      sql`create temp table pg_errors_u (id int constraint pg_errors_u_pkey primary key) on commit drop`,
      sql`insert into pg_errors_u values (1)`,
      sql`insert into pg_errors_u values (1)`,
    ]);
    expect(pgErrorOf(err)).toEqual({ code: '23505', constraint: 'pg_errors_u_pkey' });
  });

  it('finds a foreign-key violation (23503) and an invalid value (22P02)', async () => {
    const fk = await refusal([
      sql`create temp table pg_errors_p (id int primary key) on commit drop`,
      sql`create temp table pg_errors_c (p int constraint pg_errors_c_p_fkey references pg_errors_p (id)) on commit drop`,
      sql`insert into pg_errors_c values (7)`,
    ]);
    expect(pgErrorOf(fk)?.code).toBe('23503');
    expect(pgErrorOf(await refusal([sql`select 'not a number'::int`]))?.code).toBe('22P02');
  });

  it('is null for what is not a database refusal, however deep the wrapping', () => {
    expect(pgErrorOf(new Error('plain'))).toBeNull();
    expect(pgErrorOf({ code: 'FST_ERR_VALIDATION' })).toBeNull();
    expect(pgErrorOf(undefined)).toBeNull();
    const deep = { cause: { cause: { cause: { code: '40001' } } } };
    expect(pgErrorOf(deep)).toEqual({ code: '40001' });
  });
});
