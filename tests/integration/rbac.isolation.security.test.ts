/** Tenant isolation of users, roles and sessions: a tenant-B admin gets 404 for every tenant-A id, never 403. */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { login } from '../helpers/factories.js';
import { roleId, tenantOwner, userWith } from '../helpers/rbac.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app?.close();
});

describe('cross-tenant ids', () => {
  it('a tenant-B owner gets 404 for every tenant-A user, role and session id, and changes nothing', async () => {
    const a = await tenantOwner(app);
    const b = await tenantOwner(app);
    const victim = await userWith(app, a.owner.tenantId, ['viewer']);
    await login(app, a.owner.tenantId, victim.email);
    const customA = (await a.owner.call('POST', '/api/v1/roles', { code: 'secret-role', name: 'S', permissions: ['users.read'] })).json().id as string;
    const systemA = await roleId(a.owner, 'viewer');
    const roleB = await roleId(b.owner, 'viewer');
    const sessionA = (await a.owner.call('GET', `/api/v1/users/${victim.userId}/sessions`)).json().sessions[0].id as string;
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
      if (res.statusCode !== 404) failures.push(`${method} ${url} -> ${res.statusCode} ${res.body.slice(0, 100)}`);
    }
    expect(failures).toEqual([]);

    // Nothing in tenant A moved.
    const after = (await a.owner.call('GET', `/api/v1/users/${uid}`)).json();
    expect(after).toMatchObject({ first_name: 'Test', is_active: true, roles: ['viewer'] });
    expect((await a.owner.call('GET', `/api/v1/roles/${customA}`)).json().name).toBe('S');
    expect((await victim.call('GET', '/api/v1/users/me')).statusCode).toBe(200);
    expect((await a.owner.call('GET', `/api/v1/users/${uid}/sessions`)).json().active_count).toBe(2);
    // And lists never show the other tenant's rows.
    const bUsers = (await b.owner.call('GET', `/api/v1/users?search=${encodeURIComponent(victim.email)}`)).json();
    expect(bUsers.total).toBe(0);
    const bRoles = (await b.owner.call('GET', '/api/v1/roles')).json().roles.map((r: { id: string }) => r.id);
    expect(bRoles).not.toContain(customA);
  });

  it('row-level security backs the queries: tenant B cannot read tenant A roles even with a raw query', async () => {
    const a = await tenantOwner(app);
    const b = await tenantOwner(app);
    const rows = await app.ctx.database.withTenant(b.tenant.id, async (tx) =>
      (await tx.execute<{ n: string }>(`select count(*)::text as n from roles where tenant_id = ${a.tenant.id}` as never)).rows,
    );
    expect(rows[0]!.n).toBe('0');
    const assignments = await app.ctx.database.withTenant(b.tenant.id, async (tx) =>
      (await tx.execute<{ n: string }>(`select count(*)::text as n from user_roles` as never)).rows,
    );
    expect(Number(assignments[0]!.n)).toBe(1); // B's own owner assignment only
  });
});
