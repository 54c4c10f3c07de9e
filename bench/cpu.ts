/**
 * `npm run bench:cpu [-- /path ...]`: the app's CPU per request on a route, in process (app.inject, no sockets),
 * so a busy shared machine skews it far less than a throughput ratio. Builds the bench app (embedded, or
 * PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set), warms the route, then prints process.cpuUsage()
 * (user+system) divided by the number of requests, for BENCH_ROUNDS rounds of BENCH_N sequential requests.
 * `{userId}` in a path stands for the bench user's id. The bench user's access token is sent. Rounds print
 * sorted (min first): on a shared machine the min is the least disturbed figure.
 */
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';

const BENCH_JWT_SECRET = 'bench-jwt-secret-0123456789abcdef0123';

import { setupBenchData } from './setup.js';

const routes = process.argv.slice(2).length
  ? process.argv.slice(2)
  : ['/api/v1/auth/me', '/api/v1/users/{userId}'];
const n = Number(process.env.BENCH_N ?? 2000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);

const config = loadConfig(
  {
    ...process.env,
    ENV: 'test',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    JWT_SECRET: BENCH_JWT_SECRET,
    JWT_ALGORITHM: 'HS256',
    ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
    PGLITE_DIR: process.env.DATABASE_URL ? undefined : 'memory://',
    STORE_PREFIX: `bench:${process.pid}:`,
    LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '60000',
    ARGON2_MEMORY_KIB: '19456',
    ARGON2_TIME_COST: '2',
  },
  { persistSecrets: false },
);
const app = await buildApp(config, { migrate: true });
const data = await setupBenchData(app);
const headers = { authorization: `Bearer ${data.accessToken}` };

for (const route of routes) {
  const url = route.replace('{userId}', String(data.userId));
  const once = async () => {
    const res = await app.inject({ method: 'GET', url, headers });
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
    // Back to the event loop between requests, as a server does: a route that needs no I/O (/health on the
    // embedded backend) would otherwise run every request in microtasks, and the setImmediate callbacks of
    // each injected response would pile up (a heap that grows by ~12 KB a request, a slower round each time).
    await new Promise(setImmediate);
  };
  for (let i = 0; i < 500; i++) await once();
  const per: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const c = process.cpuUsage();
    for (let i = 0; i < n; i++) await once();
    const d = process.cpuUsage(c);
    per.push((d.user + d.system) / n);
    if (process.env.BENCH_HEAP) {
      // With `node --expose-gc --import tsx bench/cpu.ts`: the heap after a full GC, round by round.
      (globalThis as { gc?: () => void }).gc?.();
      console.error(`round ${r}: heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(1)} MB`);
    }
  }
  per.sort((a, b) => a - b);
  console.log(
    `${route}: CPU per request (µs) min ${per[0]!.toFixed(0)} median ${per[Math.floor(per.length / 2)]!.toFixed(0)} [${per.map((p) => p.toFixed(0)).join(' ')}]`,
  );
}
await app.close();
