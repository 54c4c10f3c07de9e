/**
 * Issue 24 item 2: an acknowledged revocation survives the loss of the Redis master while replication is
 * behind. Real redis-server processes on free loopback ports: a master, a replica whose link to it goes
 * through a relay the test cuts (replication really stops: nothing reaches the replica's socket), and the app
 * reaching "the master" through a second relay that the test points at the promoted replica, as Sentinel or
 * HAProxy would. Never the shared Redis.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { keys } from '../../src/platform/store/keys.js';
import { createTestApp } from '../helpers/app.js';
import { runCleanups } from '../helpers/cleanups.js';
import { bearer, login, newTenant, newUser } from '../helpers/factories.js';
import { PrivateRedis, PrivateSentinel, redisServerBin } from '../helpers/private-servers.js';
import { TcpRelay } from '../helpers/tcp-relay.js';

const redisBin = redisServerBin();
if (!redisBin) console.warn('issue 24 item 2 test skipped: redis-server not found');

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  await runCleanups(cleanups);
});

const sessionIdOf = (token: string): string =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()).session_id;

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The test's own client of one server (not through the relays), closed after the file. */
function direct(port: number): Redis {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  r.on('error', () => {}); // a killed master's client keeps failing to reconnect: expected
  cleanups.push(async () => r.disconnect());
  return r;
}

/**
 * Setup steps before any fault, retried while they answer 503: the store's 500 ms command timeout turns a
 * merely slow Redis (a busy CI machine, the relay in between) into a correct fail-closed 503, which is not what
 * these tests measure. What happens during the failover itself is never retried.
 */
async function beforeFault<T>(step: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (attempt >= 5 || !/\b503\b/.test(String(err))) throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

/**
 * A request once the store serves again: a 503 (the store's 500 ms command timeout failing closed on a loaded
 * machine) is retried, any other answer is returned as is. A 503 is never a wrong answer for a revoked token, and
 * a 200 for one can only come from the store or the row, which is what the tests check.
 */
async function settled(send: () => Promise<LightMyRequestResponse>): Promise<LightMyRequestResponse> {
  for (let attempt = 1; ; attempt++) {
    const res = await send();
    if (res.statusCode !== 503 || attempt >= 10) return res;
    await new Promise((r) => setTimeout(r, 100 * attempt));
  }
}

describe('revocations and a Redis failover', () => {
  it.skipIf(!redisBin)(
    'issue 24 item 2 — a logout the lagging replica never received stays refused after that replica is promoted (only 503s meanwhile, back within 3 s)',
    async () => {
      const master = await PrivateRedis.create(redisBin!);
      cleanups.push(() => master.destroy());
      const replicaLink = await TcpRelay.start(master.port);
      cleanups.push(() => replicaLink.close());
      const replica = await PrivateRedis.create(redisBin!, [
        '--replicaof',
        '127.0.0.1',
        String(replicaLink.port),
      ]);
      cleanups.push(() => replica.destroy());
      const appLink = await TcpRelay.start(master.port);
      cleanups.push(() => appLink.close());

      const onMaster = direct(master.port);
      const onReplica = direct(replica.port);
      await until('the replica to sync', async () =>
        /master_link_status:up/.test(await onReplica.info('replication')),
      );

      const prefix = `failover:${process.pid}:`;
      const app: FastifyInstance = await createTestApp({
        REDIS_URL: `redis://127.0.0.1:${appLink.port}`,
        STORE_PREFIX: prefix,
      });
      cleanups.push(() => app.close());
      const { tenant } = await newTenant(app);
      const user = await newUser(app, tenant.id);
      const kept = await beforeFault(() => login(app, tenant.id, user.email));
      const revoked = await beforeFault(() => login(app, tenant.id, user.email));
      const me = (t: typeof kept) => app.inject({ url: '/api/v1/users/me', headers: bearer(t) });
      // Both sessions are active on the store, and the replica has their activity records.
      const meBeforeFault = (t: typeof kept) =>
        beforeFault(async () => {
          const r = await me(t);
          if (r.statusCode === 503) throw new Error('503');
          return r;
        });
      expect((await meBeforeFault(kept)).statusCode).toBe(200);
      expect((await meBeforeFault(revoked)).statusCode).toBe(200);
      expect(await onMaster.wait(1, 5000)).toBeGreaterThanOrEqual(1);
      const flag = prefix + keys.sessionRevoked(sessionIdOf(revoked.access_token));
      const seen = prefix + keys.sessionLastSeen(sessionIdOf(revoked.access_token));
      expect(await onReplica.get(seen)).not.toBeNull();

      // Replication stops: the logout is acknowledged by the master alone.
      replicaLink.cut();
      await until('the master to lose its replica', async () =>
        /connected_slaves:0/.test(await onMaster.info('replication')),
      );
      const logout = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: bearer(revoked),
      });
      expect(logout.statusCode).toBe(200);
      expect(await onMaster.get(flag)).not.toBeNull();
      expect(await onReplica.get(flag)).toBeNull();
      expect((await me(revoked)).json().error).toBe('SESSION_REVOKED');

      // The master dies; the replica (activity records, no flag) is promoted and the app is pointed at it.
      const killedAt = Date.now();
      await master.stop();
      await onReplica.replicaof('NO', 'ONE');
      appLink.retarget(replica.port);

      const statuses: number[] = [];
      await until('the store to serve again', async () => {
        const res = await me(kept);
        statuses.push(res.statusCode);
        return res.statusCode === 200;
      });
      const window = Date.now() - killedAt;
      console.info(`master killed, replica promoted: back after ${window} ms (${statuses.length - 1} 503s)`);
      expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
      expect(window).toBeLessThanOrEqual(3000);

      // The promoted replica still holds the session's old activity record and no flag: the store cannot
      // vouch for it any more, so the session row answers, and the flag is written again on the new master.
      expect(await onReplica.get(seen)).not.toBeNull();
      const after = await settled(() => me(revoked));
      expect(after.statusCode).toBe(401);
      expect(after.json().error).toBe('SESSION_REVOKED');
      expect(await onReplica.get(flag)).toBe('revoked');
      // The refresh token of the ended session is refused too; the other session carries on and refreshes.
      const refresh = (t: typeof kept) =>
        app.inject({
          method: 'POST',
          url: '/api/v1/auth/refresh',
          payload: { refresh_token: t.refresh_token },
        });
      // The live session was checked against its row once, and its record now carries the new generation.
      const keptSeen = await onReplica.get(prefix + keys.sessionLastSeen(sessionIdOf(kept.access_token)));
      expect(keptSeen?.split('@')[1]).toBe(app.ctx.store.generation());
      expect((await settled(() => refresh(revoked))).statusCode).toBe(401);
      expect((await settled(() => me(kept))).statusCode).toBe(200);
      expect((await settled(() => refresh(kept))).statusCode).toBe(200);
    },
    60_000,
  );

  it.skipIf(!redisBin)(
    'REDIS_SENTINELS: a sentinel that accepts connections and never answers does not hold the app; the next one names the master',
    async () => {
      const master = await PrivateRedis.create(redisBin!);
      cleanups.push(() => master.destroy());
      const silent = await PrivateSentinel.create(redisBin!, { port: master.port, name: 'mc' });
      cleanups.push(() => silent.destroy());
      const healthy = await PrivateSentinel.create(redisBin!, { port: master.port, name: 'mc' });
      cleanups.push(() => healthy.destroy());
      silent.pause();
      const app: FastifyInstance = await createTestApp({
        REDIS_URL: undefined,
        // The silent one first: the client asks it before the healthy one.
        REDIS_SENTINELS: `127.0.0.1:${silent.port},127.0.0.1:${healthy.port}`,
        REDIS_SENTINEL_NAME: 'mc',
        STORE_PREFIX: `silent-sentinel:${process.pid}:`,
      });
      cleanups.push(() => app.close());
      const startedAt = Date.now();
      await until(
        'the store to answer through the healthy sentinel',
        async () =>
          app.ctx.store.set('probe', 'x', 10).then(
            () => true,
            () => false,
          ),
        10_000,
      );
      // The silent sentinel is given up on after the command timeout (500 ms), not waited for.
      expect(Date.now() - startedAt).toBeLessThan(5000);
      expect(await direct(master.port).get(`silent-sentinel:${process.pid}:probe`)).toBe('x');
    },
    60_000,
  );

  it.skipIf(!redisBin)(
    'issue 24 item 3 — REDIS_SENTINELS: the app follows a real Sentinel failover under load with only 503s, back within 3 s, and no revocation lost',
    async () => {
      const master = await PrivateRedis.create(redisBin!);
      cleanups.push(() => master.destroy());
      const replica = await PrivateRedis.create(redisBin!, ['--replicaof', '127.0.0.1', String(master.port)]);
      cleanups.push(() => replica.destroy());
      const onReplica = direct(replica.port);
      await until('the replica to sync', async () =>
        /master_link_status:up/.test(await onReplica.info('replication')),
      );
      const sentinel = await PrivateSentinel.create(redisBin!, { port: master.port, name: 'mc' });
      cleanups.push(() => sentinel.destroy());
      // The sentinel has found the replica (it learns it from the master's INFO) before the master dies.
      const onSentinel = direct(sentinel.port);
      await until('the sentinel to see the replica', async () => {
        const replicas = (await onSentinel.call('SENTINEL', 'REPLICAS', 'mc')) as unknown[];
        return replicas.length === 1;
      });

      const app: FastifyInstance = await createTestApp({
        REDIS_URL: undefined,
        REDIS_SENTINELS: `127.0.0.1:${sentinel.port}`,
        REDIS_SENTINEL_NAME: 'mc',
        STORE_PREFIX: `sentinel:${process.pid}:`,
      });
      cleanups.push(() => app.close());
      expect(app.ctx.store.kind).toBe('redis');
      const { tenant } = await newTenant(app);
      const user = await newUser(app, tenant.id);
      const kept = await beforeFault(() => login(app, tenant.id, user.email));
      const revoked = await beforeFault(() => login(app, tenant.id, user.email));
      const me = (t: typeof kept) => app.inject({ url: '/api/v1/users/me', headers: bearer(t) });
      expect((await settled(() => me(revoked))).statusCode).toBe(200);
      expect(
        (await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(revoked) }))
          .statusCode,
      ).toBe(200);
      // The generation is learnt asynchronously on each (re)connection (INFO replication after 'ready'); on a busy
      // machine the Sentinel client may still be asking, or reconnecting: wait until it is known.
      await until('the store to know its generation', async () => app.ctx.store.generation() !== null);
      let before = app.ctx.store.generation();
      expect(before).toMatch(/^[0-9a-f]{40}$/);

      // Load: four clients in a loop on the valid session while the master is killed, each pausing 2 ms between
      // requests: a loop without a pause would be the test saturating the event loop the app's Redis client
      // reconnects on (in-process inject), and the window would measure the test, not the failover.
      const statuses: number[] = [];
      let stop = false;
      const loop = async () => {
        while (!stop) {
          statuses.push((await me(kept)).statusCode);
          await new Promise((r) => setTimeout(r, 2));
        }
      };
      // The master is the one Sentinel names now, and the app serves from it. A failover before the kill has been
      // seen here (Sentinel called the master down 0.5 s after it began watching, then promoted the replica): the
      // node to kill is then the other one, or the test would kill a replica and measure nothing.
      await until('the app to serve with a known generation', async () => {
        return (await me(kept)).statusCode === 200 && app.ctx.store.generation() !== null;
      });
      const [, masterPort] = (await onSentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mc')) as string[];
      const victim = Number(masterPort) === master.port ? master : replica;
      const survivor = victim === master ? onReplica : direct(master.port);
      before = app.ctx.store.generation();
      // Sentinel promotes only a replica whose INFO it read less than 5 s ago once the master is down, and reads
      // replicas every 10 s until then: a master killed on a stale read aborts the failover and retries it only
      // after 2 x failover-timeout. Real deployments meet that too (it is Sentinel's rule); the test kills the
      // master just after a fresh read so that it measures the failover, not where in Sentinel's cycle it fell.
      await until(
        "the sentinel's fresh read of the replica",
        async () => {
          const [replica] = (await onSentinel.call('SENTINEL', 'REPLICAS', 'mc')) as string[][];
          const fields = replica ?? [];
          return Number(fields[fields.indexOf('info-refresh') + 1]) < 500;
        },
        15_000,
      );
      const load = [loop(), loop(), loop(), loop()];
      let backAt = 0;
      const killedAt = Date.now();
      try {
        await victim.stop();
        await until(
          'the app to serve from the promoted replica',
          async () => {
            const ok = (await me(kept)).statusCode === 200 && app.ctx.store.generation() !== before;
            if (ok && !backAt) backAt = Date.now();
            return ok;
          },
          20_000,
        ).catch(async (err: Error) => {
          // Say whose side it stalled on: the sentinel's own steps, the replica's role, the app's store.
          const role = await survivor.info('replication').catch((e: Error) => `unreachable: ${e.message}`);
          const history = () =>
            ((app.ctx.store as { connectionHistory?: () => string[] }).connectionHistory?.() ?? []).join(
              '\n',
            );
          throw new Error(
            `${err.message}\napp: generation ${app.ctx.store.generation()} (before ${before}); last statuses ${statuses.slice(-10).join(',')} of ${statuses.length}\nreplica: ${role.split('\n').slice(0, 4).join(' ').trim()}\napp's Redis client:\n${history()}\nsentinel log:\n${sentinel.logTail()}`,
          );
        });
        await new Promise((r) => setTimeout(r, 200));
      } finally {
        stop = true;
        await Promise.allSettled(load);
      }
      expect(/role:master/.test(await survivor.info('replication'))).toBe(true);
      expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
      // Sentinel needs down-after-milliseconds (500 ms here) to call the master down, then promotes.
      console.info(
        `Sentinel failover: back after ${backAt - killedAt} ms; ${statuses.filter((s) => s === 503).length} of ${statuses.length} requests 503, none failed otherwise`,
      );
      expect(backAt - killedAt).toBeLessThanOrEqual(3000);
      expect((await settled(() => me(revoked))).json().error).toBe('SESSION_REVOKED');
      expect((await settled(() => me(kept))).statusCode).toBe(200);
    },
    60_000,
  );
});
