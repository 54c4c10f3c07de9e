/**
 * Zero-failure rolling restarts (issue 24 item 1): on SIGTERM the real process drains for SHUTDOWN_DRAIN_MS
 * (/ready 503 `shutting_down`, every other request served, responses carry `Connection: close`), then closes.
 * Load comes from plain keep-alive agents, as a load balancer's or a client's would; nothing is retried, so
 * every error and every non-200 counts. The seeded password rule (item 8) rides on the first spawned server.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ServerProcess, seededAdmin, startServer } from '../helpers/server-process.js';

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(
  agent: http.Agent,
  port: number,
  url: string,
  headers: Record<string, string> = {},
  method = 'GET',
  payload?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: url, method, agent, headers, timeout: 20_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}

interface Tally {
  ok: number;
  failures: string[];
  /** 200s that asked the client to close its connection (the drain). */
  closing: number;
}

/**
 * `loops` parallel request loops over one keep-alive agent until `running()` turns false or `maxPerLoop` is
 * reached: bounded in time and count.
 */
async function load(
  port: () => number,
  requests: { url: string; headers?: Record<string, string> }[],
  loops: number,
  running: () => boolean,
  maxPerLoop = 5000,
  /** A pause between two requests of a loop, so replicas booting on a small machine get some CPU too. */
  pauseMs = 0,
): Promise<Tally> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: loops });
  const tally: Tally = { ok: 0, failures: [], closing: 0 };
  await Promise.all(
    Array.from({ length: loops }, async (_, i) => {
      for (let n = 0; n < maxPerLoop && running(); n++) {
        const r = requests[(i + n) % requests.length]!;
        try {
          const res = await get(agent, port(), r.url, r.headers);
          if (res.status !== 200) tally.failures.push(`${r.url}: ${res.status} ${res.body.slice(0, 200)}`);
          else {
            tally.ok++;
            if (res.headers.connection === 'close') tally.closing++;
          }
        } catch (err) {
          tally.failures.push(
            `${r.url}: ${(err as Error & { code?: string }).code ?? (err as Error).message}`,
          );
        }
        if (pauseMs > 0) await sleep(pauseMs);
      }
    }),
  );
  agent.destroy();
  return tally;
}

async function readyOf(port: number): Promise<Answer | null> {
  const agent = new http.Agent({ keepAlive: false });
  return get(agent, port, '/ready').catch(() => null);
}

function track(server: ServerProcess) {
  cleanups.push(() => server.kill());
  return server;
}

describe('rolling restart (issue 24 item 1)', () => {
  it('drain: SIGTERM under keep-alive load loses no request, /ready is 503 shutting_down and responses carry Connection: close during SHUTDOWN_DRAIN_MS, then the process exits 0; the seeded password went to a 0600 file, not to stdout', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'massacorp-drain-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const drainMs = 4000;
    const server = track(
      await startServer({
        DATA_DIR: dataDir,
        AUTO_SEED: 'true',
        LOG_LEVEL: 'info',
        SHUTDOWN_DRAIN_MS: String(drainMs),
        SHUTDOWN_TIMEOUT_MS: '10000',
      }),
    );

    // Item 8: stdout is a pipe, so the generated password is in DATA_DIR/initial-admin-password (0600) only.
    const file = path.join(dataDir, 'initial-admin-password');
    const password = readFileSync(file, 'utf8').trim();
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const seeded = await seededAdmin(() => server.output());
    expect(server.output()).toContain(`written to ${file}`);
    expect(server.output()).not.toContain(password);
    const signIn = await get(
      new http.Agent(),
      server.port,
      '/api/v1/auth/login',
      { 'content-type': 'application/json', 'x-tenant-id': seeded.tenantId },
      'POST',
      JSON.stringify({ email: seeded.email, password }),
    );
    expect(signIn.status, signIn.body).toBe(200);
    const token = JSON.parse(signIn.body).access_token as string;

    let signalledAt = 0;
    // New requests stop well before the drain ends: past it this single server closes, and with no other
    // replica behind a balancer a new connection could only be refused.
    const stopAfterSignalMs = drainMs - 1500;
    const running = () => signalledAt === 0 || Date.now() - signalledAt < stopAfterSignalMs;
    const loadDone = load(
      () => server.port,
      [
        { url: '/api/v1/auth/me', headers: { authorization: `Bearer ${token}` } },
        { url: '/api/v1/info' },
        { url: '/health' },
      ],
      6,
      running,
    );
    await sleep(1500);
    signalledAt = Date.now();
    server.child.kill('SIGTERM');

    // /ready turns 503 during the drain, on a fresh connection (the listener is still open).
    let notReady: Answer | null = null;
    let notReadyAt = 0;
    while (!notReady && Date.now() - signalledAt < drainMs - 500) {
      const r = await readyOf(server.port);
      if (r?.status === 503) {
        notReady = r;
        notReadyAt = Date.now();
      } else await sleep(100);
    }
    expect(notReady, 'a 503 from /ready during the drain').not.toBeNull();
    expect(JSON.parse(notReady!.body)).toEqual({ status: 'error', reason: 'shutting_down' });
    expect(notReady!.headers.connection).toBe('close');

    const tally = await loadDone;
    const { code, at } = await server.exited;
    expect(tally.failures, tally.failures.slice(0, 10).join('\n')).toEqual([]);
    expect(tally.ok).toBeGreaterThan(20);
    expect(tally.closing, 'responses during the drain ask the client to close').toBeGreaterThan(0);
    expect(code, server.output()).toBe(0);
    expect(at - signalledAt, 'the process waited for the drain').toBeGreaterThanOrEqual(drainMs - 100);
    expect(at - signalledAt).toBeLessThan(drainMs + 10_000);
    expect(server.output()).toMatch(/draining: \/ready answers 503/);
    console.info(
      `drain: ${tally.ok} requests answered 200 (${tally.closing} with Connection: close), ${tally.failures.length} failed; ` +
        `/ready 503 ${notReadyAt - signalledAt} ms after SIGTERM; exit ${at - signalledAt} ms after SIGTERM (drain ${drainMs} ms)`,
    );
    expect(server.output()).toMatch(/shut down cleanly/);
  }, 120_000);

  it('drain: a second SIGTERM during the drain skips the rest of it, and the process still exits 0', async () => {
    const server = track(await startServer({ SHUTDOWN_DRAIN_MS: '60000', LOG_LEVEL: 'info' }));
    const signalledAt = Date.now();
    server.child.kill('SIGTERM');
    let draining = false;
    while (!draining && Date.now() - signalledAt < 20_000) {
      draining = (await readyOf(server.port))?.status === 503;
      if (!draining) await sleep(100);
    }
    expect(draining, server.output()).toBe(true);
    // Still serving while draining.
    expect((await get(new http.Agent(), server.port, '/api/v1/info')).status).toBe(200);
    server.child.kill('SIGTERM');
    const { code, at } = await server.exited;
    expect(code, server.output()).toBe(0);
    expect(at - signalledAt).toBeLessThan(30_000);
    expect(server.output()).toMatch(/second signal: ending the drain now/);
  }, 120_000);

  it('two replicas behind a round-robin balancer that retries nothing, restarted one after the other under keep-alive load: zero failed requests', async () => {
    const env = { SHUTDOWN_DRAIN_MS: '2500', SHUTDOWN_TIMEOUT_MS: '10000' };
    const [a, b] = await Promise.all([startServer(env), startServer(env)]);
    const replicas = [track(a!), track(b!)];
    const lb = await balancer(replicas.map((r) => r.port));
    cleanups.push(() => lb.close());

    let stop = false;
    const loadDone = load(
      () => lb.port,
      [{ url: '/api/v1/info' }, { url: '/health' }, { url: '/' }],
      6,
      () => !stop,
      20_000,
      3,
    );
    const restarts: { drainedToExitMs: number; code: number | null }[] = [];
    for (let i = 0; i < replicas.length; i++) {
      await sleep(1000);
      const old = replicas[i]!;
      const signalledAt = Date.now();
      old.child.kill('SIGTERM');
      const { code, at } = await old.exited;
      restarts.push({ drainedToExitMs: at - signalledAt, code });
      const fresh = track(await startServer(env));
      replicas[i] = fresh;
      lb.replace(old.port, fresh.port);
      await lb.waitUp(fresh.port, 30_000);
    }
    await sleep(1000);
    stop = true;
    const tally = await loadDone;
    for (const r of replicas) r.child.kill('SIGTERM');
    expect(tally.failures, tally.failures.slice(0, 10).join('\n')).toEqual([]);
    expect(lb.errors, lb.errors.slice(0, 10).join('\n')).toEqual([]);
    expect(restarts.map((r) => r.code)).toEqual([0, 0]);
    for (const r of restarts) expect(r.drainedToExitMs).toBeGreaterThanOrEqual(2400);
    expect(tally.ok).toBeGreaterThan(100);
    console.info(
      `rolling restart: ${tally.ok} requests answered 200, ${tally.failures.length} failed; ` +
        `${tally.closing} responses asked to close; SIGTERM to exit ${restarts.map((r) => r.drainedToExitMs).join(' ms, ')} ms`,
    );
  }, 180_000);
});

/**
 * A minimal load balancer: round robin over the backends its health check (GET /ready every 250 ms, one
 * failure takes a backend out, one success puts it back) considers up; keep-alive to the backends; no retry,
 * so a request lost by a backend is a failed request for the client.
 */
async function balancer(ports: number[]) {
  const backends = ports.map((port) => ({ port, up: true }));
  const upstream = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const errors: string[] = [];
  let next = 0;
  const server = http.createServer((req, res) => {
    const live = backends.filter((b) => b.up);
    if (live.length === 0) {
      errors.push(`${req.url}: no backend up`);
      res.writeHead(502).end();
      return;
    }
    const target = live[next++ % live.length]!;
    const forward = http.request(
      {
        host: '127.0.0.1',
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent: upstream,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', (err: Error & { code?: string }) => {
      errors.push(`${req.url} -> ${target.port}: ${err.code ?? err.message}`);
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.pipe(forward);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const probeAgent = new http.Agent({ keepAlive: false });
  let closed = false;
  const checks = (async () => {
    while (!closed) {
      await Promise.all(
        backends.map(async (b) => {
          const r = await get(probeAgent, b.port, '/ready').catch(() => null);
          b.up = r?.status === 200;
        }),
      );
      await sleep(250);
    }
  })();
  return {
    port,
    errors,
    replace(oldPort: number, newPort: number) {
      const b = backends.find((x) => x.port === oldPort)!;
      b.port = newPort;
      b.up = false;
    },
    async waitUp(p: number, timeoutMs: number) {
      const deadline = Date.now() + timeoutMs;
      while (!backends.find((b) => b.port === p)?.up) {
        if (Date.now() > deadline) throw new Error(`backend ${p} never became ready`);
        await sleep(50);
      }
    },
    async close() {
      closed = true;
      await checks;
      upstream.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
