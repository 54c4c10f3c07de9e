/**
 * Issue 14: the admin console's serving contract (API.md §18), on a stand-in build in a temporary folder so the
 * suite does not depend on Vite: caching, SPA fallback, the strict CSP, config.json, and the caller's own
 * permissions route the console uses to show or hide its controls. The real build is exercised by the browser
 * tests (tests/web).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCS_CSP } from '../../src/app.js';
import { ADMIN_CSP } from '../../src/platform/http/admin-console.js';
import { createTestApp } from '../helpers/app.js';
import { tenantOwner, userWith } from '../helpers/rbac.js';

let dir: string;
let app: FastifyInstance;
let unbuilt: FastifyInstance;
const INDEX =
  '<!doctype html><html><head><script type="module" src="/admin/assets/index-AbC123.js"></script></head></html>';

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mc-console-'));
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'index.html'), INDEX);
  writeFileSync(path.join(dir, 'assets', 'index-AbC123.js'), 'console.log(1)');
  writeFileSync(path.join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(path.join(dir, '.secret'), 'nope');
  app = await createTestApp({ ADMIN_CONSOLE_DIR: dir, ADMIN_DEFAULT_TENANT: 'acme' });
  unbuilt = await createTestApp({ ADMIN_CONSOLE_DIR: path.join(dir, 'missing') }, app);
});
afterAll(async () => {
  await unbuilt?.close();
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

describe('issue 14: admin console at /admin', () => {
  it('serves index.html at /admin and /admin/ with no-cache and the strict CSP', async () => {
    for (const url of ['/admin', '/admin/']) {
      const res = await app.inject({ method: 'GET', url, headers: html });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toBe(ADMIN_CSP);
      expect(res.body).toBe(INDEX);
    }
    expect(ADMIN_CSP).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    );
  });

  it('caches hashed assets for a year, immutable; other files are no-cache', async () => {
    const asset = await app.inject({ method: 'GET', url: '/admin/assets/index-AbC123.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers['content-security-policy']).toBe(ADMIN_CSP);
    const icon = await app.inject({ method: 'GET', url: '/admin/favicon.svg' });
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['cache-control']).toBe('no-cache');
  });

  it('falls back to index.html only for GET requests that accept HTML under /admin', async () => {
    const deep = await app.inject({ method: 'GET', url: '/admin/users/42', headers: html });
    expect(deep.statusCode).toBe(200);
    expect(deep.body).toBe(INDEX);
    expect(deep.headers['cache-control']).toBe('no-cache');
    // A missing script or JSON fetch is a 404 envelope, never the HTML page.
    const missing = await app.inject({
      method: 'GET',
      url: '/admin/assets/gone-123.js',
      headers: { accept: '*/*' },
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toBe('NOT_FOUND');
    const post = await app.inject({ method: 'POST', url: '/admin/users', headers: html, payload: {} });
    expect(post.statusCode).toBe(405);
    expect(post.json().error).toBe('METHOD_NOT_ALLOWED');
    // Outside /admin nothing changes: unknown routes stay JSON 404s.
    const outside = await app.inject({ method: 'GET', url: '/adminx', headers: html });
    expect(outside.statusCode).toBe(404);
    expect(outside.json().error).toBe('NOT_FOUND');
  });

  it('never serves dot files or paths that climb out of the build', async () => {
    const dot = await app.inject({ method: 'GET', url: '/admin/.secret', headers: { accept: '*/*' } });
    expect(dot.statusCode).toBe(404);
    for (const url of [
      '/admin/../package.json',
      '/admin/%2e%2e/package.json',
      '/admin/assets/..%2f..%2fpackage.json',
    ]) {
      const res = await app.inject({ method: 'GET', url, headers: { accept: '*/*' } });
      expect(res.body, url).not.toContain('"name": "massacorp"');
      expect([403, 404]).toContain(res.statusCode);
    }
  });

  it('GET /admin/config.json gives the runtime settings', async () => {
    const res = await app.inject({ method: 'GET', url: '/admin/config.json' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.default_tenant).toBe('acme');
    expect(body.locales).toEqual(['fr', 'en']);
    expect(body.features).toEqual(expect.arrayContaining(['auth', 'users', 'rbac', 'audit', 'wireguard']));
    expect(res.headers['content-security-policy']).toBe(ADMIN_CSP);
    // The console's routes are no part of the API document.
    const doc = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(Object.keys(doc.json().paths).some((p) => p.startsWith('/admin'))).toBe(false);
  });

  it('answers 503 with a hint when the console is not built', async () => {
    const res = await unbuilt.inject({ method: 'GET', url: '/admin/users', headers: html });
    expect(res.statusCode).toBe(503);
    expect(res.json().details.reason).toMatch(/npm run build/);
  });

  it('/docs (Swagger UI) is served under a strict CSP too: no unsafe-inline, no unsafe-eval', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs/', headers: html });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toBe(DOCS_CSP);
    expect(DOCS_CSP).not.toMatch(/unsafe-inline|unsafe-eval|https:/);
    const js = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(js.headers['content-security-policy']).toBe(DOCS_CSP);
    expect(js.body).toContain('BaseLayout');
  });

  it('the rest of the API keeps its own CSP', async () => {
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.headers['content-security-policy']).not.toBe(ADMIN_CSP);
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
  });
});

describe("issue 14: GET /api/v1/permissions/me (the caller's own permissions)", () => {
  it('an owner gets the expanded tenant set; a member without roles.read gets theirs', async () => {
    const { owner, tenant } = await tenantOwner(app);
    const mine = await owner.call('GET', '/api/v1/permissions/me');
    expect(mine.statusCode).toBe(200);
    expect(mine.json().permissions).toContain('users.write');
    expect(mine.json().permissions).not.toContain('platform.tenants');
    const member = await userWith(app, tenant.id, ['member']);
    const theirs = await member.call('GET', '/api/v1/permissions/me');
    expect(theirs.statusCode).toBe(200);
    expect(theirs.json().permissions).toEqual(['features.read', 'users.read']);
    // Without a caller it is 401 like every other self route.
    expect((await app.inject({ method: 'GET', url: '/api/v1/permissions/me' })).statusCode).toBe(401);
  });
});
