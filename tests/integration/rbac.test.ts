import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { client, platformOperator, roleId, tenantOwner, userWith } from '../helpers/rbac.js';

let app: FastifyInstance;
let replica: FastifyInstance;
beforeAll(async () => {
  app = await createTestApp();
  replica = await createTestApp({}, app);
});
afterAll(async () => {
  await replica?.close();
  await app?.close();
});

describe('roles', () => {
  it('every tenant gets the five system roles, and its first admin is owner', async () => {
    const { owner } = await tenantOwner(app);
    const res = await owner.call('GET', '/api/v1/roles');
    expect(res.statusCode).toBe(200);
    const codes = res
      .json()
      .roles.map((r: { code: string }) => r.code)
      .sort();
    expect(codes).toEqual(['admin', 'manager', 'member', 'owner', 'viewer']);
    const me = await owner.call('GET', `/api/v1/users/${owner.userId}`);
    expect(me.json().roles).toEqual(['owner']);
    const perms = await owner.call('GET', `/api/v1/users/${owner.userId}/permissions`);
    expect(perms.json().permissions).toContain('roles.write');
    // A tenant owner's `*` never reaches platform-only permissions.
    expect(perms.json().permissions).not.toContain('platform.tenants');
    expect(perms.json().permissions).not.toContain('*');
  });

  it('lists the permission catalogue', async () => {
    const { owner } = await tenantOwner(app);
    const res = await owner.call('GET', '/api/v1/permissions');
    expect(res.statusCode).toBe(200);
    expect(res.json().permissions.map((p: { code: string }) => p.code)).toContain('users.read');
    expect(res.json().wildcards).toContain('users.*');
  });

  it('creates, reads, updates and deletes a custom role, with audit before/after', async () => {
    const { owner } = await tenantOwner(app);
    const created = await owner.call('POST', '/api/v1/roles', {
      code: 'support',
      name: 'Support',
      permissions: ['users.read', 'sessions.*'],
    });
    expect(created.statusCode).toBe(201);
    const id = created.json().id;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const got = await owner.call('GET', `/api/v1/roles/${id}`);
    expect(got.json().effective_permissions).toEqual(['sessions.*', 'users.read']);
    const upd = await owner.call('PUT', `/api/v1/roles/${id}`, {
      name: 'Support L2',
      permissions: ['users.read'],
      mfa_required: true,
    });
    expect(upd.statusCode).toBe(200);
    expect(upd.json()).toMatchObject({ name: 'Support L2', permissions: ['users.read'], mfa_required: true });
    const dup = await owner.call('POST', '/api/v1/roles', {
      code: 'support',
      name: 'Again',
      permissions: [],
    });
    expect(dup.statusCode).toBe(409);
    const del = await owner.call('DELETE', `/api/v1/roles/${id}`);
    expect(del.statusCode).toBe(204);
    expect((await owner.call('GET', `/api/v1/roles/${id}`)).statusCode).toBe(404);
    const audit = await app.ctx.database.query<{
      event_type: string;
      metadata: { before?: unknown; after?: unknown };
    }>(
      `select event_type, metadata from audit_log where tenant_id = $1 and resource_type = 'role' order by seq`,
      [owner.tenantId],
    );
    expect(audit.map((a) => a.event_type)).toEqual(['role.created', 'role.updated', 'role.deleted']);
    expect(audit[1]!.metadata.before).toMatchObject({ name: 'Support' });
    expect(audit[1]!.metadata.after).toMatchObject({ name: 'Support L2' });
  });

  it('refuses unknown permissions and malformed input with 422, never 500', async () => {
    const { owner } = await tenantOwner(app);
    expect(
      (await owner.call('POST', '/api/v1/roles', { code: 'x1', name: 'X', permissions: ['nope.read'] }))
        .statusCode,
    ).toBe(422);
    expect(
      (await owner.call('POST', '/api/v1/roles', { code: 'Bad Code', name: 'X', permissions: [] }))
        .statusCode,
    ).toBe(422);
    expect((await owner.call('GET', '/api/v1/roles/not-a-uuid')).statusCode).toBe(422);
    expect(
      (await owner.call('POST', '/api/v1/roles', { code: 'x2', name: 'X', permissions: [], extra: 1 }))
        .statusCode,
    ).toBe(422);
  });

  it('system roles cannot be changed or deleted', async () => {
    const { owner } = await tenantOwner(app);
    for (const code of ['owner', 'admin', 'manager', 'member', 'viewer']) {
      const id = await roleId(owner, code);
      const put = await owner.call('PUT', `/api/v1/roles/${id}`, { name: 'Hacked', permissions: ['*'] });
      expect(put.statusCode).toBe(403);
      expect(put.json().error).toBe('SYSTEM_ROLE_IMMUTABLE');
      expect((await owner.call('DELETE', `/api/v1/roles/${id}`)).statusCode).toBe(403);
    }
    const again = await owner.call('GET', `/api/v1/roles/${await roleId(owner, 'viewer')}`);
    expect(again.json().name).toBe('Viewer');
  });

  it('a custom role inherits its parent (transitively), and a system role can be a parent', async () => {
    const { owner } = await tenantOwner(app);
    const viewer = await roleId(owner, 'viewer');
    const a = (
      await owner.call('POST', '/api/v1/roles', {
        code: 'role-a',
        name: 'A',
        permissions: ['users.write'],
        parent_role_id: viewer,
      })
    ).json();
    const b = (
      await owner.call('POST', '/api/v1/roles', {
        code: 'role-b',
        name: 'B',
        permissions: ['users.delete'],
        parent_role_id: a.id,
      })
    ).json();
    const u = await userWith(app, owner.tenantId);
    expect((await owner.call('POST', `/api/v1/users/${u.userId}/roles`, { role_id: b.id })).statusCode).toBe(
      201,
    );
    const perms = (await owner.call('GET', `/api/v1/users/${u.userId}/permissions`)).json().permissions;
    expect(perms).toEqual(
      expect.arrayContaining(['users.delete', 'users.write', 'users.read', 'audit.read']),
    );
    // And the guard agrees: users.delete from B, users.write from A, audit.read from viewer.
    expect((await u.call('GET', '/api/v1/users')).statusCode).toBe(200);
    expect((await u.call('GET', '/api/v1/roles')).statusCode).toBe(200);
    expect(
      (await u.call('POST', '/api/v1/roles', { code: 'nope', name: 'N', permissions: [] })).statusCode,
    ).toBe(403);
  });

  it('refuses inheritance cycles with 422 (also when two updates race)', async () => {
    const { owner } = await tenantOwner(app);
    const a = (
      await owner.call('POST', '/api/v1/roles', { code: 'cyc-a', name: 'A', permissions: [] })
    ).json();
    const b = (
      await owner.call('POST', '/api/v1/roles', {
        code: 'cyc-b',
        name: 'B',
        permissions: [],
        parent_role_id: a.id,
      })
    ).json();
    const c = (
      await owner.call('POST', '/api/v1/roles', {
        code: 'cyc-c',
        name: 'C',
        permissions: [],
        parent_role_id: b.id,
      })
    ).json();
    const res = await owner.call('PUT', `/api/v1/roles/${a.id}`, { parent_role_id: c.id });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toBe('ROLE_CYCLE');
    expect((await owner.call('PUT', `/api/v1/roles/${a.id}`, { parent_role_id: a.id })).statusCode).toBe(422);
    // Two re-parentings that would each be fine alone but together form a loop: exactly one wins.
    const x = (
      await owner.call('POST', '/api/v1/roles', { code: 'cyc-x', name: 'X', permissions: [] })
    ).json();
    const y = (
      await owner.call('POST', '/api/v1/roles', { code: 'cyc-y', name: 'Y', permissions: [] })
    ).json();
    const [r1, r2] = await Promise.all([
      owner.call('PUT', `/api/v1/roles/${x.id}`, { parent_role_id: y.id }),
      owner.call('PUT', `/api/v1/roles/${y.id}`, { parent_role_id: x.id }),
    ]);
    expect([r1.statusCode, r2.statusCode].sort()).toEqual([200, 422]);
  });

  it('a manager cannot grant roles.write (or anything else) they do not hold', async () => {
    const { owner } = await tenantOwner(app);
    const manager = await userWith(app, owner.tenantId, ['manager']);
    const target = await userWith(app, owner.tenantId);
    const admin = await roleId(owner, 'admin');
    const denied = await manager.call('POST', `/api/v1/users/${target.userId}/roles`, { role_id: admin });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().details.permissions).toContain('roles.write');
    // The refused escalation leaves an audit record even though its transaction rolled back.
    const refusals = await app.ctx.database.query<{ resource_id: string }>(
      `select resource_id from audit_log where tenant_id = $1 and event_type = 'access.change_refused' and actor_id = $2`,
      [owner.tenantId, String(manager.userId)],
    );
    expect(refusals.map((r) => r.resource_id)).toEqual(['role.assign']);
    // A custom role carrying roles.write, made by the owner, cannot be handed out by the manager either.
    const writer = (
      await owner.call('POST', '/api/v1/roles', { code: 'writer', name: 'W', permissions: ['roles.write'] })
    ).json();
    expect(
      (await manager.call('POST', `/api/v1/users/${target.userId}/roles`, { role_id: writer.id })).statusCode,
    ).toBe(403);
    // The manager can hand out what they hold.
    const viewer = await roleId(owner, 'viewer');
    expect(
      (await manager.call('POST', `/api/v1/users/${target.userId}/roles`, { role_id: viewer })).statusCode,
    ).toBe(201);
    // And cannot take the owner role away from the owner, nor escalate themselves.
    const ownerRole = await roleId(owner, 'owner');
    expect(
      (await manager.call('DELETE', `/api/v1/users/${owner.userId}/roles/${ownerRole}`)).statusCode,
    ).toBe(403);
    expect(
      (await manager.call('POST', `/api/v1/users/${manager.userId}/roles`, { role_id: ownerRole }))
        .statusCode,
    ).toBe(403);
    // An admin (no platform rights, no literal *) cannot put permissions it lacks into a role... but holds all tenant ones.
    const adminUser = await userWith(app, owner.tenantId, ['admin']);
    expect(
      (
        await adminUser.call('POST', '/api/v1/roles', {
          code: 'all-users',
          name: 'U',
          permissions: ['users.*'],
        })
      ).statusCode,
    ).toBe(201);
    const noRolesWrite = await userWith(app, owner.tenantId, ['viewer']);
    expect(
      (await noRolesWrite.call('POST', '/api/v1/roles', { code: 'v2', name: 'V', permissions: [] }))
        .statusCode,
    ).toBe(403);
  });

  it('the last owner cannot be removed', async () => {
    const { owner } = await tenantOwner(app);
    const ownerRole = await roleId(owner, 'owner');
    const res = await owner.call('DELETE', `/api/v1/users/${owner.userId}/roles/${ownerRole}`);
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toBe('LAST_OWNER');
  });

  it('a role change is effective on the very next request, on both replicas', async () => {
    const { owner } = await tenantOwner(app);
    const u = await userWith(app, owner.tenantId);
    const onReplica = client(replica, u.tokens);
    // Warm both replicas' caches with "no permission".
    expect((await u.call('GET', '/api/v1/users')).statusCode).toBe(403);
    expect((await onReplica('GET', '/api/v1/users')).statusCode).toBe(403);
    const viewer = await roleId(owner, 'viewer');
    expect(
      (await owner.call('POST', `/api/v1/users/${u.userId}/roles`, { role_id: viewer })).statusCode,
    ).toBe(201);
    expect((await u.call('GET', '/api/v1/users')).statusCode).toBe(200);
    expect((await onReplica('GET', '/api/v1/users')).statusCode).toBe(200);
    // A change made on the replica is seen by the first app too.
    const replicaOwner = client(replica, owner.tokens);
    expect((await replicaOwner('DELETE', `/api/v1/users/${u.userId}/roles/${viewer}`)).statusCode).toBe(204);
    expect((await u.call('GET', '/api/v1/users')).statusCode).toBe(403);
    expect((await onReplica('GET', '/api/v1/users')).statusCode).toBe(403);
    // Editing a custom role's permissions also takes effect at once for its holders.
    const custom = (
      await owner.call('POST', '/api/v1/roles', { code: 'reader', name: 'R', permissions: ['audit.read'] })
    ).json();
    await owner.call('POST', `/api/v1/users/${u.userId}/roles`, { role_id: custom.id });
    expect((await onReplica('GET', '/api/v1/users')).statusCode).toBe(403);
    expect(
      (await replicaOwner('PUT', `/api/v1/roles/${custom.id}`, { permissions: ['audit.read', 'users.read'] }))
        .statusCode,
    ).toBe(200);
    expect((await u.call('GET', '/api/v1/users')).statusCode).toBe(200);
    expect((await onReplica('GET', '/api/v1/users')).statusCode).toBe(200);
  });

  it('an assignment with expires_at stops granting once it expires', async () => {
    const { owner } = await tenantOwner(app);
    const u = await userWith(app, owner.tenantId);
    const viewer = await roleId(owner, 'viewer');
    const past = await owner.call('POST', `/api/v1/users/${u.userId}/roles`, {
      role_id: viewer,
      expires_at: new Date(Date.now() - 1000).toISOString(),
    });
    expect(past.statusCode).toBe(422);
    const soon = new Date(Date.now() + 1500).toISOString();
    const res = await owner.call('POST', `/api/v1/users/${u.userId}/roles`, {
      role_id: viewer,
      expires_at: soon,
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().expires_at).toBe(soon);
    expect((await u.call('GET', '/api/v1/users')).statusCode).toBe(200);
    await new Promise((r) => setTimeout(r, 1700));
    // No version bump happened: the cache itself knows the grant's expiry.
    expect((await u.call('GET', '/api/v1/users')).statusCode).toBe(403);
    expect((await owner.call('GET', `/api/v1/users/${u.userId}/roles`)).json().total).toBe(0);
  });

  it('concurrent assignments of one role to one user give one assignment, never a 500', async () => {
    const { owner } = await tenantOwner(app);
    const u = await userWith(app, owner.tenantId);
    const viewer = await roleId(owner, 'viewer');
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        owner.call('POST', `/api/v1/users/${u.userId}/roles`, { role_id: viewer }),
      ),
    );
    for (const r of results) expect([201, 409]).toContain(r.statusCode);
    expect(results.some((r) => r.statusCode === 201)).toBe(true);
    expect((await owner.call('GET', `/api/v1/users/${u.userId}/roles`)).json().total).toBe(1);
  });

  it('superusers hold every tenant permission; platform.* only in the platform tenant', async () => {
    const { owner } = await tenantOwner(app);
    expect((await owner.call('GET', '/api/v1/tenants')).statusCode).toBe(403);
    const ops = await platformOperator(app);
    expect((await ops.call('GET', '/api/v1/tenants')).statusCode).toBe(200);
  });

  it('self-registration gives `member`', async () => {
    const { owner } = await tenantOwner(app);
    await owner.call('PATCH', '/api/v1/tenants/current', { settings: { self_registration: true } });
    const reg = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      headers: { 'x-tenant-id': String(owner.tenantId) },
      payload: {
        email: `reg-${Date.now()}@example.test`,
        password: 'A-much-longer-Passw0rd!',
        first_name: 'Reg',
        last_name: 'User',
      },
    });
    expect(reg.statusCode).toBe(201);
    const full = await owner.call('GET', `/api/v1/users/${reg.json().id}`);
    expect(full.json().roles).toEqual(['member']);
  });

  it('a role with mfa_required makes MFA required for its holders (ctx.mfa.status)', async () => {
    const { owner } = await tenantOwner(app);
    const u = await userWith(app, owner.tenantId);
    const strict = (
      await owner.call('POST', '/api/v1/roles', {
        code: 'strict',
        name: 'S',
        permissions: [],
        mfa_required: true,
      })
    ).json();
    const check = async () =>
      (
        await app.ctx.database.withTenant(owner.tenantId, (tx) =>
          app.ctx.mfa.status(tx, owner.tenantId, u.userId),
        )
      ).required;
    expect(await check()).toBe(false);
    await owner.call('POST', `/api/v1/users/${u.userId}/roles`, { role_id: strict.id });
    expect(await check()).toBe(true);
  });
});

describe('permission resolution cost', () => {
  it('a warm request makes no PostgreSQL round trip for permissions', async () => {
    const { owner } = await tenantOwner(app);
    const u = await userWith(app, owner.tenantId, ['viewer']);
    const db = app.ctx.database;
    const original = { withTenant: db.withTenant, withSystem: db.withSystem, query: db.query };
    let transactions = 0;
    const counting = db as unknown as Record<string, unknown>;
    counting.withTenant = (...a: Parameters<typeof db.withTenant>) => {
      transactions++;
      return original.withTenant(...a);
    };
    counting.withSystem = (...a: Parameters<typeof db.withSystem>) => {
      transactions++;
      return original.withSystem(...a);
    };
    counting.query = (...a: Parameters<typeof db.query>) => {
      transactions++;
      return original.query(...a);
    };
    try {
      // GET /roles opens exactly one transaction of its own.
      transactions = 0;
      expect((await u.call('GET', '/api/v1/roles')).statusCode).toBe(200);
      const cold = transactions;
      transactions = 0;
      expect((await u.call('GET', '/api/v1/roles')).statusCode).toBe(200);
      const warm = transactions;
      expect(warm).toBe(1);
      expect(cold).toBeGreaterThan(warm);
    } finally {
      Object.assign(counting, original);
    }
  });
});
