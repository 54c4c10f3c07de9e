/**
 * Issue 24: the PostgreSQL side of the HA topology (deploy/ha/) under real failures. Three etcd members, three Patroni
 * nodes (synchronous_mode) and HAProxy, all on loopback and running the shipped files
 * (tests/helpers/ha-cluster.ts); the API is the real process (src/main.ts) with DATABASE_URL at HAProxy's leader
 * port and DATABASE_REPLICA_URL at its replicas port. 20 keep-alive clients create users and read while the
 * leader is switched over (patronictl), then killed (SIGKILL to Patroni and every postgres process of the node).
 * Measured: the window of 503s (the RTO as clients see it) and the acknowledged writes missing afterwards (RPO).
 *
 * Heavy (three PostgreSQL servers): runs only with HA_TESTS=1, as `.ci/ha.sh` sets it; there, missing engines
 * fail the test instead of skipping it.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../src/platform/db/client.js';
import { PASSWORD } from '../helpers/factories.js';
import { HaCluster, missingHaEngines } from '../helpers/ha-cluster.js';
import { type ServerProcess, seededAdmin, startServer } from '../helpers/server-process.js';

const enabled = process.env.HA_TESTS === '1';
if (!enabled) console.info('HA failover tests skipped: set HA_TESTS=1 (bash .ci/ha.sh runs them)');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Bounds of the issue: a dead leader replaced within 10 s, a planned switchover within 5 s. */
const KILL_WINDOW_MS = 10_000;
const SWITCHOVER_WINDOW_MS = 5_000;
const CLIENTS = 20;

interface Answer {
  status: number;
  body: string;
}

function call(
  agent: http.Agent,
  port: number,
  method: string,
  url: string,
  headers: Record<string, string>,
  payload?: unknown,
): Promise<Answer> {
  const body = payload === undefined ? undefined : JSON.stringify(payload);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: url,
        method,
        agent,
        timeout: 20_000,
        headers: body ? { ...headers, 'content-type': 'application/json' } : headers,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

interface Outcome {
  kind: 'write' | 'read' | 'replica-read';
  start: number;
  end: number;
  status: number;
  /** The user a write created, when it was acknowledged (201). */
  email?: string;
  /** Anything but a success or a 503 in the error envelope: a network error, another status. */
  failure?: string;
}

/**
 * CLIENTS loops on one keep-alive agent until stop(): each creates a user (a write the test checks for
 * afterwards), reads its profile (primary) and lists users (a replica read). Nothing is retried.
 */
function load(port: number, token: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  const outcomes: Outcome[] = [];
  let running = true;
  const auth = { authorization: `Bearer ${token}` };
  const one = async (kind: Outcome['kind'], send: () => Promise<Answer>, email?: string) => {
    const start = Date.now();
    const o: Outcome = { kind, start, end: start, status: 0 };
    try {
      const res = await send();
      o.status = res.status;
      if (res.status === 503) {
        // The API's error envelope, nothing else (not a proxy's page, not a driver message).
        const b = JSON.parse(res.body) as Record<string, unknown>;
        if (b.error !== 'SERVICE_UNAVAILABLE' || typeof b.request_id !== 'string')
          o.failure = `503 outside the envelope: ${res.body.slice(0, 200)}`;
      } else if (res.status < 200 || res.status > 299) o.failure = `${res.status} ${res.body.slice(0, 300)}`;
      else if (email) o.email = email;
    } catch (err) {
      o.failure = (err as Error & { code?: string }).code ?? (err as Error).message;
    }
    o.end = Date.now();
    outcomes.push(o);
  };
  const loops = Array.from({ length: CLIENTS }, async (_, i) => {
    for (let n = 0; running; n++) {
      const email = `ha-${i}-${n}-${randomBytes(3).toString('hex')}@example.test`;
      await one(
        'write',
        () =>
          call(agent, port, 'POST', '/api/v1/users', auth, {
            email,
            password: PASSWORD,
            first_name: 'Ha',
            last_name: `Load ${i}`,
          }),
        email,
      );
      if (!running) break;
      await one('read', () => call(agent, port, 'GET', '/api/v1/users/me', auth));
      if (!running) break;
      await one('replica-read', () => call(agent, port, 'GET', '/api/v1/users?limit=5', auth));
    }
  });
  return {
    outcomes,
    async stop(): Promise<Outcome[]> {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return outcomes;
    },
  };
}

/**
 * The 503 window: from the first 503 answer to the last one (0: none), both as the clients received them.
 * Answers, not request starts: under load a request may wait in a queue for a second before it is refused,
 * and its start says nothing about when the database went away. `to`: the last 503, counted from the event.
 */
function window503(outcomes: Outcome[], eventAt: number) {
  const refused = outcomes.filter((o) => o.status === 503).map((o) => o.end);
  if (refused.length === 0) return { ms: 0, refused: 0, from: 0, to: 0 };
  const first = Math.min(...refused);
  const last = Math.max(...refused);
  return { ms: last - first, refused: refused.length, from: first - eventAt, to: last - eventAt };
}

/**
 * The longest time without a single successful answer, across the event (a request that HAProxy held while it
 * retried, then served, is no 503 but is no service either), and the slowest request.
 */
function serviceGap(outcomes: Outcome[]) {
  const ok = outcomes
    .filter((o) => o.status >= 200 && o.status < 300)
    .map((o) => o.end)
    .sort((a, b) => a - b);
  let gap = 0;
  for (let i = 1; i < ok.length; i++) gap = Math.max(gap, ok[i]! - ok[i - 1]!);
  const slowest = Math.max(0, ...outcomes.map((o) => o.end - o.start));
  return { gap, slowest };
}

describe.skipIf(!enabled)('PostgreSQL HA: Patroni + etcd + HAProxy from deploy/ha (HA_TESTS=1)', () => {
  let cluster: HaCluster | undefined;
  let api: ServerProcess | undefined;
  let tenantId = '';
  let token = '';
  const adminPassword = `Ha-${randomBytes(9).toString('base64url')}-7a`;

  beforeAll(async () => {
    const missing = missingHaEngines();
    if (missing.length > 0)
      throw new Error(
        `HA_TESTS=1 but missing: ${missing.join(', ')} (apt-get install patroni etcd-server haproxy)`,
      );
    const t0 = Date.now();
    cluster = await HaCluster.start();
    const clusterMs = Date.now() - t0;
    api = await startServer({
      DATABASE_URL: cluster.databaseUrl,
      DATABASE_REPLICA_URL: cluster.replicaUrl,
      DB_POOL_MAX: '20',
      AUTO_SEED: 'true',
      SEED_ADMIN_PASSWORD: adminPassword,
      LOG_LEVEL: 'info',
    });
    const seeded = await seededAdmin(() => api!.output());
    tenantId = seeded.tenantId;
    token = (await signIn(seeded.email)).access_token;
    console.info(`HA: cluster up in ${clusterMs} ms, API up ${Date.now() - t0 - clusterMs} ms later`);
  }, 240_000);

  afterAll(async () => {
    api?.kill();
    await cluster?.destroy();
  });

  async function signIn(email: string): Promise<{ access_token: string; refresh_token: string }> {
    const res = await call(
      new http.Agent(),
      api!.port,
      'POST',
      '/api/v1/auth/login',
      { 'x-tenant-id': tenantId },
      { email, password: adminPassword },
    );
    if (res.status !== 200) throw new Error(`login: ${res.status} ${res.body}`);
    return JSON.parse(res.body);
  }

  /** The acknowledged writes whose user is not on the (new) leader. */
  async function lostWrites(outcomes: Outcome[]): Promise<string[]> {
    const acked = outcomes.flatMap((o) => (o.email ? [o.email] : []));
    const client = new pg.Client({ connectionString: cluster!.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ email: string }>(
        'select email from users where email = any($1::text[])',
        [acked],
      );
      const found = new Set(rows.map((r) => r.email));
      return acked.filter((e) => !found.has(e));
    } finally {
      await client.end();
    }
  }

  /** Waits until a write through the API is acknowledged again (the load's own, or a probe's). */
  async function untilWritesServed(outcomes: Outcome[], since: number, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    while (!outcomes.some((o) => o.kind === 'write' && o.status === 201 && o.start > since)) {
      if (Date.now() > deadline) throw new Error(`no write served ${timeoutMs} ms after the event`);
      await sleep(50);
    }
  }

  function report(name: string, eventAt: number, outcomes: Outcome[], lost: string[]) {
    const w = window503(outcomes, eventAt);
    const g = serviceGap(outcomes);
    const acked = outcomes.filter((o) => o.email).length;
    const ok = outcomes.filter((o) => o.status >= 200 && o.status < 300).length;
    console.info(
      `HA ${name}: 503 window ${w.ms} ms (${w.refused} requests answered 503, from ${w.from} to ${w.to} ms after ` +
        `the event at ${new Date(eventAt).toISOString()}); longest time without a success ${g.gap} ms, slowest ` +
        `request ${g.slowest} ms; ${ok} of ${outcomes.length} requests succeeded; ${acked} writes acknowledged, ${lost.length} lost (RPO)`,
    );
    return { ...w, gap: g.gap };
  }

  it('a write that reaches a standby (the old leader, before HAProxy moved) is "database unavailable": 503, not 500', async () => {
    const c = cluster!;
    await c.healthy(60_000);
    const standby = (await c.syncStandby())!;
    const client = new pg.Client({ connectionString: c.nodeUrl(standby) });
    await client.connect();
    try {
      const err = await client.query('create table ha_probe (x int)').then(
        () => null,
        (e: unknown) => e,
      );
      expect((err as { code?: string } | null)?.code).toBe('25006');
      expect(isDatabaseUnavailable(err)).toBe(true);
    } finally {
      await client.end();
    }
  });

  it('planned switchover (patronictl switchover --force to the synchronous standby) under 20-way load: only 503s, window <= 5 s, no acknowledged write lost', async () => {
    const c = cluster!;
    await c.healthy(60_000);
    const leader = (await c.leader())!;
    const candidate = (await c.syncStandby())!;
    expect(candidate, 'a synchronous standby').not.toBeNull();

    const traffic = load(api!.port, token);
    await sleep(2000);
    const at = Date.now();
    const out = await c.switchover(leader, candidate);
    await untilWritesServed(traffic.outcomes, at, 30_000).catch((err) => {
      throw new Error(`${err}\n${out}\n${c.logs()}`);
    });
    await sleep(2000);
    const outcomes = await traffic.stop();

    expect((await c.leader())?.name).toBe(candidate.name);
    const failures = outcomes.filter((o) => o.failure);
    expect(failures.map((o) => `${o.kind}: ${o.failure}`).slice(0, 10)).toEqual([]);
    const lost = await lostWrites(outcomes);
    const w = report(`switchover ${leader.name} -> ${candidate.name}`, at, outcomes, lost);
    expect(lost).toEqual([]);
    expect(w.ms).toBeLessThanOrEqual(SWITCHOVER_WINDOW_MS);
    expect(w.gap, 'time without any successful answer').toBeLessThanOrEqual(SWITCHOVER_WINDOW_MS);
    expect(outcomes.filter((o) => o.status === 201 && o.start > at).length).toBeGreaterThan(0);
    expect(api!.child.exitCode).toBeNull();
  }, 150_000);

  it('an etcd follower killed under 20-way load: no request fails, the leader stays', async () => {
    const c = cluster!;
    await c.healthy(60_000);
    const leader = (await c.leader())!;
    const traffic = load(api!.port, token);
    await sleep(1500);
    const at = Date.now();
    // A follower: killing the raft leader costs an etcd election, during which Patroni cannot refresh its
    // leader key (seen in CI: over retry_timeout on the loaded machine, the PostgreSQL leader demoted itself and
    // requests got 503s for the election's length). That case is documented in docs/operations.md, not tested here.
    c.killEtcdMember(await c.etcdFollower());
    // Longer than the leader key's ttl (7 s): the leader must have refreshed it through the other two members.
    await sleep(9000);
    const outcomes = await traffic.stop();

    const failures = outcomes.filter((o) => o.failure || o.status === 503);
    expect(failures.map((o) => `${o.kind}: ${o.status} ${o.failure ?? ''}`).slice(0, 10)).toEqual([]);
    report('etcd member killed', at, outcomes, await lostWrites(outcomes));
    expect((await c.leader())?.name, 'no failover for the loss of one etcd member').toBe(leader.name);
    expect(outcomes.filter((o) => o.status === 201 && o.start > at + 7000).length).toBeGreaterThan(0);
  }, 120_000);

  it('leader killed (SIGKILL: Patroni and all its postgres processes) under 20-way load: the API lives, only 503s, window <= 10 s, no acknowledged write lost, earlier sessions still refresh', async () => {
    const c = cluster!;
    // The old leader rejoined as a replica: three nodes, one of them the synchronous standby.
    await c.healthy(90_000);
    const leader = (await c.leader())!;
    // Sessions made just before the crash: their rows must be on the new leader.
    const sessions = [];
    for (let i = 0; i < 5; i++) sessions.push(await signIn('admin@massacorp.dev'));

    const traffic = load(api!.port, token);
    await sleep(2000);
    const at = Date.now();
    c.killNode(leader);
    await untilWritesServed(traffic.outcomes, at, 40_000).catch((err) => {
      throw new Error(`${err}\n${c.logs()}`);
    });
    await sleep(2000);
    const outcomes = await traffic.stop();

    const failures = outcomes.filter((o) => o.failure);
    expect(failures.map((o) => `${o.kind}: ${o.failure}`).slice(0, 10)).toEqual([]);
    const lost = await lostWrites(outcomes);
    const w = report(`leader ${leader.name} killed`, at, outcomes, lost);
    expect(lost).toEqual([]);
    // Measured from the kill itself: the last request refused ended within the bound.
    expect(w.to).toBeLessThanOrEqual(KILL_WINDOW_MS);
    expect(w.gap, 'time without any successful answer').toBeLessThanOrEqual(KILL_WINDOW_MS);
    expect(api!.child.exitCode).toBeNull();
    for (const s of sessions) {
      const res = await call(
        new http.Agent(),
        api!.port,
        'POST',
        '/api/v1/auth/refresh',
        {},
        {
          refresh_token: s.refresh_token,
        },
      );
      expect(res.status, res.body).toBe(200);
    }
    const health = await call(new http.Agent(), api!.port, 'GET', '/health', {});
    expect(health.status).toBe(200);
  }, 150_000);

  it('the killed leader, restarted, rejoins as a replica from its own data directory (pg_rewind when its history diverged) and holds what the new leader holds', async () => {
    const c = cluster!;
    const dead = c.nodes.find((n) => !n.proc)!;
    expect(dead, 'the node the previous test killed').toBeDefined();
    const logBefore = c.nodeLog(dead).length;
    const t0 = Date.now();
    c.startNode(dead);
    // Three live nodes again: a leader, a synchronous standby and an asynchronous replica, all streaming.
    await c.healthy(90_000).catch((err) => {
      throw new Error(`${err}\n${c.logs(60)}`);
    });
    const rejoinMs = Date.now() - t0;
    const members = await c.members();
    expect(members.find((m) => m.name === dead.name)?.role).not.toBe('leader');
    // Not a fresh clone: Patroni keeps a data directory it can rewind and only re-clones one it cannot.
    const log = c.nodeLog(dead).slice(logBefore);
    const rewound = /pg_rewind/.test(log);
    expect(log, 'rejoined without removing its data directory').not.toMatch(
      /removing data directory|basebackup/i,
    );

    // A user written after the rejoin reaches it, and it holds exactly the leader's users.
    const email = `rejoin-${randomBytes(4).toString('hex')}@example.test`;
    const created = await call(
      new http.Agent(),
      api!.port,
      'POST',
      '/api/v1/users',
      { authorization: `Bearer ${token}` },
      { email, password: PASSWORD, first_name: 'Re', last_name: 'Join' },
    );
    expect(created.status, created.body).toBe(201);
    const count = async (url: string) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query<{ n: string; has: boolean }>(
          'select count(*) as n, bool_or(email = $1) as has from users',
          [email],
        );
        return rows[0]!;
      } finally {
        await client.end();
      }
    };
    const onLeader = await count(c.databaseUrl);
    let onRejoined = await count(c.nodeUrl(dead));
    for (const deadline = Date.now() + 15_000; !onRejoined.has && Date.now() < deadline; ) {
      await sleep(200);
      onRejoined = await count(c.nodeUrl(dead));
    }
    expect(onRejoined).toEqual(onLeader);
    console.info(
      `HA: ${dead.name} rejoined as a replica in ${rejoinMs} ms (${rewound ? 'pg_rewind ran' : 'no rewind was needed'}); ` +
        `it holds the leader's ${onLeader.n} users`,
    );
  }, 150_000);
});
