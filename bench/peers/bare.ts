/**
 * Bench peer (its own process): the baselines the app is compared with.
 *   GET /bare     a bare Fastify route returning a constant (the /health baseline);
 *   GET /bare/me  Fastify + jose verifying the app's own access token (HS256, same secret, issuer, audience and
 *                 required claims) + ONE indexed PostgreSQL query (the user by primary key, pg Pool of the app's
 *                 size). Only when DATABASE_URL is set.
 *   GET /bare/mget  Fastify + ONE Redis MGET of two keys and nothing else (the /auth/me baseline: the app's
 *                 /auth/me reads its session state and cached view from the store). Only when REDIS_URL is set.
 * Prints one JSON line: { "port": … }.
 */
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { jwtVerify } from 'jose';
import pg from 'pg';

const app = Fastify({ logger: false });
app.get('/bare', async () => ({ status: 'ok' }));

const url = process.env.DATABASE_URL;
let pool: pg.Pool | null = null;
if (url) {
  pool = new pg.Pool({ connectionString: url, max: Number(process.env.DB_POOL_MAX ?? 10) });
  const secret = new TextEncoder().encode(process.env.JWT_SECRET ?? '');
  const issuer = process.env.JWT_ISSUER ?? 'massacorp';
  const audience = process.env.JWT_AUDIENCE ?? 'massacorp-api';
  app.get('/bare/me', async (request, reply) => {
    const m = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (!m) return reply.code(401).send({ error: 'UNAUTHORIZED' });
    let sub: string;
    try {
      const { payload } = await jwtVerify(m[1]!, secret, {
        algorithms: ['HS256'],
        issuer,
        audience,
        requiredClaims: ['sub', 'exp', 'iat', 'jti'],
      });
      sub = payload.sub!;
    } catch {
      return reply.code(401).send({ error: 'TOKEN_INVALID' });
    }
    const { rows } = await pool!.query(
      'select id, tenant_id, email, first_name, last_name, is_active from users where id = $1',
      [Number(sub)],
    );
    if (rows.length === 0) return reply.code(404).send({ error: 'NOT_FOUND' });
    return rows[0];
  });
}

let redis: Redis | null = null;
if (process.env.REDIS_URL) {
  redis = new Redis(process.env.REDIS_URL);
  const keys = [`bench:bare:${process.pid}:a`, `bench:bare:${process.pid}:b`];
  await redis.mset(keys[0]!, '1', keys[1]!, JSON.stringify({ id: 1, email: 'bare@example.com' }));
  await redis.expire(keys[0]!, 3600);
  await redis.expire(keys[1]!, 3600);
  app.get('/bare/mget', async () => {
    const [a, b] = await redis!.mget(keys[0]!, keys[1]!);
    return { a, b: b ? JSON.parse(b) : null };
  });
}

await app.listen({ host: '127.0.0.1', port: 0 });
console.log(JSON.stringify({ port: (app.server.address() as AddressInfo).port }));
process.on('SIGTERM', async () => {
  await app.close();
  await pool?.end();
  redis?.disconnect();
  process.exit(0);
});
