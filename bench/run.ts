/**
 * `npm run bench`: autocannon against the real app and its peers, each in its own process (bench/server.ts,
 * bench/peers/*), one scenario at a time, the same connections and duration for all. Every figure of issue 12
 * is a ratio to a baseline measured in the same run, printed with its target and whether it is met. The
 * scenarios run in BENCH_ROUNDS rounds (each a share of the duration), so a baseline and what is compared with
 * it see the same background load of a shared machine; req/s and p50 are the rounds' mean, p99 the worst.
 *   BENCH_DURATION     seconds per scenario, all rounds together (default 6)
 *   BENCH_ROUNDS       rounds (default 2)
 *   BENCH_CONNECTIONS  autocannon connections (default 10)
 *   BENCH_WARMUP       seconds of unmeasured load before each scenario (default 1: the JIT warms up)
 *   DATABASE_URL / REDIS_URL  bench the app on them; without DATABASE_URL the app runs embedded and the
 *                      peers that need PostgreSQL (Better Auth, bare + jose + query) are skipped, with their
 *                      ratios; without REDIS_URL the bare MGET baseline is (see docs/operations.md, "Benchmark").
 */
import { type ChildProcess, execSync, spawn } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

const duration = Number(process.env.BENCH_DURATION ?? 6);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const warmup = Number(process.env.BENCH_WARMUP ?? 1);
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 2));
const share = duration / rounds;
const databaseUrl = process.env.DATABASE_URL;
const started = performance.now();
const children: ChildProcess[] = [];

/** A child process running `script`; resolves with the first JSON line it prints. */
function start<T>(script: string, env: Record<string, string | undefined> = {}): Promise<T> {
  return startChild<T>(script, env).info;
}
/** The same, with the child (its stdin open) and every later JSON line it prints. */
function startChild<T>(script: string, env: Record<string, string | undefined> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  children.push(child);
  const waiting: ((v: unknown) => void)[] = [];
  const info = new Promise<T>((resolve, reject) => {
    let first = true;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      if (first) {
        first = false;
        resolve(JSON.parse(line));
      } else waiting.shift()?.(JSON.parse(line));
    });
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  const ask = <R>(line: string) =>
    new Promise<R>((resolve) => {
      waiting.push(resolve as (v: unknown) => void);
      child.stdin!.write(`${line}\n`);
    });
  return { child, info, ask };
}
function stopAll() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
}
process.on('exit', stopAll);

interface AppInfo {
  appPort: number;
  backend: string;
  jwt: { secret: string; issuer: string; audience: string };
  argon2: { memoryCost: number; timeCost: number; parallelism: number };
  dbPoolMax: number;
  tenantId: number;
  userId: number;
  email: string;
  password: string;
  accessToken: string;
  apiKey?: string;
}
interface BetterAuthInfo {
  port: number;
  origin: string;
  cookie: string;
  email: string;
  password: string;
}

const app = await start<AppInfo>('bench/server.ts');
const argonEnv = {
  ARGON2_MEMORY_KIB: String(app.argon2.memoryCost),
  ARGON2_TIME_COST: String(app.argon2.timeCost),
  ARGON2_PARALLELISM: String(app.argon2.parallelism),
};
const bare = await start<{ port: number }>('bench/peers/bare.ts', {
  JWT_SECRET: app.jwt.secret,
  JWT_ISSUER: app.jwt.issuer,
  JWT_AUDIENCE: app.jwt.audience,
  DB_POOL_MAX: String(app.dbPoolMax),
});
const betterAuth = databaseUrl
  ? await start<BetterAuthInfo>('bench/peers/better-auth.ts', { DB_POOL_MAX: String(app.dbPoolMax) })
  : null;
const noPg = 'skipped: needs PostgreSQL (set DATABASE_URL)';
const noRedis = 'skipped: needs Redis (set REDIS_URL)';

interface Scenario {
  key: string;
  name: string;
  port?: number;
  method?: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  skip?: string;
}
const bearer = { authorization: `Bearer ${app.accessToken}` };
const json = { 'content-type': 'application/json' };
const login = {
  method: 'POST' as const,
  path: '/api/v1/auth/login',
  headers: { ...json, 'x-tenant-id': String(app.tenantId) },
  body: JSON.stringify({ email: app.email, password: app.password }),
};
const noKey = app.apiKey ? undefined : 'skipped: no API keys module';
const scenarios: Scenario[] = [
  { key: 'bare', name: 'bare Fastify, constant', port: bare.port, path: '/bare' },
  { key: 'health', name: 'GET /health', port: app.appPort, path: '/health' },
  {
    key: 'bareMe',
    name: 'bare Fastify + jose + 1 query',
    port: bare.port,
    path: '/bare/me',
    headers: bearer,
    skip: databaseUrl ? undefined : noPg,
  },
  {
    key: 'bareMget',
    name: 'bare Fastify + 1 Redis MGET',
    port: bare.port,
    path: '/bare/mget',
    skip: process.env.REDIS_URL ? undefined : noRedis,
  },
  { key: 'me', name: 'GET /auth/me (JWT)', port: app.appPort, path: '/api/v1/auth/me', headers: bearer },
  {
    key: 'userJwt',
    name: 'GET /users/{id} (JWT)',
    port: app.appPort,
    path: `/api/v1/users/${app.userId}`,
    headers: bearer,
  },
  {
    key: 'userKey',
    name: 'GET /users/{id} (API key)',
    port: app.appPort,
    path: `/api/v1/users/${app.userId}`,
    headers: { 'x-api-key': app.apiKey ?? '' },
    skip: noKey,
  },
  { key: 'listJwt', name: 'GET /users (JWT)', port: app.appPort, path: '/api/v1/users', headers: bearer },
  {
    key: 'listKey',
    name: 'GET /users (API key)',
    port: app.appPort,
    path: '/api/v1/users',
    headers: { 'x-api-key': app.apiKey ?? '' },
    skip: noKey,
  },
  {
    key: 'baSession',
    name: 'Better Auth get-session',
    port: betterAuth?.port,
    path: '/api/auth/get-session',
    headers: { cookie: betterAuth?.cookie ?? '' },
    skip: betterAuth ? undefined : noPg,
  },
  {
    key: 'baSignIn',
    name: 'Better Auth sign-in (scrypt)',
    port: betterAuth?.port,
    method: 'POST',
    path: '/api/auth/sign-in/email',
    headers: { ...json, origin: betterAuth?.origin ?? '' },
    body: JSON.stringify({ email: betterAuth?.email, password: betterAuth?.password }),
    skip: betterAuth ? undefined : noPg,
  },
  // Last: logins open sessions (the token above must stay valid for the reads).
  { key: 'login', name: 'POST /auth/login (argon2id)', port: app.appPort, ...login },
];

interface Result {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
}
const results = new Map<string, Result>();
const skipped = new Map<string, string>();

async function measure(s: Scenario & { port: number }, over = duration, conns = connections) {
  const r = await autocannon({
    url: `http://127.0.0.1:${s.port}${s.path}`,
    method: s.method ?? 'GET',
    headers: s.headers,
    body: s.body,
    connections: conns,
    duration: over,
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx + r.errors };
}

// The argon2id ceiling: the app's hasher in a process of its own, measured in each round after the logins.
const ceilingPeer = startChild<{ concurrency: number }>('bench/peers/argon2-ceiling.ts', {
  ...argonEnv,
  BENCH_CONNECTIONS: String(connections),
});
const ceilingInfo = await ceilingPeer.info;

const runnable: (Scenario & { port: number })[] = [];
for (const s of scenarios) {
  if (s.skip || s.port === undefined) {
    skipped.set(s.key, s.skip ?? 'skipped');
    continue;
  }
  const probe = await fetch(`http://127.0.0.1:${s.port}${s.path}`, {
    method: s.method ?? 'GET',
    headers: s.headers,
    body: s.body,
  });
  await probe.arrayBuffer();
  if (probe.status >= 300) {
    skipped.set(s.key, `skipped: probe answered HTTP ${probe.status}`);
    continue;
  }
  runnable.push(s as Scenario & { port: number });
}
const perRound = new Map<string, Result[]>();
const ceilings: number[] = [];
const stormRounds: Result[] = [];
const healthInStormRounds: Result[] = [];
for (let round = 0; round < rounds; round++) {
  for (const s of runnable) {
    if (round === 0 && warmup > 0) await measure(s, warmup);
    perRound.set(s.key, [...(perRound.get(s.key) ?? []), await measure(s, share)]);
  }
  ceilings.push((await ceilingPeer.ask<{ hashes_per_s: number }>(String(share))).hashes_per_s);
  // /health (one connection) while the login scenario's connections log in for the whole share.
  const [st, h] = await Promise.all([
    measure({ key: 'storm', name: 'login storm', port: app.appPort, ...login }, share),
    measure({ key: 'h', name: 'health', port: app.appPort, path: '/health' }, share, 1),
  ]);
  stormRounds.push(st);
  healthInStormRounds.push(h);
}
const combine = (rs: Result[]): Result => ({
  rps: rs.reduce((a, x) => a + x.rps, 0) / rs.length,
  p50: rs.reduce((a, x) => a + x.p50, 0) / rs.length,
  p99: Math.max(...rs.map((x) => x.p99)),
  non2xx: rs.reduce((a, x) => a + x.non2xx, 0),
});
for (const [k, rs] of perRound) results.set(k, combine(rs));
const ceiling = {
  hashes_per_s: ceilings.reduce((a, x) => a + x, 0) / ceilings.length,
  concurrency: ceilingInfo.concurrency,
};
const storm = combine(stormRounds);
const healthInStorm = combine(healthInStormRounds);
stopAll();

/** What bench/webhooks.ts prints: a burst of events through the delivery worker to a real receiver. */
interface WebhookBurst {
  backend: string;
  events: number;
  write_ms: number;
  all_delivered_after_ms: number;
  events_per_second: number;
  event_lag_ms: { p50: number; p99: number; max: number };
  duplicates: number;
  rss_mb: { before: number; peak: number };
}
// After the HTTP scenarios (its own process, alone on the machine): BENCH_WEBHOOK_EVENTS=0 skips it.
const webhookEvents = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 10_000);
const burst =
  webhookEvents > 0
    ? await start<WebhookBurst>('bench/webhooks.ts', { BENCH_WEBHOOK_EVENTS: String(webhookEvents) }).catch(
        (err: unknown) => {
          console.error(`webhook burst: ${err}`);
          return null;
        },
      )
    : null;

// ---- report ----
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const commit = (() => {
  try {
    return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
const lines: string[] = [];
const out = (s = '') => lines.push(s);
out(
  `MassaCorp bench ${new Date().toISOString().slice(0, 16)}Z, commit ${commit}, backend ${app.backend}, ` +
    `node ${process.version}, ${availableParallelism()} × ${cpus()[0]?.model.trim() ?? 'cpu'}`,
);
out(
  `${duration} s per scenario in ${rounds} round(s) after ${warmup} s of warm-up, ${connections} connections each ` +
    `(autocannon); argon2id m=${app.argon2.memoryCost} KiB ` +
    `t=${app.argon2.timeCost} p=${app.argon2.parallelism}, ${ceiling.concurrency} hash(es) at a time`,
);
out();
out(
  `${'scenario'.padEnd(34)}${'req/s'.padStart(9)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'non-2xx'.padStart(9)}`,
);
for (const s of scenarios) {
  const r = results.get(s.key);
  if (!r) {
    out(`${s.name.padEnd(34)}  ${skipped.get(s.key)}`);
    continue;
  }
  out(
    `${s.name.padEnd(34)}${r.rps.toFixed(0).padStart(9)}${String(Math.round(r.p50 * 10) / 10).padStart(8)}${String(r.p99).padStart(8)}${String(r.non2xx).padStart(9)}`,
  );
}
out(`${'argon2id ceiling (hashes/s)'.padEnd(34)}${ceiling.hashes_per_s.toFixed(0).padStart(9)}`);
out(
  `${'login storm + GET /health (1 conn)'.padEnd(34)}${healthInStorm.rps.toFixed(0).padStart(9)}${String(Math.round(healthInStorm.p50 * 10) / 10).padStart(8)}${String(healthInStorm.p99).padStart(8)}${String(healthInStorm.non2xx + storm.non2xx).padStart(9)}`,
);

interface Target {
  name: string;
  measured: number | null;
  target: string;
  met: (m: number) => boolean;
  fmt: (m: number) => string;
  why?: string;
}
const r = (k: string) => results.get(k);
const ratio = (a: string, b: string) => {
  const x = r(a);
  const y = r(b);
  return x && y ? x.rps / y.rps : null;
};
const missing = (...ks: string[]) => ks.map((k) => skipped.get(k)).find(Boolean);
const authRoutes = ['me', 'userJwt', 'userKey', 'listJwt', 'listKey'].filter((k) => r(k));
const worstP99 = authRoutes.length > 0 ? Math.max(...authRoutes.map((k) => r(k)!.p99)) : null;
const worstName = authRoutes.find((k) => r(k)!.p99 === worstP99);
const times = (x: number) => `${x.toFixed(2)}×`;
const targets: Target[] = [
  {
    name: 'GET /health vs bare Fastify',
    measured: ratio('health', 'bare'),
    target: '≥ 70 %',
    met: (m) => m >= 0.7,
    fmt: pct,
  },
  {
    name: 'GET /auth/me vs bare+jose+query',
    measured: ratio('me', 'bareMe'),
    target: '≥ 70 %',
    met: (m) => m >= 0.7,
    fmt: pct,
    why: missing('bareMe'),
  },
  {
    name: 'GET /auth/me vs bare Fastify + 1 Redis MGET',
    measured: ratio('me', 'bareMget'),
    target: '≥ 70 %',
    met: (m) => m >= 0.7,
    fmt: pct,
    why: missing('bareMget'),
  },
  {
    name: 'GET /auth/me vs Better Auth get-session',
    measured: ratio('me', 'baSession'),
    target: '≥ 5×',
    met: (m) => m >= 5,
    fmt: times,
    why: missing('baSession'),
  },
  {
    name: 'GET /users/{id} (JWT) vs bare+jose+query',
    measured: ratio('userJwt', 'bareMe'),
    target: '≥ 70 %',
    met: (m) => m >= 0.7,
    fmt: pct,
    why: missing('bareMe'),
  },
  {
    name: 'GET /users/{id}: API key vs JWT',
    measured: ratio('userKey', 'userJwt'),
    target: '≥ 100 %',
    met: (m) => m >= 1,
    fmt: pct,
    why: missing('userKey'),
  },
  {
    name: 'GET /users: API key vs JWT',
    measured: ratio('listKey', 'listJwt'),
    target: '≥ 100 %',
    met: (m) => m >= 1,
    fmt: pct,
    why: missing('listKey'),
  },
  {
    name: `worst auth p99 (${scenarios.find((s) => s.key === worstName)?.name ?? '-'}) vs bare+jose+query`,
    measured: worstP99 !== null && r('bareMe') ? worstP99 / Math.max(1, r('bareMe')!.p99) : null,
    target: '≤ 3×',
    met: (m) => m <= 3,
    fmt: (m) => `${times(m)} (${worstP99} / ${r('bareMe')?.p99} ms)`,
    why: missing('bareMe'),
  },
  {
    name: 'POST /auth/login vs argon2id ceiling',
    measured: r('login') ? r('login')!.rps / ceiling.hashes_per_s : null,
    target: '≥ 90 %',
    met: (m) => m >= 0.9,
    fmt: (m) => `${pct(m)} (${r('login')?.rps.toFixed(0)} / ${ceiling.hashes_per_s.toFixed(0)} per s)`,
  },
  {
    name: 'GET /health p99 during a login storm',
    measured: healthInStorm.p99,
    target: '< 100 ms',
    met: (m) => m < 100,
    fmt: (m) => `${m} ms`,
  },
];
out();
out(`${'target'.padEnd(56)}${'measured'.padStart(26)}${'required'.padStart(10)}  met`);
for (const t of targets) {
  const measured = t.measured === null ? '-' : t.fmt(t.measured);
  const met = t.measured === null ? `- (${t.why ?? 'not measured'})` : t.met(t.measured) ? 'yes' : 'NO';
  out(`${t.name.padEnd(56)} ${measured.padStart(25)}${t.target.padStart(10)}  ${met}`);
}
const nonOk = [...results].filter(([, x]) => x.non2xx > 0).map(([k]) => k);
if (nonOk.length > 0)
  out(`\nwarning: non-2xx answers in ${nonOk.join(', ')} (their figures are not comparable)`);
if (burst)
  out(
    `\nwebhooks: ${burst.events} events in a burst (${burst.backend}): all delivered ${burst.all_delivered_after_ms} ms ` +
      `after the first was written (${burst.write_ms} ms of writes), ${burst.events_per_second} events/s, lag p50 ` +
      `${burst.event_lag_ms.p50} ms / p99 ${burst.event_lag_ms.p99} ms, ${burst.duplicates} duplicates, RSS ` +
      `${burst.rss_mb.before} → ${burst.rss_mb.peak} MB peak`,
  );
out(`\nwhole run: ${((performance.now() - started) / 1000).toFixed(0)} s`);
console.log(`\n${lines.join('\n')}`);
