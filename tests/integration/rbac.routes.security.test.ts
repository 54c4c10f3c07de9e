/**
 * RBAC on every route: walks the routes the app actually registered (the guard records each one with its
 * declared access) and proves that each /api/v1 route declares access and refuses a caller lacking its permission.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TENANT_PERMISSION_CODES } from '../../src/modules/rbac/permissions.js';
import { assertRouteAccess } from '../../src/platform/http/access.js';
import { createTestApp } from '../helpers/app.js';
import { login } from '../helpers/factories.js';
import { client, tenantOwner, userWith } from '../helpers/rbac.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app?.close();
});

const concrete = (url: string) => url.replace(/:[A-Za-z_][A-Za-z0-9_]*(\([^)]*\))?/g, '1').replace(/\*/g, 'x');
const apiRoutes = () =>
  app.declaredRoutes.filter((r) => (r.url.startsWith('/api/v1') || r.url.startsWith('/scim/')) && r.method !== 'HEAD' && r.method !== 'OPTIONS');
const guarded = () => apiRoutes().filter((r) => r.access !== 'public' && r.access !== 'self');

describe('route access declarations', () => {
  it('every /api/v1 route declares public, self or a permission', () => {
    const routes = apiRoutes();
    expect(routes.length).toBeGreaterThan(20);
    const undeclared = routes.filter((r) => !r.access).map((r) => `${r.method} ${r.url}`);
    expect(undeclared).toEqual([]);
  });

  it('the OpenAPI document lists no /api/v1 route the guard does not know', () => {
    const doc = app.swagger() as { paths: Record<string, Record<string, unknown>> };
    const known = new Set(apiRoutes().map((r) => `${r.method} ${r.url.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}')}`));
    const missing: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!path.startsWith('/api/v1')) continue;
      for (const method of Object.keys(ops)) {
        const key = `${method.toUpperCase()} ${path}`;
        if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(method.toUpperCase())) continue;
        if (!known.has(key) && !known.has(key.replace(/\/$/, ''))) missing.push(key);
      }
    }
    expect(missing).toEqual([]);
  });

  it('the boot check refuses a route that declares nothing', () => {
    expect(() => assertRouteAccess({ method: 'GET', url: '/api/v1/oops', handler: async () => null } as never)).toThrow(/declares no access/);
    expect(() => assertRouteAccess({ method: 'GET', url: '/api/v1/ok', config: { access: 'self' }, handler: async () => null } as never)).not.toThrow();
  });
});

describe('a caller without the permission gets 403 on every guarded route', () => {
  it('a user with no role: 403 PERMISSION_DENIED everywhere (before any body validation)', async () => {
    const { owner } = await tenantOwner(app);
    const nobody = await userWith(app, owner.tenantId);
    const failures: string[] = [];
    for (const r of guarded()) {
      const res = await nobody.call(r.method as never, concrete(r.url), r.method === 'GET' ? undefined : {});
      if (res.statusCode !== 403 || res.json().error !== 'PERMISSION_DENIED') failures.push(`${r.method} ${r.url} -> ${res.statusCode} ${res.body.slice(0, 80)}`);
    }
    expect(failures).toEqual([]);
    // Each refusal was audited.
    const rows = await app.ctx.database.query<{ n: string }>(
      `select count(*)::text as n from audit_log where tenant_id = $1 and event_type = 'access.permission_denied' and actor_id = $2`,
      [owner.tenantId, String(nobody.userId)],
    );
    expect(Number(rows[0]!.n)).toBe(guarded().length);
  });

  it('a user holding every tenant permission but the one a route needs: 403 on exactly those routes', async () => {
    const { owner } = await tenantOwner(app);
    const needed = [...new Set(guarded().map((r) => r.access!))].filter((p) => (TENANT_PERMISSION_CODES as readonly string[]).includes(p));
    expect(needed.length).toBeGreaterThan(5);
    const failures: string[] = [];
    for (const perm of needed) {
      const role = await owner.call('POST', '/api/v1/roles', {
        code: `all-but-${perm.replace('.', '-')}`,
        name: `All but ${perm}`,
        permissions: TENANT_PERMISSION_CODES.filter((p) => p !== perm),
      });
      expect(role.statusCode).toBe(201);
      const u = await userWith(app, owner.tenantId);
      expect((await owner.call('POST', `/api/v1/users/${u.userId}/roles`, { role_id: role.json().id })).statusCode).toBe(201);
      const call = client(app, await login(app, owner.tenantId, u.email));
      for (const r of guarded().filter((x) => x.access === perm)) {
        const res = await call(r.method as never, concrete(r.url), r.method === 'GET' ? undefined : {});
        if (res.statusCode !== 403) failures.push(`${perm}: ${r.method} ${r.url} -> ${res.statusCode}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('a tenant owner (not the platform tenant) gets 403 on platform-only routes', async () => {
    const { owner } = await tenantOwner(app);
    const platformRoutes = guarded().filter((r) => r.access!.startsWith('platform.'));
    expect(platformRoutes.length).toBeGreaterThan(0);
    for (const r of platformRoutes) {
      const res = await owner.call(r.method as never, concrete(r.url), r.method === 'GET' ? undefined : {});
      expect(res.statusCode, `${r.method} ${r.url}`).toBe(403);
    }
  });
});
