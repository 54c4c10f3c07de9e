/** The WireGuard network guard (API.md §15) and /api/v1/info, with WG_ENFORCE on; X-Forwarded-For and TRUSTED_PROXIES. */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';

let enforced: FastifyInstance;
let proxied: FastifyInstance;
let open: FastifyInstance;

beforeAll(async () => {
  enforced = await createTestApp({
    WG_ENFORCE: 'true',
    WG_NETWORK: '10.10.0.0/24',
    WG_EXTRA_ALLOWED_CIDRS: '192.0.2.0/28,2001:db8::/64',
  });
  proxied = await createTestApp(
    { WG_ENFORCE: 'true', WG_NETWORK: '10.10.0.0/24', TRUSTED_PROXIES: '127.0.0.1/32' },
    enforced,
  );
  open = await createTestApp({ WG_NETWORK: '10.10.0.0/24' }, enforced);
});
afterAll(async () => {
  await open.close();
  await proxied.close();
  await enforced.close();
});

const get = (
  app: FastifyInstance,
  url: string,
  remoteAddress: string,
  headers: Record<string, string> = {},
) => app.inject({ method: 'GET', url, remoteAddress, headers });

describe('network guard', () => {
  it('outside the tunnel every route but the probes (/health, /ready) is 403 NETWORK_FORBIDDEN, unknown routes included', async () => {
    for (const url of [
      '/api/v1/info',
      '/api/v1/wireguard/peers',
      '/api/v1/auth/me',
      '/',
      '/ready/x',
      '/metrics',
      '/openapi.json',
      '/nope',
      '/health/../api/v1/info',
    ]) {
      const res = await get(enforced, url, '203.0.113.9');
      expect(res.statusCode, url).toBe(403);
      expect(res.json()).toMatchObject({ error: 'NETWORK_FORBIDDEN' });
      expect(res.headers['x-request-id']).toBeTruthy();
    }
    const login = await enforced.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: '203.0.113.9',
      headers: { 'x-tenant-id': '1' },
      payload: { email: 'a@b.test', password: 'x' },
    });
    expect(login.statusCode).toBe(403);
    for (const url of ['/health', '/health/', '/health?probe=1']) {
      const res = await get(enforced, url, '203.0.113.9');
      expect(res.statusCode, url).toBe(200);
      expect(res.json()).toMatchObject({ status: 'healthy', wireguard_network: '10.10.0.0/24' });
    }
  });

  it('issue 24 item 7: /ready answers probes from outside the tunnel with the statuses only; inside, with the details', async () => {
    for (const [url, ip] of [
      ['/ready', '127.0.0.1'],
      ['/ready/', '203.0.113.9'],
      ['//ready?probe=1', '::1'],
    ] as const) {
      const res = await get(enforced, url, ip);
      expect(res.statusCode, `${url} from ${ip}: ${res.body}`).toBe(200);
      // Which backends run here and how fast they answer is for the operators inside, not for any prober.
      expect(res.json()).toEqual({
        status: 'ok',
        checks: {
          database: { status: 'ok' },
          migrations: { status: 'ok' },
          signing_keys: { status: 'ok' },
          redis: { status: 'ok' },
        },
      });
    }
    for (const ip of ['10.10.0.2', '192.0.2.5']) {
      const inside = await get(enforced, '/ready', ip);
      expect(inside.statusCode).toBe(200);
      expect(inside.json().checks.database).toEqual({
        status: 'ok',
        backend: enforced.ctx.database.kind,
        latency_ms: expect.any(Number),
      });
    }
    // The guard off: everyone is an operator (dev, test, a private network).
    expect((await get(open, '/ready', '203.0.113.9')).json().checks.redis.backend).toBe(open.ctx.store.kind);
  });

  it('inside the tunnel (IPv4 or IPv4-mapped) the API answers and /info says so', async () => {
    for (const ip of ['10.10.0.2', '::ffff:10.10.0.254']) {
      const res = await get(enforced, '/api/v1/info', ip);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        api_version: 'v1',
        client_ip: '10.10.0.' + ip.split('.').pop(),
        wireguard_network: '10.10.0.0/24',
        via_wireguard: true,
      });
    }
    expect((await get(enforced, '/api/v1/wireguard/peers', '10.10.0.2')).statusCode).toBe(401); // past the guard, to auth
  });

  it('WG_EXTRA_ALLOWED_CIDRS are let in, but are not the tunnel', async () => {
    for (const ip of ['192.0.2.5', '2001:db8::7']) {
      const res = await get(enforced, '/api/v1/info', ip);
      expect(res.statusCode, ip).toBe(200);
      expect(res.json().via_wireguard).toBe(false);
    }
    expect((await get(enforced, '/api/v1/info', '192.0.2.16')).statusCode).toBe(403);
  });

  it('X-Forwarded-For counts only from TRUSTED_PROXIES', async () => {
    // Untrusted caller claiming a tunnel address: ignored.
    expect(
      (await get(enforced, '/api/v1/info', '203.0.113.9', { 'x-forwarded-for': '10.10.0.5' })).statusCode,
    ).toBe(403);
    expect(
      (await get(proxied, '/api/v1/info', '203.0.113.9', { 'x-forwarded-for': '10.10.0.5' })).statusCode,
    ).toBe(403);
    // From the trusted proxy: the forwarded client decides.
    const via = await get(proxied, '/api/v1/info', '127.0.0.1', { 'x-forwarded-for': '10.10.0.5' });
    expect(via.statusCode).toBe(200);
    expect(via.json()).toMatchObject({ client_ip: '10.10.0.5', via_wireguard: true });
    expect(
      (await get(proxied, '/api/v1/info', '127.0.0.1', { 'x-forwarded-for': '203.0.113.9' })).statusCode,
    ).toBe(403);
    // A spoofed hop in front of a real outside client does not help: the proxy appends the real one.
    expect(
      (await get(proxied, '/api/v1/info', '127.0.0.1', { 'x-forwarded-for': '10.10.0.5, 203.0.113.9' }))
        .statusCode,
    ).toBe(403);
  });

  it('without WG_ENFORCE everyone gets in and /info tells tunnel from not', async () => {
    const outside = await get(open, '/api/v1/info', '203.0.113.9');
    expect(outside.statusCode).toBe(200);
    expect(outside.json()).toMatchObject({ via_wireguard: false, client_ip: '203.0.113.9' });
    expect((await get(open, '/api/v1/info', '10.10.0.9')).json().via_wireguard).toBe(true);
  });
});
