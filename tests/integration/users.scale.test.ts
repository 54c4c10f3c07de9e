/**
 * GET /users at scale (issue 25): the counter behind `total`, the capped search count, keyset pages and deep
 * skips. Runs on both backends; the plans themselves are pinned on PostgreSQL by scale.explain.test.ts.
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchTrigramSample } from '../../src/modules/users/repository.js';
import { commonTrigrams, indexPatternFor } from '../../src/modules/users/search-index-pattern.js';
import { createTestApp } from '../helpers/app.js';
import { newUser } from '../helpers/factories.js';
import { type Caller, tenantOwner } from '../helpers/rbac.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app?.close();
});

const BULK = 1500; // above the search count cap (1000)

/** BULK users in one statement (every third inactive), as an import or the bench seeds them. */
async function bulkUsers(tenantId: number) {
  await app.ctx.database.withSystem((tx) =>
    tx.execute(sql`insert into users (tenant_id, email, first_name, last_name, is_active)
      select ${tenantId}, 'bulk' || g || '@scale.test', 'Bulk', 'Person' || g, g % 3 <> 0
      from generate_series(1, ${BULK}) g`),
  );
}

async function list(owner: Caller, query: string) {
  const res = await owner.call('GET', `/api/v1/users?${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as {
    users: { id: number; email: string; is_active: boolean }[];
    total: number;
    total_is_exact: boolean;
    next_cursor: string | null;
  };
}

describe('users at scale', () => {
  it('total comes from a counter kept in the same transaction: bulk insert, deactivation, deletion', async () => {
    const { owner } = await tenantOwner(app);
    await bulkUsers(owner.tenantId);
    const inactive = Math.floor(BULK / 3);
    let all = await list(owner, 'limit=1');
    expect(all).toMatchObject({ total: BULK + 1, total_is_exact: true });
    expect((await list(owner, 'is_active=false&limit=1')).total).toBe(inactive);
    expect((await list(owner, 'is_active=true&limit=1')).total).toBe(BULK + 1 - inactive);

    const u = await newUser(app, owner.tenantId, { email: 'counted@scale.test' });
    expect((await owner.call('POST', `/api/v1/users/${u.id}/deactivate`)).statusCode).toBe(200);
    expect((await list(owner, 'is_active=false&limit=1')).total).toBe(inactive + 1);
    // An update that does not change is_active leaves the counter alone.
    expect((await owner.call('PUT', `/api/v1/users/${u.id}`, { first_name: 'Renamed' })).statusCode).toBe(
      200,
    );
    expect((await owner.call('POST', `/api/v1/users/${u.id}/activate`)).statusCode).toBe(200);
    expect((await list(owner, 'is_active=false&limit=1')).total).toBe(inactive);
    expect((await owner.call('DELETE', `/api/v1/users/${u.id}`)).statusCode).toBe(204);
    all = await list(owner, 'limit=1');
    expect(all.total).toBe(BULK + 1);

    // The counter agrees with count(*) (what the triggers must keep true).
    const [row] = (await app.ctx.database.query(
      'select (select count(*) from users where tenant_id = $1)::int as n, (select count(*) from users where tenant_id = $1 and is_active)::int as a, (select total from user_counts where tenant_id = $1)::int as total, (select active from user_counts where tenant_id = $1)::int as active',
      [owner.tenantId],
    )) as { n: number; a: number; total: number; active: number }[];
    expect(row).toEqual({
      n: BULK + 1,
      a: BULK + 1 - inactive,
      total: BULK + 1,
      active: BULK + 1 - inactive,
    });
  });

  it('a search counts exactly up to the cap, then says total_is_exact: false', async () => {
    const { owner } = await tenantOwner(app);
    await bulkUsers(owner.tenantId);
    const many = await list(owner, 'search=scale.test&limit=5');
    expect(many).toMatchObject({ total: 1000, total_is_exact: false });
    expect(many.users).toHaveLength(5);
    // "Person12" matches Person12, Person120..129, Person1200..1299: 1 + 10 + 100.
    expect(await list(owner, 'search=person12&limit=100')).toMatchObject({
      total: 111,
      total_is_exact: true,
    });
    // The full name: "Bulk Person7" matches first and last name together.
    expect((await list(owner, 'search=Bulk%20Person7&limit=1')).total).toBe(1 + 10 + 100);
    expect(
      (await list(owner, 'search=Person12&is_active=false&limit=100')).users.every((u) => !u.is_active),
    ).toBe(true);
    // Page and count come from one statement; a page inside, a cursor page and a page past the end keep the
    // same total (the last one counts on its own: no row carries it).
    const all = [
      ...(await list(owner, 'search=person12&limit=100')).users,
      ...(await list(owner, 'search=person12&skip=100&limit=100')).users,
    ].map((u) => u.id);
    expect(all).toHaveLength(111);
    const inside = await list(owner, 'search=person12&skip=100&limit=20');
    expect(inside).toMatchObject({ total: 111, total_is_exact: true });
    expect(inside.users.map((u) => u.id)).toEqual(all.slice(100, 111));
    const byCursor = await list(owner, `search=person12&limit=5&cursor=${all[104]}`);
    expect(byCursor.users.map((u) => u.id)).toEqual(all.slice(105, 110));
    expect(byCursor.total).toBe(111);
    const past = await list(owner, 'search=person12&skip=500&limit=20');
    expect(past).toMatchObject({ total: 111, total_is_exact: true, users: [] });
    expect(await list(owner, 'search=no-such-person&limit=20')).toMatchObject({ total: 0, users: [] });
  });

  it('keyset pages (cursor → next_cursor) and deep skips return the same users as one long walk', async () => {
    const { owner } = await tenantOwner(app);
    await bulkUsers(owner.tenantId);
    const ids: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await list(owner, `limit=100&is_active=true${cursor ? `&cursor=${cursor}` : ''}`);
      ids.push(...page.users.map((u) => u.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    const active = BULK + 1 - Math.floor(BULK / 3);
    expect(ids).toHaveLength(active);
    expect(pages).toBe(Math.ceil(active / 100));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);

    // skip counts positions, with or without a cursor, filtered or not.
    const deep = await list(owner, 'skip=777&limit=10&is_active=true');
    expect(deep.users.map((u) => u.id)).toEqual(ids.slice(777, 787));
    expect(deep.next_cursor).toBe(String(ids[786]));
    const afterCursor = await list(owner, `skip=5&limit=3&is_active=true&cursor=${ids[99]}`);
    expect(afterCursor.users.map((u) => u.id)).toEqual(ids.slice(105, 108));
    const tail = await list(owner, `skip=${active - 2}&limit=10&is_active=true`);
    expect(tail.users.map((u) => u.id)).toEqual(ids.slice(-2));
    expect(tail.next_cursor).toBeNull();
    expect((await list(owner, `skip=${active + 5}&is_active=true`)).users).toEqual([]);
    const searched = await list(owner, 'search=person1&skip=50&limit=5');
    const searchedAll = await list(owner, 'search=person1&limit=100');
    expect(searched.users.map((u) => u.id)).toEqual(searchedAll.users.slice(50, 55).map((u) => u.id));
    // A cursor past every id is an empty page, not a database error.
    expect((await list(owner, 'cursor=9999999999')).users).toEqual([]);
    expect((await owner.call('GET', '/api/v1/users?cursor=abc')).statusCode).toBe(422);
  });

  // Issue 25: in a large tenant the trigram indexes are asked only for the needle's rare run (its common
  // trigrams, here 'bul', 'sca', 'per'…, are in every row); the rows must still match the whole needle.
  it('a search asks the index for the rare part of the needle only, and answers exactly what the needle matches', async () => {
    const { owner } = await tenantOwner(app);
    await bulkUsers(owner.tenantId);
    const sample = await app.ctx.database.withTenant(owner.tenantId, (tx) =>
      searchTrigramSample(tx, owner.tenantId),
    );
    const common = commonTrigrams(sample.counts, sample.sampled);
    expect(sample.sampled).toBeGreaterThanOrEqual(900);
    expect(common.has('bul') && common.has('sca') && common.has('per')).toBe(true);
    expect(indexPatternFor('bulk1234@scale', common)).toBe('%1234%');

    // One more user whose address has the rare run of 'bulk1234@scale' but not the needle: only the check of the
    // whole needle on the candidates keeps it out.
    await newUser(app, owner.tenantId, { email: 'zz1234@elsewhere.test' });
    const people = [
      ...Array.from({ length: BULK }, (_, i) => ({
        email: `bulk${i + 1}@scale.test`,
        name: `Bulk Person${i + 1}`,
      })),
      { email: 'zz1234@elsewhere.test', name: '' },
    ];
    const known = new Set(people.map((p) => p.email));
    const needles = [
      'bulk1234@scale',
      'BULK1234',
      'Person777',
      'son1499',
      'k99@sc',
      'erson14',
      '1111',
      'bulk9',
      'scale.test',
      'nobody-here',
      'zz1234',
    ];
    for (const needle of needles) {
      const want = people
        .filter((p) => `${p.email}\u0000${p.name}`.toLowerCase().includes(needle.toLowerCase()))
        .map((p) => p.email)
        .sort();
      const got: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await list(
          owner,
          `search=${encodeURIComponent(needle)}&limit=100${cursor ? `&cursor=${cursor}` : ''}`,
        );
        got.push(...page.users.map((u) => u.email).filter((e) => known.has(e)));
        cursor = page.next_cursor;
      } while (cursor);
      expect(got.sort(), needle).toEqual(want);
      // The function answers the same ids with the rare run as without it.
      const run = indexPatternFor(needle, common);
      if (run === null) continue;
      const [withRun, withoutRun] = await app.ctx.database.withTenant(owner.tenantId, async (tx) => {
        const pattern = `%${needle}%`;
        const a = await tx.execute<{ id: number }>(
          sql`select id from app_user_search(${pattern}, ${run}) order by id`,
        );
        const b = await tx.execute<{ id: number }>(
          sql`select id from app_user_search(${pattern}) order by id`,
        );
        return [a.rows.map((r) => r.id), b.rows.map((r) => r.id)];
      });
      expect(withRun, `${needle} via ${run}`).toEqual(withoutRun);
    }
  });
});
