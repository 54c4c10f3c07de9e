/**
 * Dependency outages (issue 10, findings 17 and 18). Each test starts its own PostgreSQL cluster or Redis
 * server on a free port and stops it mid-test: the shared servers other tests use are never touched. They
 * run in both CI passes (they bring their own servers whatever DATABASE_URL says) and skip only where the
 * server binaries are not installed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { WgAgent } from '../../src/modules/wireguard/agent.js';
import type { InterfaceDump, WgDriver } from '../../src/modules/wireguard/wg-driver.js';
import { createTestApp } from '../helpers/app.js';
import { runCleanups } from '../helpers/cleanups.js';
import { bearer, login, newTenant, newUser } from '../helpers/factories.js';
import {
  freePort,
  PrivatePostgres,
  PrivateRedis,
  postgresBinDir,
  redisServerBin,
} from '../helpers/private-servers.js';

const pgBin = postgresBinDir();
const redisBin = redisServerBin();
if (!pgBin) console.warn('finding 17 test skipped: no PostgreSQL server binaries (initdb, pg_ctl) found');
if (!redisBin) console.warn('finding 18 test skipped: redis-server not found');

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  await runCleanups(cleanups);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function expectUnavailableEnvelope(body: Record<string, unknown>) {
  expect(body.error).toBe('SERVICE_UNAVAILABLE');
  expect(typeof body.message).toBe('string');
  expect(typeof body.request_id).toBe('string');
}

/** The real entry point (src/main.ts) in its own process, so a crash is observable as an exit. */
async function startServerProcess(env: Record<string, string>) {
  const port = await freePort();
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ENV: 'test',
    // The secrets testConfig uses: tokens minted by the in-test app are valid in the child.
    JWT_SECRET: 'test-jwt-secret-0123456789abcdef0123456789',
    ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    AUTO_MIGRATE: 'false',
    ...env,
  };
  delete childEnv.REDIS_URL;
  if (env.REDIS_URL) childEnv.REDIS_URL = env.REDIS_URL;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-200_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 45_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited at startup (${child.exitCode}):\n${output}`);
    const ok = await fetch(`${base}/health`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`server did not start:\n${output}`);
    await sleep(200);
  }
  return {
    base,
    child,
    output: () => output,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** An interface that only counts the agent's passes (what is on it does not matter here). */
class CountingInterface implements WgDriver {
  passes = 0;
  async dump(): Promise<InterfaceDump> {
    this.passes++;
    return { privateKey: null, publicKey: null, listenPort: 0, peers: [] };
  }
  async configureInterface() {}
  async setPeer() {}
  async removePeer() {}
}

interface Sample {
  at: number;
  status: number;
  ms: number;
  body: Record<string, unknown> | null;
  error?: string;
}

describe('dependency outages', () => {
  it.skipIf(!pgBin)(
    'finding 17: a PostgreSQL fast shutdown under 20 concurrent request loops answers 503 and the process survives and recovers',
    async () => {
      const pg = await PrivatePostgres.create(pgBin!);
      cleanups.push(() => pg.destroy());

      // Schema and data through the in-test app, then the server process serves the load.
      const setup = await createTestApp({ DATABASE_URL: pg.url, REDIS_URL: undefined });
      cleanups.push(() => setup.close());
      const { tenant } = await newTenant(setup);
      const user = await newUser(setup, tenant.id);
      const tokens = await login(setup, tenant.id, user.email);
      // The WireGuard agent's session (advisory lock + LISTEN) dies with the restart too: it must come back.
      const driver = new CountingInterface();
      const agent = new WgAgent(setup.ctx, { driver, iface: 'wgoutage0', intervalMs: 60_000 });
      cleanups.push(() => agent.stop());
      await agent.start();
      expect(driver.passes).toBe(1);

      const server = await startServerProcess({ DATABASE_URL: pg.url, DB_POOL_MAX: '10' });
      cleanups.push(() => server.stop());
      const get = async (): Promise<Sample> => {
        const t0 = performance.now();
        const at = Date.now();
        try {
          const res = await fetch(`${server.base}/api/v1/users/me`, {
            headers: bearer(tokens),
            signal: AbortSignal.timeout(10_000),
          });
          const text = await res.text();
          let body: Record<string, unknown> | null = null;
          try {
            body = JSON.parse(text);
          } catch {
            body = null;
          }
          return { at, status: res.status, ms: performance.now() - t0, body };
        } catch (err) {
          return { at, status: 0, ms: performance.now() - t0, body: null, error: String(err) };
        }
      };
      expect((await get()).status).toBe(200);

      const samples: Sample[] = [];
      let running = true;
      const loops = Array.from({ length: 20 }, async () => {
        while (running) samples.push(await get());
      });
      try {
        await sleep(800);
        const stoppedAt = Date.now();
        await pg.stop('fast');
        await sleep(2500);

        // The process is alive and answering; every request during the outage got the 503 envelope.
        expect(server.alive(), server.output()).toBe(true);
        expect((await fetch(`${server.base}/health`)).status).toBe(200);
        const during = samples.filter((s) => s.at >= stoppedAt);
        expect(during.length).toBeGreaterThan(20);
        const unexpected = during.filter((s) => s.status !== 200 && s.status !== 503);
        expect(unexpected, JSON.stringify(unexpected.slice(0, 3))).toEqual([]);
        const unavailable = during.filter((s) => s.status === 503);
        expect(unavailable.length).toBeGreaterThan(0);
        for (const s of unavailable) expectUnavailableEnvelope(s.body!);

        // Back without a restart of the process.
        const restartedAt = Date.now();
        await pg.start();
        let recovered = 0;
        while (Date.now() - restartedAt < 15_000) {
          if ((await get()).status === 200) {
            recovered = Date.now();
            break;
          }
          await sleep(100);
        }
        expect(recovered, 'requests succeed again after pg_ctl start').toBeGreaterThan(0);
        expect(recovered - restartedAt).toBeLessThan(10_000);
        await sleep(500);
      } finally {
        running = false;
        await Promise.all(loops);
      }
      const after = samples.filter((s) => s.at >= Date.now() - 400);
      expect(after.every((s) => s.status === 200)).toBe(true);
      expect(server.alive(), server.output()).toBe(true);
      expect(server.output()).not.toMatch(/Emitted 'error' event|uncaught/i);

      // The agent holds the lock again and LISTENs: a notification wakes it long before its 60 s timer.
      const before = driver.passes;
      const deadline = Date.now() + 10_000;
      while (driver.passes === before && Date.now() < deadline) {
        await setup.ctx.database.query(`select pg_notify('massacorp_wg', 'outage')`).catch(() => {});
        await sleep(300);
      }
      expect(driver.passes, 'agent reconciles again after the restart').toBeGreaterThan(before);
      const locks = await setup.ctx.database.query<{ n: number }>(
        `select count(*)::int as n from pg_locks where locktype = 'advisory' and classid = $1 and granted`,
        [0x7761],
      );
      expect(locks[0]?.n).toBe(1);
    },
    90_000,
  );

  it.skipIf(!redisBin)(
    'finding 18: while Redis is down, store-backed routes fail closed with 503 in under a second for as long as it lasts, and recover',
    async () => {
      const redis = await PrivateRedis.create(redisBin!);
      cleanups.push(() => redis.destroy());
      const store = {
        REDIS_URL: redis.url,
        STORE_PREFIX: `outage:${process.pid}:`,
        LOCKOUT_ENABLED: 'true',
        RATE_LIMIT_ENABLED: 'false',
      };
      const app: FastifyInstance = await createTestApp(store);
      cleanups.push(() => app.close());
      // A second replica over the same store with rate limits on (public routes count per IP).
      const limited = await createTestApp({ ...store, RATE_LIMIT_ENABLED: 'true' }, app);
      cleanups.push(() => limited.close());

      const { tenant } = await newTenant(app);
      const user = await newUser(app, tenant.id);
      const valid = await login(app, tenant.id, user.email);
      const revoked = await login(app, tenant.id, user.email);
      expect(
        (await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(revoked) }))
          .statusCode,
      ).toBe(200);
      const me = (t: typeof valid) => app.inject({ url: '/api/v1/users/me', headers: bearer(t) });
      const signIn = () =>
        app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          headers: { 'x-tenant-id': String(tenant.id) },
          payload: { email: user.email, password: user.password },
        });
      expect((await me(valid)).statusCode).toBe(200);
      expect((await me(revoked)).json().error).toBe('SESSION_REVOKED');
      expect((await limited.inject({ url: '/api/v1/info' })).statusCode).toBe(200);

      await redis.stop();
      const probes: [string, () => ReturnType<typeof me>][] = [
        ['valid session', () => me(valid)],
        // Revocation cannot be checked: refused, never "allowed".
        ['revoked session', () => me(revoked)],
        // The lockout counter cannot be reserved: no password is checked, no tokens issued.
        ['login', signIn],
        // The rate-limit counter cannot be taken: refused.
        ['rate-limited route', () => limited.inject({ url: '/api/v1/info' })],
      ];
      const timings: number[] = [];
      const started = Date.now();
      while (Date.now() - started < 10_000) {
        for (const [what, probe] of probes) {
          const t0 = performance.now();
          const res = await probe();
          const ms = performance.now() - t0;
          timings.push(ms);
          expect(res.statusCode, `${what}: ${res.body}`).toBe(503);
          expectUnavailableEnvelope(res.json());
          expect(ms, `${what} took ${Math.round(ms)} ms`).toBeLessThan(1000);
        }
        await sleep(250);
      }
      expect(timings.length).toBeGreaterThan(40);
      // Readiness says which dependency is down, quickly.
      const t0 = performance.now();
      const ready = await app.inject({ url: '/ready' });
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(ready.statusCode).toBe(503);
      expect(ready.json().checks.redis.status).toBe('error');
      expect(ready.json().checks.database.status).toBe('ok');

      const restartedAt = Date.now();
      await redis.start();
      let recovered = 0;
      while (Date.now() - restartedAt < 10_000) {
        if ((await me(valid)).statusCode === 200) {
          recovered = Date.now();
          break;
        }
        await sleep(100);
      }
      expect(recovered, 'requests succeed again after Redis is back').toBeGreaterThan(0);
      expect(recovered - restartedAt).toBeLessThan(5000);
      expect((await signIn()).statusCode).toBe(200);
      expect((await limited.inject({ url: '/api/v1/info' })).statusCode).toBe(200);
      expect((await app.inject({ url: '/ready' })).statusCode).toBe(200);
    },
    60_000,
  );
});
