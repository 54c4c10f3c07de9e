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
import { type ServerProcess, startServer } from '../helpers/server-process.js';

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
    expect(server.output()).toContain(`Generated password written to ${file}`);
    expect(server.output()).not.toContain(password);
    const seeded = /Seeded tenant (\d+) .* with admin (\S+)\n/.exec(server.output());
    expect(seeded, server.output()).not.toBeNull();
    const signIn = await get(
      new http.Agent(),
      server.port,
      '/api/v1/auth/login',
      { 'content-type': 'application/json', 'x-tenant-id': seeded![1]! },
      'POST',
      JSON.stringify({ email: seeded![2], password }),
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
    while (!notReady && Date.now() - signalledAt < drainMs - 500) {
      const r = await readyOf(server.port);
      if (r?.status === 503) notReady = r;
      else await sleep(100);
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
});
