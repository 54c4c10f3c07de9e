/**
 * Hashing runs on the libuv pool, not the event loop: with production argon2 parameters, /health stays fast
 * while 20 logins are being verified in parallel.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, usingPostgres } from '../helpers/app.js';
import { newTenant } from '../helpers/factories.js';

let app: FastifyInstance;
let base: string;
beforeAll(async () => {
  app = await createTestApp({ ARGON2_MEMORY_KIB: '19456', ARGON2_TIME_COST: '2' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await app.close();
});

function p99(values: number[]) {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
}

describe('event loop', () => {
  it('/health p99 stays under 50 ms while 20 logins run in parallel', async () => {
    const { tenant, admin, adminPassword } = await newTenant(app);
    // Warm up the connection, the route and the JIT so the first sample measures the server, not the setup.
    for (let i = 0; i < 20; i++) await (await fetch(`${base}/health`)).arrayBuffer();
    const loginOnce = () =>
      fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-tenant-id': String(tenant.id) },
        body: JSON.stringify({ email: admin.email, password: adminPassword }),
      }).then((r) => r.status);
    // ...and the login path once, so the burst below measures steady state rather than first-call compilation.
    expect(await loginOnce()).toBe(200);
    const logins = Promise.all(Array.from({ length: 20 }, loginOnce));
    let done = false;
    void logins.finally(() => {
      done = true;
    });
    const latencies: number[] = [];
    while (!done || latencies.length < 20) {
      const t0 = performance.now();
      const res = await fetch(`${base}/health`);
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 2));
    }
    const statuses = await logins;
    expect(statuses.every((s) => s === 200)).toBe(true);
    const worst = p99(latencies);
    console.log(
      `/health during 20 parallel logins: n=${latencies.length} p99=${worst.toFixed(1)}ms samples=${latencies.map((l) => l.toFixed(0)).join(',')}`,
    );
    expect(latencies.length).toBeGreaterThan(10);
    // On PostgreSQL only hashing competes with the loop, and it runs on the libuv pool: the 50 ms bar holds.
    // Embedded PGlite executes SQL (WASM) on the main thread by design, so its bound is looser.
    expect(worst).toBeLessThan(usingPostgres ? 50 : 150);
  });
});
