/**
 * RBAC security: walks the routes the app actually registered (the guard records each one with its declared
 * access) and proves that each /api/v1 route declares access and refuses a caller lacking its permission; and
 * tenant isolation of users, roles and sessions (a tenant-B admin gets 404 for every tenant-A id, never 403).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TENANT_PERMISSION_CODES } from '../../src/modules/rbac/permissions.js';
import { assertRouteAccess } from '../../src/platform/http/access.js';
import { createTestApp } from '../helpers/app.js';
import { login } from '../helpers/factories.js';
import { client, roleId, tenantOwner, userWith } from '../helpers/rbac.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app?.close();
});

const concrete = (url: string) =>
  url.replace(/:[A-Za-z_][A-Za-z0-9_]*(\([^)]*\))?/g, '1').replace(/\*/g, 'x');
const apiRoutes = () =>
  app.declaredRoutes.filter(
    (r) =>
      (r.url.startsWith('/api/v1') || r.url.startsWith('/scim/')) &&
      r.method !== 'HEAD' &&
      r.method !== 'OPTIONS',
  );
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
    const known = new Set(
      apiRoutes().map((r) => `${r.method} ${r.url.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}')}`),
    );
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
    expect(() =>
      assertRouteAccess({ method: 'GET', url: '/api/v1/oops', handler: async () => null } as never, app.ctx),
    ).toThrow(/declares no access/);
    expect(() =>
      assertRouteAccess(
        {
          method: 'GET',
          url: '/api/v1/ok',
          config: { access: 'self', keyScope: null },
          handler: async () => null,
        } as never,
        app.ctx,
      ),
    ).not.toThrow();
  });
});

describe('a caller without the permission gets 403 on every guarded route', () => {
  it('a user with no role: 403 PERMISSION_DENIED everywhere (before any body validation)', async () => {
    const { owner } = await tenantOwner(app);
    const nobody = await userWith(app, owner.tenantId);
    const failures: string[] = [];
    for (const r of guarded()) {
      const res = await nobody.call(r.method as never, concrete(r.url), r.method === 'GET' ? undefined : {});
      if (res.statusCode !== 403 || res.json().error !== 'PERMISSION_DENIED')
        failures.push(`${r.method} ${r.url} -> ${res.statusCode} ${res.body.slice(0, 80)}`);
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
    const needed = [...new Set(guarded().map((r) => r.access!))].filter((p) =>
      (TENANT_PERMISSION_CODES as readonly string[]).includes(p),
    );
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
      expect(
        (await owner.call('POST', `/api/v1/users/${u.userId}/roles`, { role_id: role.json().id })).statusCode,
      ).toBe(201);
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

describe('cross-tenant ids', () => {
  it('a tenant-B owner gets 404 for every tenant-A user, role and session id, and changes nothing', async () => {
    const a = await tenantOwner(app);
    const b = await tenantOwner(app);
    const victim = await userWith(app, a.owner.tenantId, ['viewer']);
    await login(app, a.owner.tenantId, victim.email);
    const customA = (
      await a.owner.call('POST', '/api/v1/roles', {
        code: 'secret-role',
        name: 'S',
        permissions: ['users.read'],
      })
    ).json().id as string;
    const systemA = await roleId(a.owner, 'viewer');
    const roleB = await roleId(b.owner, 'viewer');
    const sessionA = (await a.owner.call('GET', `/api/v1/users/${victim.userId}/sessions`)).json().sessions[0]
      .id as string;
    const uid = victim.userId;

    const probes: [string, string, unknown?][] = [
      ['GET', `/api/v1/users/${uid}`],
      ['PUT', `/api/v1/users/${uid}`, { first_name: 'Pwned' }],
      ['DELETE', `/api/v1/users/${uid}`],
      ['POST', `/api/v1/users/${uid}/activate`],
      ['POST', `/api/v1/users/${uid}/deactivate`],
      ['POST', `/api/v1/users/${uid}/verify`],
      ['GET', `/api/v1/users/${uid}/sessions`],
      ['DELETE', `/api/v1/users/${uid}/sessions`],
      ['DELETE', `/api/v1/users/${uid}/sessions`, { session_ids: [sessionA] }],
      ['GET', `/api/v1/users/${uid}/roles`],
      ['POST', `/api/v1/users/${uid}/roles`, { role_id: roleB }],
      ['DELETE', `/api/v1/users/${uid}/roles/${systemA}`],
      ['GET', `/api/v1/users/${uid}/permissions`],
      ['GET', `/api/v1/roles/${customA}`],
      ['PUT', `/api/v1/roles/${customA}`, { name: 'Pwned' }],
      ['DELETE', `/api/v1/roles/${customA}`],
      ['GET', `/api/v1/roles/${systemA}`],
      ['GET', `/api/v1/sessions/${sessionA}`],
      ['DELETE', `/api/v1/sessions/${sessionA}`],
      // B's own user, but A's role ids: assigning or referencing them is 404 too.
      ['POST', `/api/v1/users/${b.owner.userId}/roles`, { role_id: customA }],
      ['POST', '/api/v1/roles', { code: 'child', name: 'C', permissions: [], parent_role_id: customA }],
    ];
    const failures: string[] = [];
    for (const [method, url, body] of probes) {
      const res = await b.owner.call(method as never, url, body);
      if (res.statusCode !== 404)
        failures.push(`${method} ${url} -> ${res.statusCode} ${res.body.slice(0, 100)}`);
    }
    expect(failures).toEqual([]);

    // Nothing in tenant A moved.
    const after = (await a.owner.call('GET', `/api/v1/users/${uid}`)).json();
    expect(after).toMatchObject({ first_name: 'Test', is_active: true, roles: ['viewer'] });
    expect((await a.owner.call('GET', `/api/v1/roles/${customA}`)).json().name).toBe('S');
    expect((await victim.call('GET', '/api/v1/users/me')).statusCode).toBe(200);
    expect((await a.owner.call('GET', `/api/v1/users/${uid}/sessions`)).json().active_count).toBe(2);
    // And lists never show the other tenant's rows.
    const bUsers = (
      await b.owner.call('GET', `/api/v1/users?search=${encodeURIComponent(victim.email)}`)
    ).json();
    expect(bUsers.total).toBe(0);
    const bRoles = (await b.owner.call('GET', '/api/v1/roles')).json().roles.map((r: { id: string }) => r.id);
    expect(bRoles).not.toContain(customA);
  });

  it('row-level security backs the queries: tenant B cannot read tenant A roles even with a raw query', async () => {
    const a = await tenantOwner(app);
    const b = await tenantOwner(app);
    const rows = await app.ctx.database.withTenant(
      b.tenant.id,
      async (tx) =>
        (
          await tx.execute<{ n: string }>(
            `select count(*)::text as n from roles where tenant_id = ${a.tenant.id}` as never,
          )
        ).rows,
    );
    expect(rows[0]!.n).toBe('0');
    const assignments = await app.ctx.database.withTenant(
      b.tenant.id,
      async (tx) =>
        (await tx.execute<{ n: string }>(`select count(*)::text as n from user_roles` as never)).rows,
    );
    expect(Number(assignments[0]!.n)).toBe(1); // B's own owner assignment only
  });
});
