/**
 * `npm run bench:data -- --users 1000000 --audit 5000000`: cost against data size.
 *
 * Seeds one tenant ("big") beside 20 small ones in a PostgreSQL database of its own (created beside
 * DATABASE_URL's, dropped at the end unless --keep), times every list, search, filter, read, export and verify
 * route at the small size, grows the same tenant to the full size in bulk SQL, ANALYZEs, times them again, and
 * prints p50/p99 per route at both sizes with the ratio. Requests go over loopback HTTP (keep-alive), one at a
 * time, as one admin would meet them. The audit records form a valid hash chain (hashed here, inserted in
 * batches), so the verification routes do their real work.
 *
 * `--reuse NAME` keeps the large size in database NAME (seeded only when it does not hold that size yet) and
 * measures the small size in a fresh database in the same run: the minutes of seeding are paid once, and every
 * run still has its own small-size baseline. Drop NAME yourself when done.
 *
 * Goals it checks (issue 25): p50 <= 15 ms, p99 <= 50 ms at the large size, and large p50 <= 3 x small p50.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createTenant } from '../src/modules/tenant-admin/index.js';
import { GENESIS_HASH, recordHash } from '../src/platform/audit/hash-chain.js';

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '1000000' },
    audit: { type: 'string', default: '5000000' },
    'small-users': { type: 'string', default: '1000' },
    'small-audit': { type: 'string', default: '10000' },
    requests: { type: 'string', default: '60' },
    'skip-export': { type: 'boolean', default: false },
    // Only the export's rate (no verification, no route timings): to compare two versions quickly.
    'export-only': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    reuse: { type: 'string' },
  },
});
const SIZES = {
  small: { users: Number(args['small-users']), audit: Number(args['small-audit']) },
  large: { users: Number(args.users), audit: Number(args.audit) },
};
const REQUESTS = Number(args.requests);
const PASSWORD = 'Bench-Password-2026!';
const YEAR_MS = 365 * 86_400_000;
const AUDIT_BATCH = 5_000;

const serverUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');

async function onServer(sqlText: string) {
  const c = new pg.Client({ connectionString: serverUrl.toString() });
  await c.connect();
  try {
    return await c.query(sqlText);
  } finally {
    await c.end();
  }
}

function log(line: string) {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
}

// The app, its HTTP base and an owner connection of the database being measured (one database at a time).
let app: Awaited<ReturnType<typeof buildApp>>;
let base = '';
let db: pg.Client;

async function open(dbName: string) {
  const dbUrl = new URL(serverUrl);
  dbUrl.pathname = `/${dbName}`;
  const config = loadConfig(
    {
      ...process.env,
      ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: dbUrl.toString(),
      JWT_SECRET: 'bench-data-jwt-secret-0123456789abcdef',
      ENCRYPTION_KEY: Buffer.alloc(32, 5).toString('base64'),
      STORE_PREFIX: `bench-data:${process.pid}:${dbName}:`,
      DB_STATEMENT_TIMEOUT_MS: '3600000',
    },
    { persistSecrets: false },
  );
  app = await buildApp(config, { migrate: true });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/v1`;
  db = new pg.Client({ connectionString: dbUrl.toString() });
  await db.connect();
}

async function close() {
  await db.end();
  await app.close();
}

/** The big tenant, created with the small tenants beside it when the database does not hold it yet. */
async function bigTenant(): Promise<{
  tenantId: number;
  passwordHash: string;
  users: number;
  audit: number;
}> {
  const found = (
    await db.query<{ id: number; h: string }>(
      `select t.id, u.password_hash as h from tenants t join users u on u.tenant_id = t.id
       where t.slug = 'big' and u.email = 'admin@big.example.com'`,
    )
  ).rows[0];
  if (found) {
    const n = await db.query<{ u: string; a: string }>(
      `select (select count(*) from users where tenant_id = $1 and email like 'user%')::text as u,
         (select count(*) from audit_log where tenant_id = $1 and request_id like 'req-%')::text as a`,
      [found.id],
    );
    return {
      tenantId: found.id,
      passwordHash: found.h,
      users: Number(n.rows[0]!.u),
      audit: Number(n.rows[0]!.a),
    };
  }
  const { tenant, admin } = await createTenant(app.ctx, {
    slug: 'big',
    name: 'Big',
    admin: { email: 'admin@big.example.com', password: PASSWORD, isSuperuser: true },
  });
  const passwordHash = (
    await db.query<{ h: string }>('select password_hash as h from users where id = $1', [admin!.id])
  ).rows[0]!.h;
  await seedSmallTenants(passwordHash);
  return { tenantId: tenant.id, passwordHash, users: 0, audit: 0 };
}

/** Grows the big tenant to `target` (users numbered from 1, audit records chained), then times every route. */
async function measure(size: 'small' | 'large', target: { users: number; audit: number }) {
  const big = await bigTenant();
  const { tenantId } = big;
  let t = Date.now();
  if (big.users < target.users) {
    await seedUsers(tenantId, big.passwordHash, big.users + 1, target.users);
    log(`${size}: ${target.users - big.users} users in ${Date.now() - t} ms`);
  }
  t = Date.now();
  if (big.audit < target.audit) {
    await appendAudit(tenantId, big.audit, target.audit - big.audit, target.audit);
    log(`${size}: ${target.audit - big.audit} audit records in ${Date.now() - t} ms`);
  }
  await db.query('vacuum analyze users');
  await db.query('vacuum analyze audit_log');
  await db.query('analyze user_counts');
  const token = await login(tenantId);
  const headers = { authorization: `Bearer ${token}` };
  if (args['export-only']) {
    const exp = await timeExport(headers);
    return { 'GET /audit/logs/export (MB/s)': { p50: exp, p99: exp, rate: true } };
  }

  // A full verification sets the mark GET /audit/verify starts from, as an operator's first run would.
  t = Date.now();
  const job = await fullVerification(headers);
  log(
    `${size}: full verification ${job.records} records at ${job.perSecond} records/s (${Date.now() - t} ms); ` +
      `GET /health meanwhile p50 ${job.healthP50.toFixed(1)} ms p99 ${job.healthP99.toFixed(1)} ms`,
  );
  const out: Record<string, Timing> = {
    ...(await timeRoutes(size, tenantId, target, headers)),
    'full verification (records/s)': { p50: job.perSecond, p99: job.perSecond, rate: true },
    'GET /health during full verification': { p50: job.healthP50, p99: job.healthP99 },
  };
  if (!args['skip-export']) {
    const exp = await timeExport(headers);
    out['GET /audit/logs/export (MB/s)'] = { p50: exp, p99: exp, rate: true };
  }
  return out;
}

const results: Record<string, Record<string, Timing>> = {};
const fresh = (size: string) => `mc_bench_data_${size}_${randomBytes(3).toString('hex')}`;
const reuse = args.reuse;
if (reuse && !/^[a-z_][a-z0-9_]*$/.test(reuse)) throw new Error(`not a plain database name: ${reuse}`);

// Without --reuse: one database, grown from the small size to the large one, dropped at the end (unless --keep).
// With --reuse NAME: the small size in a fresh database (dropped), the large one in NAME, seeded only when it
// does not hold that size yet and kept, so that the minutes of seeding are paid once for many runs.
const smallDb = fresh(reuse ? 'small' : 'run');
await onServer(`create database ${smallDb}`);
log(`database ${smallDb}`);
try {
  await open(smallDb);
  try {
    results.small = await measure('small', SIZES.small);
    if (!reuse) results.large = await measure('large', SIZES.large);
  } finally {
    await close();
  }
} finally {
  if (args.keep && !reuse) log(`kept database ${smallDb}`);
  else await onServer(`drop database if exists ${smallDb} with (force)`);
}
if (reuse) {
  const exists = await onServer(`select 1 from pg_database where datname = '${reuse}'`);
  if (exists.rowCount === 0) await onServer(`create database ${reuse}`);
  log(`database ${reuse} (kept)`);
  await open(reuse);
  try {
    results.large = await measure('large', SIZES.large);
  } finally {
    await close();
  }
}
printTable(results);

interface Timing {
  p50: number;
  p99: number;
  rate?: boolean;
}

async function login(tenantId: number): Promise<string> {
  const res = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-tenant-id': String(tenantId) },
    body: JSON.stringify({ email: 'admin@big.example.com', password: PASSWORD }),
  });
  if (res.status !== 200) throw new Error(`login: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** 20 tenants of 1,000 users and 5,000 audit records beside the big one (their chains are not verified). */
async function seedSmallTenants(passwordHash: string) {
  await db.query(
    `insert into tenants (slug, name) select 'small-' || g, 'Small ' || g from generate_series(1, 20) g`,
  );
  await db.query(
    `insert into users (tenant_id, email, password_hash, first_name, last_name, is_active)
     select t.id, 'user' || g || '@' || t.slug || '.example.com', $1, 'First' || g, 'Surname' || g, true
     from tenants t, generate_series(1, 1000) g where t.slug like 'small-%'`,
    [passwordHash],
  );
  await db.query(
    `insert into audit_log (tenant_id, seq, event_type, actor_type, resource_type, success, metadata, created_at, prev_hash, hash)
     select t.id, g, 'user.updated', 'system', 'user', true, '{}'::jsonb, now() - make_interval(secs => 5001 - g), md5(g::text), md5(g::text)
     from tenants t, generate_series(1, 5000) g where t.slug like 'small-%'`,
  );
}

/** Users `from`..`to` of the big tenant, in one statement; every tenth inactive. */
async function seedUsers(tenantId: number, passwordHash: string, from: number, to: number) {
  if (to < from) return;
  await db.query(
    `insert into users (tenant_id, email, password_hash, first_name, last_name, is_active, created_at)
     select $1, 'user' || g || '@big.example.com', $2, 'First' || (g % 1000), 'Surname' || g, g % 10 <> 0,
       now() - make_interval(secs => g)
     from generate_series($3::int, $4::int) g`,
    [tenantId, passwordHash, from, to],
  );
}

/**
 * Appends `count` records with a valid chain after the tenant's head. Record i of `total` is dated T0 + i/total
 * of a year, so the full history spans a year and a day's window holds total/365 records.
 */
async function appendAudit(tenantId: number, already: number, count: number, total: number) {
  const head = (
    await db.query<{ s: string; h: string }>(
      'select last_seq::text as s, last_hash as h from audit_chain_heads where tenant_id = $1',
      [tenantId],
    )
  ).rows[0];
  let seq = Number(head?.s ?? 0);
  let prev = head?.h ?? GENESIS_HASH;
  const t0 = Date.now() - YEAR_MS;
  // The year's monthly partitions of audit_log, as a deployment of that age has them (drizzle/0034).
  await db.query(`select audit_log_ensure_partitions($1::timestamptz, now())`, [new Date(t0).toISOString()]);
  const events = ['auth.login_success', 'auth.login_failed', 'user.updated', 'role.assigned'];
  for (let done = 0; done < count; done += AUDIT_BATCH) {
    const rows = [];
    for (let i = 0; i < Math.min(AUDIT_BATCH, count - done); i++) {
      const n = already + done + i + 1;
      seq += 1;
      const r = {
        tenantId,
        seq,
        eventType: events[n % 4]!,
        actorType: 'user',
        actorId: String(n % 5000),
        resourceType: 'user',
        resourceId: String(n % 5000),
        success: n % 7 !== 0,
        ipAddress: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64) bench-data/1.0',
        requestId: `req-${n}`,
        sessionId: null,
        metadata: { n, method: 'password', note: 'x'.repeat(200) },
        createdAt: new Date(t0 + Math.floor((n / total) * YEAR_MS)),
      };
      const hash = recordHash(prev, r);
      rows.push({ ...r, createdAt: r.createdAt.toISOString(), prevHash: prev, hash });
      prev = hash;
    }
    await db.query(
      `insert into audit_log (tenant_id, seq, event_type, actor_type, actor_id, resource_type, resource_id, success,
         ip_address, user_agent, request_id, session_id, metadata, created_at, prev_hash, hash)
       select x."tenantId", x.seq, x."eventType", x."actorType", x."actorId", x."resourceType", x."resourceId",
         x.success, x."ipAddress", x."userAgent", x."requestId", x."sessionId", x.metadata, x."createdAt",
         x."prevHash", x.hash
       from jsonb_to_recordset($1::jsonb) as x("tenantId" int, seq bigint, "eventType" text, "actorType" text,
         "actorId" text, "resourceType" text, "resourceId" text, success boolean, "ipAddress" text,
         "userAgent" text, "requestId" text, "sessionId" text, metadata jsonb, "createdAt" timestamptz,
         "prevHash" text, hash text)`,
      [JSON.stringify(rows)],
    );
  }
  await db.query('update audit_chain_heads set last_seq = $2, last_hash = $3 where tenant_id = $1', [
    tenantId,
    seq,
    prev,
  ]);
}

async function get(path: string, headers: Record<string, string>): Promise<unknown> {
  const res = await fetch(`${base}${path}`, { headers });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${body.slice(0, 300)}`);
  return JSON.parse(body);
}

/**
 * Starts the full verification and waits for its end; meanwhile GET /health is timed every 20 ms, one request at
 * a time, to show whether the job holds the event loop (goal: p99 < 10 ms).
 */
async function fullVerification(headers: Record<string, string>) {
  const res = await fetch(`${base}/audit/verify/full`, { method: 'POST', headers });
  if (res.status !== 202 && res.status !== 200) throw new Error(`POST /audit/verify/full: ${res.status}`);
  const healthUrl = `${base.replace(/\/api\/v1$/, '')}/health`;
  const health: number[] = [];
  let running = true;
  const probe = (async () => {
    while (running) {
      const t = performance.now();
      const h = await fetch(healthUrl);
      await h.arrayBuffer();
      health.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    for (;;) {
      await new Promise((r) => setTimeout(r, 500));
      const job = (await get('/audit/verify/full', headers)) as {
        status: string;
        checked: number;
        records_per_second: number;
      };
      if (job.status === 'failed') throw new Error(`full verification failed: ${JSON.stringify(job)}`);
      if (job.status === 'done') {
        health.sort((a, b) => a - b);
        return {
          records: job.checked,
          perSecond: job.records_per_second,
          healthP50: percentile(health, 50),
          healthP99: percentile(health, 99),
        };
      }
    }
  } finally {
    running = false;
    await probe;
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Each route REQUESTS times, one at a time after 3 warm-ups; the path may vary per request. */
async function timeRoutes(
  size: string,
  tenantId: number,
  target: { users: number; audit: number },
  headers: Record<string, string>,
): Promise<Record<string, Timing>> {
  const someUser = (i: number) => 1 + ((i * 7919) % target.users);
  const ids = (
    await db.query<{ id: number }>(
      'select id from users where tenant_id = $1 and email = any($2::text[]) order by id',
      [tenantId, [someUser(1), someUser(2)].map((n) => `user${n}@big.example.com`)],
    )
  ).rows.map((r) => r.id);
  const midUserId = (
    await db.query<{ id: number }>(
      'select id from users where tenant_id = $1 order by id offset $2 limit 1',
      [tenantId, Math.floor(target.users / 2)],
    )
  ).rows[0]!.id;
  const midAudit = (
    await db.query<{ id: string; at: Date }>(
      'select id::text as id, created_at as at from audit_log where tenant_id = $1 and seq = $2',
      [tenantId, Math.floor(target.audit / 2)],
    )
  ).rows[0]!;
  const dayFrom = midAudit.at.toISOString();
  const dayTo = new Date(midAudit.at.getTime() + 86_400_000).toISOString();
  const routes: [string, (i: number) => string][] = [
    ['GET /users?limit=20', () => '/users?limit=20'],
    ['GET /users?skip=<half>&limit=20', () => `/users?skip=${Math.floor(target.users / 2)}&limit=20`],
    ['GET /users?cursor=<middle>&limit=20', () => `/users?cursor=${midUserId}&limit=20`],
    ['GET /users?search=<email part>', (i) => `/users?search=user${someUser(i)}%40big&limit=20`],
    ['GET /users?search=<surname part>', (i) => `/users?search=surname${someUser(i)}&limit=20`],
    ['GET /users?is_active=false', () => '/users?is_active=false&limit=20'],
    ['GET /users/{id}', (i) => `/users/${ids[i % ids.length]}`],
    ['GET /auth/me', () => '/auth/me'],
    ['GET /audit/logs?limit=50', () => '/audit/logs?limit=50'],
    [
      'GET /audit/logs?from&to (one day mid-history)',
      () => `/audit/logs?from=${dayFrom}&to=${dayTo}&limit=50`,
    ],
    // The cursor as the API gives it (id and date: the page is bounded by time), and as earlier versions gave
    // it (a bare id, no bound): the second is this run's baseline for the first.
    [
      'GET /audit/logs?cursor=<middle>',
      () => `/audit/logs?cursor=${midAudit.id}.${midAudit.at.getTime()}&limit=50`,
    ],
    ['GET /audit/logs?cursor=<middle, bare id>', () => `/audit/logs?cursor=${midAudit.id}&limit=50`],
    [
      'GET /audit/logs?event_type=auth.login_failed',
      () => '/audit/logs?event_type=auth.login_failed&limit=50',
    ],
    ['GET /audit/verify', () => '/audit/verify'],
  ];
  const out: Record<string, Timing> = {};
  for (const [name, path] of routes) {
    for (let i = 0; i < 3; i++) await get(path(i), headers);
    const times: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const t = performance.now();
      await get(path(i + 3), headers);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    out[name] = { p50: percentile(times, 50), p99: percentile(times, 99) };
    log(`${size}: ${name} p50 ${out[name].p50.toFixed(1)} ms p99 ${out[name].p99.toFixed(1)} ms`);
  }
  return out;
}

/**
 * The whole export as NDJSON, read as it streams; MB/s. Read by a client in another process (curl, when
 * installed): a client reading the body in this process (fetch) shares the event loop with the server it
 * measures, and took up to half of it.
 */
async function timeExport(headers: Record<string, string>): Promise<number> {
  const url = `${base}/audit/logs/export?format=ndjson`;
  const t = performance.now();
  let bytes = 0;
  const curl = spawnSync('curl', ['--version']).status === 0;
  if (curl) {
    const args = ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download}'];
    for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
    const out = await new Promise<string>((resolve, reject) =>
      execFile('curl', [...args, url], { maxBuffer: 1 << 20 }, (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      ),
    );
    const [status, size] = out.trim().split(' ');
    if (status !== '200') throw new Error(`export: ${status}`);
    bytes = Number(size);
  } else {
    const res = await fetch(url, { headers });
    if (res.status !== 200 || !res.body) throw new Error(`export: ${res.status}`);
    for await (const chunk of res.body) bytes += (chunk as Uint8Array).byteLength;
  }
  const seconds = (performance.now() - t) / 1000;
  const rate = bytes / 1e6 / seconds;
  log(
    `export: ${(bytes / 1e6).toFixed(0)} MB in ${seconds.toFixed(1)} s = ${rate.toFixed(1)} MB/s (${curl ? 'curl' : 'fetch, in process'})`,
  );
  return rate;
}

function printTable(results: Record<string, Record<string, Timing>>) {
  const s = SIZES.small;
  const l = SIZES.large;
  console.log(
    `\n| route | p50 at ${s.users} users / ${s.audit} records | p50 / p99 at ${l.users} users / ${l.audit} records | large / small p50 | goal |`,
  );
  console.log('|---|---|---|---|---|');
  for (const name of Object.keys(results.large!)) {
    const a = results.small![name]!;
    const b = results.large![name]!;
    if (b.rate) {
      console.log(
        `| ${name} | ${a.p50.toFixed(1)} | ${b.p50.toFixed(1)} | ${(b.p50 / a.p50).toFixed(2)} | rate |`,
      );
      continue;
    }
    const ok = name.startsWith('GET /health')
      ? b.p99 < 10
      : b.p50 <= 15 && b.p99 <= 50 && b.p50 <= 3 * Math.max(a.p50, 1);
    console.log(
      `| ${name} | ${a.p50.toFixed(1)} ms | ${b.p50.toFixed(1)} / ${b.p99.toFixed(1)} ms | ${(b.p50 / a.p50).toFixed(2)} | ${ok ? 'met' : 'MISSED'} |`,
    );
  }
}
