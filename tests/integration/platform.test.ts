/** The HTTP platform: base routes, envelopes, headers, request ids, locale, trailing slashes. */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant } from '../helpers/factories.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await createTestApp({ CORS_ALLOWED_ORIGINS: 'https://app.example.test' });
});
afterAll(async () => {
  await app.close();
});

describe('base routes', () => {
  it('GET / and /health', async () => {
    const root = await app.inject({ url: '/' });
    expect(root.json()).toMatchObject({ version: '1.0.0', docs: '/docs' });
    const health = await app.inject({ url: '/health' });
    expect(health.json()).toEqual({
      status: 'healthy',
      environment: 'test',
      wireguard_network: '10.10.0.0/24',
    });
  });

  it('GET /ready checks the database and the store', async () => {
    const res = await app.inject({ url: '/ready' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'ok',
      checks: { database: { status: 'ok' }, redis: { status: 'ok' } },
    });
  });

  it('GET /metrics is Prometheus text with request and login counters', async () => {
    const { tenant, admin } = await newTenant(app);
    await login(app, tenant.id, admin.email);
    const res = await app.inject({ url: '/metrics' });
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.body).toContain('massacorp_http_requests_total');
    expect(res.body).toMatch(/massacorp_logins_total\{result="success"\} \d+/);
    expect(res.body).toContain('massacorp_db_pool_connections');
  });

  it('GET /api/v1/info reports the client and whether it came through the tunnel', async () => {
    const res = await app.inject({ url: '/api/v1/info', remoteAddress: '10.10.0.7' });
    expect(res.json()).toMatchObject({
      api_version: 'v1',
      client_ip: '10.10.0.7',
      wireguard_network: '10.10.0.0/24',
      via_wireguard: true,
    });
    const outside = await app.inject({ url: '/api/v1/info', remoteAddress: '127.0.0.1' });
    expect(outside.json().via_wireguard).toBe(false);
  });

  it('GET /openapi.json documents every /api/v1 route, and /docs serves Swagger UI', async () => {
    const doc = (await app.inject({ url: '/openapi.json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    for (const p of [
      '/api/v1/auth/login',
      '/api/v1/auth/refresh',
      '/api/v1/sessions/{id}',
      '/api/v1/tenants/current',
    ]) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
    const docs = await app.inject({ url: '/docs/' });
    expect(docs.statusCode).toBe(200);
  });

  it('issue 20: the SCIM routes are in /openapi.json (path, method, summary), and still answer in RFC 7644 shape', async () => {
    const doc = (await app.inject({ url: '/openapi.json' })).json();
    const users = doc.paths['/scim/v2/Users'];
    expect(Object.keys(users ?? {}).sort()).toEqual(['get', 'post']);
    expect(users.get.summary).toMatch(/users/i);
    expect(users.get.tags).toEqual(['scim']);
    expect(users.get.responses.default.description).toMatch(/RFC 7644/);
    expect(Object.keys(doc.paths['/scim/v2/Users/{id}']).sort()).toEqual(['delete', 'get', 'patch', 'put']);
    for (const p of [
      '/scim/v2/ServiceProviderConfig',
      '/scim/v2/Groups',
      '/scim/v2/Groups/{id}',
      '/scim/v2/.search',
    ])
      expect(Object.keys(doc.paths)).toContain(p);
    // Listed, not re-shaped: an unauthenticated call still gets RFC 7644's error, not our envelope.
    const refused = await app.inject({ url: '/scim/v2/Users' });
    expect(refused.statusCode).toBe(401);
    expect(refused.json().schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
  });
});

describe('envelopes', () => {
  it('unknown routes are 404 NOT_FOUND, wrong methods 405 with Allow', async () => {
    const nf = await app.inject({ url: '/api/v1/nope' });
    expect(nf.statusCode).toBe(404);
    expect(nf.json()).toMatchObject({ error: 'NOT_FOUND' });
    expect(nf.json().request_id).toBe(nf.headers['x-request-id']);
    const mna = await app.inject({ method: 'PUT', url: '/api/v1/auth/login' });
    expect(mna.statusCode).toBe(405);
    expect(mna.json().error).toBe('METHOD_NOT_ALLOWED');
    expect(mna.headers.allow).toBe('POST');
  });

  it('a wrong content type is 415', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      headers: { 'content-type': 'text/xml' },
      payload: '<x/>',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().error).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('a trailing slash behaves like the path without it, with no redirect', async () => {
    const { tenant, admin } = await newTenant(app);
    const t = await login(app, tenant.id, admin.email);
    const a = await app.inject({ url: '/api/v1/auth/me/', headers: bearer(t) });
    expect(a.statusCode).toBe(200);
    expect((await app.inject({ url: '/health/' })).statusCode).toBe(200);
  });

  it('unknown query parameters are ignored, and a wrong type in a known one is 422', async () => {
    const { tenant, admin } = await newTenant(app);
    const t = await login(app, tenant.id, admin.email);
    const ok = await app.inject({
      url: '/api/v1/sessions?utm_source=x&include_inactive=true',
      headers: bearer(t),
    });
    expect(ok.statusCode).toBe(200);
    const bad = await app.inject({ url: '/api/v1/sessions?include_inactive=maybe', headers: bearer(t) });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().details.errors[0].field).toBe('querystring.include_inactive');
  });

  it('messages follow Accept-Language (fr by default), codes never change', async () => {
    const fr = await app.inject({ url: '/api/v1/auth/me' });
    const en = await app.inject({ url: '/api/v1/auth/me', headers: { 'accept-language': 'en-GB,en;q=0.9' } });
    expect(fr.json().error).toBe(en.json().error);
    expect(fr.json().message).toBe('Authentification requise');
    expect(en.json().message).toBe('Authentication required');
  });
});

describe('headers', () => {
  it('security headers on every response, errors included', async () => {
    for (const url of ['/health', '/api/v1/nope', '/api/v1/auth/me']) {
      const res = await app.inject({ url });
      expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
      expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
      expect(res.headers['content-security-policy']).not.toMatch(/unsafe-eval/);
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
      expect(res.headers['x-response-time']).toMatch(/ms$/);
    }
  });

  it('echoes a sane X-Request-ID and replaces an unsafe one', async () => {
    const mine = await app.inject({ url: '/health', headers: { 'x-request-id': 'trace-abc-12345' } });
    expect(mine.headers['x-request-id']).toBe('trace-abc-12345');
    const evil = await app.inject({
      url: '/health',
      headers: { 'x-request-id': '<script>alert(1)</script>' },
    });
    expect(evil.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('Cache-Control: no-store under /auth/; CORS only for configured origins', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: 'x' },
    });
    expect(res.headers['cache-control']).toBe('no-store');
    const ok = await app.inject({
      method: 'OPTIONS',
      url: '/api/v1/auth/login',
      headers: { origin: 'https://app.example.test', 'access-control-request-method': 'POST' },
    });
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example.test');
    // The preflight is answered by @fastify/cors's own hook, and still carries the §3 security headers.
    expect(ok.headers['x-content-type-options']).toBe('nosniff');
    expect(ok.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    const bad = await app.inject({
      method: 'OPTIONS',
      url: '/api/v1/auth/login',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(bad.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('rate-limited routes send X-RateLimit-* and 429 with Retry-After once over the limit', async () => {
    const limited = await createTestApp({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_REFRESH: '3' }, app);
    try {
      const codes: number[] = [];
      let last: Awaited<ReturnType<typeof limited.inject>> | undefined;
      for (let i = 0; i < 4; i++) {
        last = await limited.inject({
          method: 'POST',
          url: '/api/v1/auth/refresh',
          payload: { refresh_token: 'x' },
          remoteAddress: '192.0.2.77',
        });
        codes.push(last.statusCode);
      }
      expect(codes).toEqual([401, 401, 401, 429]);
      expect(last!.json().error).toBe('RATE_LIMIT_EXCEEDED');
      expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
      expect(last!.headers['x-ratelimit-limit']).toBe('3');
      expect(last!.headers['x-ratelimit-remaining']).toBe('0');
    } finally {
      await limited.close();
    }
  });
});

describe('dependencies down', () => {
  it('answers 503 SERVICE_UNAVAILABLE (not 500) and /ready says which one, when Redis is unreachable', async () => {
    const broken = await createTestApp({ REDIS_URL: 'redis://127.0.0.1:1' }, undefined);
    try {
      const ready = await broken.inject({ url: '/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().checks.redis.status).toBe('error');
      const res = await broken.inject({ url: '/api/v1/auth/me', headers: { authorization: 'Bearer x' } });
      expect(res.statusCode).toBe(401);
      const { tenant, admin } = await newTenant(app);
      const t = await login(app, tenant.id, admin.email);
      const me = await broken.inject({ url: '/api/v1/auth/me', headers: bearer(t) });
      expect(me.statusCode).toBe(503);
      expect(me.json().error).toBe('SERVICE_UNAVAILABLE');
    } finally {
      await broken.close();
    }
  });
});
