/**
 * Issue 25's guard in CI: at 100,000 users and 500,000 audit records in one tenant (bulk-seeded with
 * generate_series in a database of the file's own), PostgreSQL's own EXPLAIN of every list, search and filter
 * query must not scan the tenant's rows sequentially nor OFFSET past its page (a deep `skip` may walk only an
 * index, never the table). The queries are the repositories' own, captured as they are sent.
 * PostgreSQL only: PGlite's planner sees the same SQL, but the plans that matter are the server's.
 */
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as auditRepo from '../../src/modules/audit/repository.js';
import { mfaEnabledSql } from '../../src/modules/mfa/repository.js';
import * as usersRepo from '../../src/modules/users/repository.js';
import { commonTrigrams, indexPatternFor } from '../../src/modules/users/search-index-pattern.js';
import type { Tx } from '../../src/platform/db/client.js';
import { createDatabase } from '../../src/platform/db/client.js';
import { migrate } from '../../src/platform/db/migrator.js';
import { usingPostgres } from '../helpers/app.js';
import { createPrivateDatabase, type PrivateDatabase } from '../helpers/private-database.js';

const USERS = 100_000;
const AUDIT = 500_000;
const DAY = 86_400_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');
/** The big tenant's records came first: record 250,000 is the middle of the year, dated as inserted. */
const MIDDLE = { id: 250_000, at: new Date(T0 + 250_000 * ((365 * DAY) / AUDIT)) };

/** audit_log's monthly (and default) partitions are audit_log: a sequential scan of one is a scan of the table. */
const parentOf = (relation: string) => relation.replace(/^audit_log_(p\d{6}|default)$/, 'audit_log');

interface Plan {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: Plan[];
}
interface Captured {
  text: string;
  values: unknown[];
  plan: Plan;
}

let priv: PrivateDatabase | undefined;
let client: pg.Client | undefined;
let big = 0;

/** Runs `fn` with the repositories on a recorder: every statement is EXPLAINed, then run for real. */
async function capture(tenantId: number, fn: (tx: Tx) => Promise<unknown>): Promise<Captured[]> {
  const c = client!;
  const out: Captured[] = [];
  await c.query('begin');
  try {
    await c.query(`select set_config('role', 'massacorp_app', true), set_config('app.tenant_id', $1, true)`, [
      String(tenantId),
    ]);
    const recorder = {
      query: async (config: string | { text: string; values?: unknown[] }, values?: unknown[]) => {
        const text = typeof config === 'string' ? config : config.text;
        const params = (typeof config === 'string' ? values : (config.values ?? values)) ?? [];
        const r = await c.query({ text: `explain (format json) ${text}`, values: params as unknown[] });
        out.push({
          text,
          values: params as unknown[],
          plan: (r.rows[0] as { 'QUERY PLAN': { Plan: Plan }[] })['QUERY PLAN'][0]!.Plan,
        });
        return c.query(config as never, values as never);
      },
    };
    await fn(drizzle(recorder as unknown as pg.PoolClient) as unknown as Tx);
  } finally {
    await c.query('rollback');
  }
  return out;
}

function nodes(p: Plan): Plan[] {
  return [p, ...(p.Plans ?? []).flatMap(nodes)];
}

// user_counts holds one row per tenant (not a tenant's rows): a scan of it is as flat as its primary key.
const TENANT_TABLES = new Set(['users', 'audit_log']);

/** No sequential scan of a tenant table; OFFSET only inside an index-only walk (the deferred join of a deep skip). */
function assertFlat(what: string, captured: Captured[], offsetIndexOnly = true) {
  expect(captured.length, `${what}: no statement captured`).toBeGreaterThan(0);
  for (const q of captured) {
    const all = nodes(q.plan);
    const seq = all.filter(
      (n) => n['Node Type'] === 'Seq Scan' && TENANT_TABLES.has(parentOf(n['Relation Name'] ?? '')),
    );
    expect(seq, `${what}: sequential scan in\n${q.text}\n${JSON.stringify(q.plan, null, 1)}`).toEqual([]);
    if (offsetIndexOnly && /\boffset\b/i.test(q.text)) {
      const scans = all.filter((n) => /Scan/.test(n['Node Type']) && n['Relation Name'] === 'users');
      expect(
        scans.some((n) => n['Node Type'] === 'Index Only Scan'),
        `${what}: OFFSET not over an index-only scan in\n${q.text}\n${JSON.stringify(q.plan, null, 1)}`,
      ).toBe(true);
    }
  }
}

describe.skipIf(!usingPostgres)(
  'plans at scale (PostgreSQL only: the embedded backend has no server planner to pin)',
  () => {
    beforeAll(async () => {
      priv = await createPrivateDatabase('mc_explain');
      const database = await createDatabase({
        databaseUrl: priv.url,
        pgliteDir: '',
        dbPoolMax: 2,
        dbConnectTimeoutMs: 10_000,
        dbStatementTimeoutMs: 0,
      });
      try {
        await migrate(database);
      } finally {
        await database.close();
      }
      client = new pg.Client({ connectionString: priv.url });
      await client.connect();
      const r = await client.query<{ id: number }>(
        `insert into tenants (slug, name) values ('big', 'Big'), ('small-1', 'Small 1'), ('small-2', 'Small 2') returning id`,
      );
      big = r.rows[0]!.id;
      // Users: the big tenant and two small ones beside it; every tenth inactive.
      await client.query(
        `insert into users (tenant_id, email, first_name, last_name, is_active, created_at)
       select t.id, 'user' || g || '.' || t.slug || '@example.com', 'First' || (g % 1000), 'Surname' || g, g % 10 <> 0,
         now() - make_interval(secs => g)
       from tenants t, generate_series(1, case when t.slug = 'big' then $1::int else 1000 end) g`,
        [USERS],
      );
      // Audit records over a year (hashes are not the point here, and nothing verifies this database's chain),
      // in their monthly partitions, as a deployment of that age has them (drizzle/0034).
      await client.query(`select audit_log_ensure_partitions($1::timestamptz, now())`, [
        new Date(T0).toISOString(),
      ]);
      await client.query(
        `insert into audit_log (tenant_id, seq, event_type, actor_type, actor_id, resource_type, resource_id, success,
         metadata, created_at, prev_hash, hash)
       select t.id, g, (array['auth.login_success','auth.login_failed','user.updated','role.assigned'])[1 + g % 4],
         'user', (g % 5000)::text, 'user', (g % 5000)::text, g % 7 <> 0, '{}'::jsonb,
         $2::timestamptz + make_interval(secs => g * (365.0 * 86400 / $1::int)), md5(g::text), md5(g::text)
       from tenants t, generate_series(1, case when t.slug = 'big' then $1::int else 5000 end) g`,
        [AUDIT, new Date(T0).toISOString()],
      );
      await client.query('vacuum analyze users');
      await client.query('vacuum analyze audit_log');
      await client.query('analyze user_counts');
    }, 240_000);

    afterAll(async () => {
      await client?.end();
      await priv?.drop();
    });

    it('users: the first page, a keyset page, a deep skip, filters and searches', async () => {
      const page = { skip: 0, limit: 20 };
      const cases: [string, usersRepo.UserListFilter][] = [
        ['GET /users', page],
        ['GET /users?cursor', { ...page, afterId: 50_000 }],
        ['GET /users?skip=50000', { ...page, skip: 50_000 }],
        ['GET /users?is_active=false', { ...page, isActive: false }],
        ['GET /users?is_active=false&skip=5000', { ...page, isActive: false, skip: 5000 }],
      ];
      for (const [what, f] of cases)
        assertFlat(what, await capture(big, (tx) => usersRepo.listUsers(tx, big, f)));
    });

    // Issue 20: the console's sorts, with the list's columns (roles and MFA as per-row sub-selects), walk the
    // sort's own index (drizzle/0038); a deep skip finds the page's ids in it by an index-only scan. With the
    // active filter too, PostgreSQL may rather read the filter's rows by users_tenant_active_id_idx and sort them
    // (no index leads with both): never a sequential scan of the tenant, but not a walk of the index alone.
    it('users: sorted pages with the list columns, deep skips and the active filter', async () => {
      const page = { skip: 0, limit: 20, annotate: { hasMfa: mfaEnabledSql } };
      const sorts = [
        'email',
        '-email',
        'created_at',
        '-created_at',
        'last_login_at',
        '-last_login_at',
      ] as const;
      for (const sort of sorts) {
        for (const [what, f] of [
          [`GET /users?sort=${sort}`, { ...page, sort }],
          [`GET /users?sort=${sort}&skip=50000`, { ...page, sort, skip: 50_000 }],
        ] as const)
          assertFlat(what, await capture(big, (tx) => usersRepo.listUsers(tx, big, f)));
        const filtered = { ...page, sort, isActive: false, skip: 5000 };
        assertFlat(
          `GET /users?sort=${sort}&is_active=false&skip=5000`,
          await capture(big, (tx) => usersRepo.listUsers(tx, big, filtered)),
          false,
        );
      }
    });

    // Under RLS PostgreSQL will not use ILIKE (not LEAKPROOF) as an index condition ahead of the policy's qual,
    // so the search takes its ids from app_user_search (drizzle/0031), which runs as the owner and confines
    // itself to the tenant. The outer plans are checked as the others; the function's own plan is checked below.
    it('users: searches (ids from app_user_search, rows under RLS)', async () => {
      const page = { skip: 0, limit: 20 };
      const cases: [string, usersRepo.UserListFilter][] = [
        ['GET /users?search=<email part>', { ...page, search: 'user4242' }],
        ['GET /users?search=<surname part>', { ...page, search: 'surname777' }],
        ['GET /users?search&is_active=false', { ...page, search: 'user4242', isActive: false }],
      ];
      for (const [what, f] of cases) {
        const captured = await capture(big, (tx) => usersRepo.listUsers(tx, big, f));
        assertFlat(what, captured);
        const functionScans = captured.flatMap((q) =>
          nodes(q.plan).filter((n) => n['Node Type'] === 'Function Scan'),
        );
        expect(functionScans.length, `${what}: the search goes through app_user_search`).toBeGreaterThan(0);
      }
    });

    it("app_user_search's own plan uses the pg_trgm indexes, and it answers only the caller's tenant", async () => {
      const c = client!;
      const fn = await c.query<{ src: string; definer: boolean }>(
        `select prosrc as src, prosecdef as definer from pg_proc where proname = 'app_user_search'`,
      );
      expect(fn.rows[0]?.definer).toBe(true);
      const body = fn.rows[0]!.src.replace(/\bp_pattern\b/g, '$1::text').replace(
        /\bp_index_pattern\b/g,
        '$2::text',
      );
      await c.query('begin');
      try {
        // As the owner (the function's definer), in the big tenant: the body as PostgreSQL plans it there, with
        // the needle alone and with the rare run the app passes beside it (drizzle/0045).
        await c.query(`select set_config('app.tenant_id', $1, true)`, [String(big)]);
        for (const [pattern, run] of [
          ['%user4242%', null],
          ['%Surname777%', null],
          ['%user4242.big%', '%r4242%'],
        ]) {
          const r = await c.query({ text: `explain (format json) ${body}`, values: [pattern, run] });
          const plan = (r.rows[0] as { 'QUERY PLAN': { Plan: Plan }[] })['QUERY PLAN'][0]!.Plan;
          const all = nodes(plan);
          expect(
            all.filter((n) => n['Node Type'] === 'Seq Scan'),
            `${pattern}: ${JSON.stringify(plan)}`,
          ).toEqual([]);
          expect(
            all.some((n) => /trgm/.test(n['Index Name'] ?? '')),
            `${pattern}: no trigram index in ${JSON.stringify(plan)}`,
          ).toBe(true);
        }
        // The rare run reads a fraction of the index the whole needle reads (each common trigram, 'use', 'ser',
        // 'big', is a posting list of every user), for the same answer. Buffers, not time: load does not move them.
        const buffers = async (values: (string | null)[]) => {
          const r = await c.query({ text: `explain (analyze, buffers, format json) ${body}`, values });
          const sum = (p: Plan & { 'Shared Hit Blocks'?: number; 'Shared Read Blocks'?: number }): number =>
            (p['Shared Hit Blocks'] ?? 0) + (p['Shared Read Blocks'] ?? 0);
          return sum((r.rows[0] as { 'QUERY PLAN': { Plan: Plan }[] })['QUERY PLAN'][0]!.Plan);
        };
        const sample = await usersRepo.searchTrigramSample(
          drizzle(c as unknown as pg.PoolClient) as unknown as Tx,
          big,
        );
        const run = indexPatternFor('user4242.big', commonTrigrams(sample.counts, sample.sampled));
        expect(run).toBe('%r4242%');
        const whole = await buffers(['%user4242.big%', null]);
        const rare = await buffers(['%user4242.big%', run]);
        expect(rare * 5, `buffers: whole needle ${whole}, rare run ${rare}`).toBeLessThan(whole);
        const ids = async (values: (string | null)[]) =>
          (await c.query({ text: body, values })).rows.map((x: { id: number }) => x.id).sort();
        expect(await ids(['%user4242.big%', run])).toEqual(await ids(['%user4242.big%', null]));
        // The app role sees its own tenant's matches through it, and none of another tenant's.
        await c.query(`select set_config('role', 'massacorp_app', true)`);
        const own = await c.query(`select count(*)::int as n from app_user_search('%user4242.big%')`);
        expect(own.rows[0].n).toBe(1);
        await c.query(`select set_config('app.tenant_id', $1, true)`, [String(big + 1)]);
        const other = await c.query(`select count(*)::int as n from app_user_search('%.big@%')`);
        expect(other.rows[0].n).toBe(0);
        await c.query(`select set_config('app.tenant_id', '', true)`);
        const none = await c.query(`select count(*)::int as n from app_user_search('%')`);
        expect(none.rows[0].n).toBe(0);
      } finally {
        await c.query('rollback');
      }
    });

    it('audit: a day mid-history, filters and keyset pages', async () => {
      const day = new Date(T0 + 180 * DAY).toISOString();
      const next = new Date(T0 + 181 * DAY).toISOString();
      const cases: [string, Parameters<typeof auditRepo.listPage>[2], auditRepo.Position | null][] = [
        ['GET /audit/logs', {}, null],
        ['GET /audit/logs?cursor', {}, MIDDLE],
        ['GET /audit/logs?cursor (an id only, as older cursors)', {}, { id: 250_000, at: null }],
        ['GET /audit/logs?from&to (one day)', { from: day, to: next }, null],
        ['GET /audit/logs?event_type', { event_type: 'role.assigned' }, null],
        ['GET /audit/logs?actor_id', { actor_id: '42' }, null],
        ['GET /audit/logs?resource', { resource_type: 'user', resource_id: '42' }, null],
      ];
      for (const [what, f, cursor] of cases)
        assertFlat(what, await capture(big, (tx) => auditRepo.listPage(tx, big, f, cursor, 51)));
      assertFlat(
        'GET /audit/logs/export?from&to',
        await capture(big, (tx) => auditRepo.exportPage(tx, big, { from: day, to: next }, 0, 1000)),
      );
    });

    it('audit: a listing page after the first reads only the months that can hold it', async () => {
      const partitions = (captured: Captured[]) =>
        new Set(
          captured.flatMap((q) =>
            nodes(q.plan)
              .map((n) => n['Relation Name'] ?? '')
              .filter((r) => /^audit_log_p\d{6}$/.test(r)),
          ),
        );
      const months = Math.ceil((Date.now() - T0) / (31 * DAY));
      const all = partitions(await capture(big, (tx) => auditRepo.listPage(tx, big, {}, null, 51)));
      expect(all.size).toBeGreaterThanOrEqual(months);
      // Newest first from the middle of the year: the months after the cursor's (and its day of margin) are out.
      const listed = partitions(await capture(big, (tx) => auditRepo.listPage(tx, big, {}, MIDDLE, 51)));
      expect(listed.size).toBeLessThan(all.size);
      expect(
        [...listed].every((r) => r <= `audit_log_p${MIDDLE.at.toISOString().slice(0, 7).replace('-', '')}`),
      ).toBe(true);
    });
  },
);
