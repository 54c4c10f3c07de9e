/**
 * `npm run bench`: autocannon against the real app, each figure next to a bare Fastify route measured in the
 * same run on the same machine, so the ratio (not the absolute number) is what carries between machines.
 * BENCH_DURATION (s, default 5), BENCH_CONNECTIONS (default 10). Set DATABASE_URL/REDIS_URL to bench on them.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

interface ServerInfo {
  appPort: number;
  barePort: number;
  backend: string;
  tenantId: number;
  userId: number;
  email: string;
  password: string;
  accessToken: string;
  apiKey?: string;
}

const duration = Number(process.env.BENCH_DURATION ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);

const child = spawn(process.execPath, ['--import', 'tsx', 'bench/server.ts'], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: process.env,
});
const info: ServerInfo = await new Promise((resolve, reject) => {
  const rl = createInterface({ input: child.stdout! });
  rl.on('line', (line) => {
    if (line.startsWith('{')) resolve(JSON.parse(line));
  });
  child.on('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
});

interface Scenario {
  name: string;
  port: number;
  method?: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  connections?: number;
}

const bearer = { authorization: `Bearer ${info.accessToken}` };
const scenarios: Scenario[] = [
  { name: 'bare Fastify route (baseline)', port: info.barePort, path: '/bare' },
  { name: 'GET /health', port: info.appPort, path: '/health' },
  { name: 'GET /api/v1/auth/me (JWT)', port: info.appPort, path: '/api/v1/auth/me', headers: bearer },
  {
    name: `GET /api/v1/users/${info.userId} (JWT)`,
    port: info.appPort,
    path: `/api/v1/users/${info.userId}`,
    headers: bearer,
  },
  { name: 'GET /api/v1/users (JWT)', port: info.appPort, path: '/api/v1/users', headers: bearer },
  ...(info.apiKey
    ? [
        {
          name: 'GET /api/v1/users (API key)',
          port: info.appPort,
          path: '/api/v1/users',
          headers: { 'x-api-key': info.apiKey },
        },
      ]
    : []),
  {
    name: 'POST /api/v1/auth/login (argon2id)',
    port: info.appPort,
    method: 'POST',
    path: '/api/v1/auth/login',
    headers: { 'content-type': 'application/json', 'x-tenant-id': String(info.tenantId) },
    body: JSON.stringify({ email: info.email, password: info.password }),
    connections: 4,
  },
];

async function measure(s: Scenario) {
  const r = await autocannon({
    url: `http://127.0.0.1:${s.port}${s.path}`,
    method: s.method ?? 'GET',
    headers: s.headers,
    body: s.body,
    connections: s.connections ?? connections,
    duration,
  });
  const ok = r['2xx'];
  return { name: s.name, rps: r.requests.average, p99: r.latency.p99, ok, errors: r.non2xx + r.errors };
}

type Row =
  | { name: string; rps: number; p99: number; ok: number; errors: number }
  | { name: string; skipped: string };
const rows: Row[] = [];
let healthP99: number | null = null;
try {
  for (const s of scenarios) {
    const probe = await fetch(`http://127.0.0.1:${s.port}${s.path}`, {
      method: s.method ?? 'GET',
      headers: s.headers,
      body: s.body,
    });
    if (probe.status >= 300) {
      rows.push({ name: s.name, skipped: `HTTP ${probe.status}` });
      continue;
    }
    rows.push(await measure(s));
  }
  healthP99 = await healthDuringLogins();
} finally {
  child.kill('SIGTERM');
}

/** /health while 20 logins run in parallel: the event loop must stay free while argon2 works. */
async function healthDuringLogins() {
  const loginReq = () =>
    fetch(`http://127.0.0.1:${info.appPort}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tenant-id': String(info.tenantId) },
      body: JSON.stringify({ email: info.email, password: info.password }),
    }).then((r) => r.arrayBuffer());
  const logins = Promise.all(Array.from({ length: 20 }, loginReq));
  const health = autocannon({ url: `http://127.0.0.1:${info.appPort}/health`, connections: 1, amount: 400 });
  const [, r] = await Promise.all([logins, health]);
  return r.latency.p99;
}

const base = rows[0] as { rps: number; p99: number };
console.log(
  `\nMassaCorp bench — backend ${info.backend}, ${duration}s per scenario, ${connections} connections, node ${process.version}\n`,
);
console.log(
  'scenario'.padEnd(42),
  'req/s'.padStart(9),
  'p99 ms'.padStart(8),
  'vs bare'.padStart(9),
  'non-2xx'.padStart(8),
);
for (const r of rows) {
  if ('skipped' in r) {
    console.log(r.name.padEnd(42), `skipped (${r.skipped})`);
    continue;
  }
  const ratio = r.rps / base.rps;
  console.log(
    r.name.padEnd(42),
    r.rps.toFixed(0).padStart(9),
    String(r.p99).padStart(8),
    `${(ratio * 100).toFixed(1)}%`.padStart(9),
    String(r.errors).padStart(8),
  );
}
const find = (prefix: string) =>
  rows.find((r) => r.name.startsWith(prefix) && !('skipped' in r)) as { rps: number } | undefined;
const me = find('GET /api/v1/auth/me');
const user = find('GET /api/v1/users/');
const listJwt = find('GET /api/v1/users (JWT)');
const listKey = find('GET /api/v1/users (API key)');
if (me && user) console.log(`\nGET /users/{id} vs GET /auth/me: ${((user.rps / me.rps) * 100).toFixed(1)}%`);
if (healthP99 !== null) console.log(`GET /health p99 while 20 logins run in parallel: ${healthP99} ms`);
if (listJwt && listKey)
  console.log(`GET /users with API key vs JWT: ${((listKey.rps / listJwt.rps) * 100).toFixed(1)}%`);
