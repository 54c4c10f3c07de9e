/**
 * The bench's server process: the real app (embedded, or PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set)
 * plus a bare Fastify route on another port as the baseline. Prints one JSON line with ports and credentials.
 */
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { setupBenchData } from './setup.js';

const config = loadConfig(
  {
    ...process.env,
    ENV: 'test',
    LOG_LEVEL: 'silent',
    JWT_SECRET: 'bench-jwt-secret-0123456789abcdef0123',
    ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
    PGLITE_DIR: process.env.DATABASE_URL ? undefined : 'memory://',
    STORE_PREFIX: `bench:${process.pid}:`,
    // Production argon2 cost unless told otherwise: login throughput is what it is.
    ARGON2_MEMORY_KIB: process.env.ARGON2_MEMORY_KIB ?? '19456',
    ARGON2_TIME_COST: process.env.ARGON2_TIME_COST ?? '2',
  },
  { persistSecrets: false },
);

const app = await buildApp(config, { migrate: true });
const data = await setupBenchData(app);
await app.listen({ host: '127.0.0.1', port: 0 });

const bare = Fastify({ logger: false });
bare.get('/bare', async () => ({ status: 'ok' }));
await bare.listen({ host: '127.0.0.1', port: 0 });

console.log(
  JSON.stringify({
    appPort: (app.server.address() as AddressInfo).port,
    barePort: (bare.server.address() as AddressInfo).port,
    backend: `${app.ctx.database.kind}+${app.ctx.store.kind}`,
    ...data,
  }),
);
process.on('SIGTERM', async () => {
  await Promise.all([app.close(), bare.close()]);
  process.exit(0);
});
