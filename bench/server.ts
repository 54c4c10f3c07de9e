/**
 * The bench's app process: the real app (embedded, or PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set),
 * with the production load-shedding default (ENV=test turns it off) so the per-request path is production's.
 * The baselines and peers run in their own processes (bench/peers/). Prints one JSON line with the port and
 * credentials.
 */
import type { AddressInfo } from 'node:net';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { setupBenchData } from './setup.js';

export const BENCH_JWT_SECRET = 'bench-jwt-secret-0123456789abcdef0123';

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
    LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: process.env.LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS ?? '1000',
    // Production argon2 cost unless told otherwise: login throughput is what it is.
    ARGON2_MEMORY_KIB: process.env.ARGON2_MEMORY_KIB ?? '19456',
    ARGON2_TIME_COST: process.env.ARGON2_TIME_COST ?? '2',
  },
  { persistSecrets: false },
);

const app = await buildApp(config, { migrate: true });
const data = await setupBenchData(app);
await app.listen({ host: '127.0.0.1', port: 0 });

console.log(
  JSON.stringify({
    appPort: (app.server.address() as AddressInfo).port,
    backend: `${app.ctx.database.kind}+${app.ctx.store.kind}`,
    jwt: { secret: BENCH_JWT_SECRET, issuer: config.jwtIssuer, audience: config.jwtAudience },
    argon2: config.argon2,
    dbPoolMax: config.dbPoolMax,
    ...data,
  }),
);
process.on('SIGTERM', async () => {
  await app.close();
  process.exit(0);
});
