/**
 * Issue 25, "the same care for the other tables that grow per user": one tenant with 60,000 users, each holding
 * a role (user_roles), 100,000 sessions (2,000 of them the admin's), 20,000 API keys (beside another tenant's
 * 60,000) and 100,000 audit records of the admin; SCIM reads through a directory key. Each route that lists or exports from those tables runs through the
 * real app, on a private PostgreSQL cluster with auto_explain logging every plan, and no statement of the request
 * may scan one of those tables sequentially. Route-level, so it checks whatever queries the routes really send.
 * PostgreSQL only (the server binaries and auto_explain).
 */
import { readFileSync, statSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, usingPostgres } from '../helpers/app.js';
import { bearer, login, newTenant, type Tokens } from '../helpers/factories.js';
import { PrivatePostgres, postgresBinDir } from '../helpers/private-servers.js';

const bin = postgresBinDir();
const USERS = 60_000;
const SESSIONS = 100_000;
const ADMIN_SESSIONS = 2_000;
const KEYS = 20_000;
const ADMIN_AUDIT = 100_000;
const GROWING = new Set(['users', 'user_roles', 'sessions', 'api_keys', 'audit_log']);

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}
const nodes = (p: PlanNode): PlanNode[] => [p, ...(p.Plans ?? []).flatMap(nodes)];

describe.skipIf(!usingPostgres || !bin)('growing tables at scale: no sequential scan', () => {
  let server: PrivatePostgres;
  let client: pg.Client;
  let app: FastifyInstance;
  let tenantId: number;
  let adminId: number;
  let tokens: Tokens;
  let someUserId: number;
  let scimKey: string;

  beforeAll(async () => {
    // auto_explain is loaded now and switched on after seeding (log_min_duration -1 until then).
    server = await PrivatePostgres.create(bin!, [
      'shared_preload_libraries=auto_explain',
      'auto_explain.log_format=json',
      'auto_explain.log_nested_statements=on',
    ]);
    app = await createTestApp({ DATABASE_URL: server.url, REDIS_URL: undefined });
    const t = await newTenant(app, { superuser: true });
    tenantId = t.tenant.id;
    adminId = t.admin.id;
    tokens = await login(app, tenantId, t.admin.email);
    client = new pg.Client({ connectionString: server.url });
    await client.connect();
    // Another tenant beside the big one, holding most of the API keys table: a tenant's count must not read the
    // others' rows.
    const other = await newTenant(app);
    await client.query(
      `insert into users (tenant_id, email, first_name, last_name, is_active)
       select $1, 'u' || g || '@big.test', 'First' || g, 'Last' || g, true from generate_series(1, $2::int) g`,
      [tenantId, USERS],
    );
    await client.query(
      `insert into user_roles (tenant_id, user_id, role_id)
       select $1, u.id, r.id from users u join roles r on r.tenant_id = $1 and r.code = 'viewer'
       where u.tenant_id = $1 and u.email like 'u%@big.test'`,
      [tenantId],
    );
    await client.query(
      `insert into sessions (tenant_id, user_id, expires_at, created_at)
       select $1, (select min(id) from users where tenant_id = $1 and email like 'u%@big.test') + (g % $3::int),
         now() + interval '1 day', now() - make_interval(secs => g)
       from generate_series(1, $2::int) g`,
      [tenantId, SESSIONS - ADMIN_SESSIONS, USERS],
    );
    await client.query(
      `insert into sessions (tenant_id, user_id, expires_at, created_at)
       select $1, $2, now() + interval '1 day', now() - make_interval(secs => g) from generate_series(1, $3::int) g`,
      [tenantId, adminId, ADMIN_SESSIONS],
    );
    await client.query(
      `insert into api_keys (tenant_id, user_id, created_by_user_id, name, key_hash, key_prefix, scopes, owner)
       select $1, $2, $2, 'key ' || g, encode(sha256(('k' || g)::bytea), 'hex'), 'mc_' || substr(md5('k' || g), 1, 8), '{users.read}', 'user'
       from generate_series(1, $3::int) g`,
      [tenantId, adminId, KEYS],
    );
    await client.query(
      `insert into api_keys (tenant_id, user_id, created_by_user_id, name, key_hash, key_prefix, scopes, owner)
       select $1, $2, $2, 'key ' || g, encode(sha256(('o' || g)::bytea), 'hex'), 'mc_o', '{users.read}', 'user'
       from generate_series(1, $3::int) g`,
      [other.tenant.id, other.admin.id, 3 * KEYS],
    );
    await client.query(
      `insert into audit_log (tenant_id, seq, event_type, actor_type, actor_id, resource_type, resource_id, success,
         metadata, created_at, prev_hash, hash)
       select $1, 1000000 + g, 'user.updated', 'user', $2::text, 'user', $2::text, true, '{}'::jsonb,
         now() - make_interval(secs => g), md5(g::text), md5(g::text)
       from generate_series(1, $3::int) g`,
      [tenantId, adminId, ADMIN_AUDIT],
    );
    someUserId = (
      await client.query<{ id: number }>(
        `select id from users where tenant_id = $1 and email = 'u4242@big.test'`,
        [tenantId],
      )
    ).rows[0]!.id;
    const adminRole = (
      await client.query<{ id: string }>(`select id from roles where tenant_id = $1 and code = 'admin'`, [
        tenantId,
      ])
    ).rows[0]!.id;
    const key = await app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: bearer(tokens),
      payload: { name: 'directory', scopes: ['scim'], owner: 'tenant', role_id: adminRole },
    });
    expect(key.statusCode, key.body).toBe(201);
    scimKey = key.json().raw_key;
    for (const table of GROWING) await client.query(`vacuum analyze ${table}`);
    await client.query(`alter system set auto_explain.log_min_duration = 0`);
    await client.query('select pg_reload_conf()');
    // The pooled connections read the new setting at their next query; one round of requests warms them.
    await new Promise((r) => setTimeout(r, 500));
  }, 180_000);

  afterAll(async () => {
    await client?.end();
    await app?.close();
    await server?.destroy();
  });

  /** The plans auto_explain logged while `fn` ran. */
  async function plansOf(fn: () => Promise<void>): Promise<{ text: string; plan: PlanNode }[]> {
    const from = statSync(server.logFile).size;
    await fn();
    // The log is written by the server as the statements finish; give it a moment.
    await new Promise((r) => setTimeout(r, 300));
    const text = readFileSync(server.logFile, 'utf8').slice(from);
    const out: { text: string; plan: PlanNode }[] = [];
    // Each plan: a "plan:" line, then its JSON on lines that start with a tab.
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!/ plan:$/.test(lines[i]!)) continue;
      const json: string[] = [];
      while (i + 1 < lines.length && lines[i + 1]!.startsWith('\t')) json.push(lines[++i]!);
      const parsed = JSON.parse(json.join('\n')) as { 'Query Text': string; Plan: PlanNode };
      out.push({ text: parsed['Query Text'], plan: parsed.Plan });
    }
    return out;
  }

  const scim = (url: string) => () => ({ url, headers: { authorization: `Bearer ${scimKey}` } });
  const routes: [string, () => { url: string; headers?: Record<string, string> }][] = [
    ['GET /sessions (the admin, 2,000 sessions)', () => ({ url: '/api/v1/sessions' })],
    ['GET /users/{id}/sessions', () => ({ url: `/api/v1/users/${someUserId}/sessions` })],
    ['GET /users/{id}/roles (60,000 assignments)', () => ({ url: `/api/v1/users/${someUserId}/roles` })],
    ['GET /users/{id}', () => ({ url: `/api/v1/users/${someUserId}` })],
    ['GET /roles', () => ({ url: '/api/v1/roles' })],
    ['GET /api-keys (20,000 keys)', () => ({ url: '/api/v1/api-keys' })],
    ['GET /audit/logs?actor_id=<admin>', () => ({ url: `/api/v1/audit/logs?actor_id=${adminId}` })],
    [
      'SCIM GET /Users?filter=userName eq',
      scim('/scim/v2/Users?filter=userName%20eq%20%22u4242%40big.test%22'),
    ],
    ['SCIM GET /Users?startIndex=30000&count=10', scim('/scim/v2/Users?startIndex=30000&count=10')],
    ['GET /gdpr/export/{admin} (100,000 audit records)', () => ({ url: `/api/v1/gdpr/export/${adminId}` })],
  ];

  it.each(routes)('%s: no sequential scan of a growing table', async (_what, route) => {
    const { url } = route();

    let status = 0;
    let body = '';
    const plans = await plansOf(async () => {
      const res = await app.inject({ method: 'GET', url, headers: route().headers ?? bearer(tokens) });
      status = res.statusCode;
      body = res.body;
    });
    expect(status, body).toBe(200);
    expect(plans.length, 'auto_explain logged no plan').toBeGreaterThan(0);
    for (const { text, plan } of plans) {
      const seq = nodes(plan).filter(
        // audit_log's partitions count as audit_log.
        (n) =>
          n['Node Type'] === 'Seq Scan' &&
          GROWING.has((n['Relation Name'] ?? '').replace(/^audit_log_(p\d{6}|default)$/, 'audit_log')),
      );
      expect(seq, `sequential scan in\n${text}\n${JSON.stringify(plan, null, 1)}`).toEqual([]);
    }
  });

  it("GET /api-keys counts the tenant's keys through their own index (drizzle/0032)", async () => {
    const plans = await plansOf(async () => {
      const res = await app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: bearer(tokens) });
      expect(res.statusCode).toBe(200);
      expect(res.json().total).toBe(KEYS + 1); // and the directory key
    });
    const count = plans.find((p) => /count\(\*\)/.test(p.text) && /api_keys/.test(p.text));
    expect(count, 'no count statement').toBeDefined();
    const used = nodes(count!.plan).map((n) => `${n['Node Type']} ${n['Index Name'] ?? ''}`.trim());
    expect(
      used.some((n) => n.endsWith('api_keys_tenant_active_idx')),
      used.join(' / '),
    ).toBe(true);
  });
});
