/**
 * Feature flags (API.md §14): the platform catalogue, tenant/role/user overrides, resolution for users and API
 * keys, visibility on the next request on another replica, tenant isolation, audit.
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant } from '../../src/modules/tenant-admin/index.js';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant, newUser, PASSWORD, type Tokens, uniq } from '../helpers/factories.js';

let app: FastifyInstance;
let replica: FastifyInstance;
/** A platform operator (owner of a platform tenant), who may edit the global catalogue. */
let operator: Tokens;

beforeAll(async () => {
  app = await createTestApp();
  replica = await createTestApp({}, app);
  const slug = uniq('plat');
  const { tenant, admin } = await createTenant(app.ctx, {
    slug,
    name: 'Platform',
    isPlatform: true,
    admin: { email: `ops@${slug}.test`, password: PASSWORD, isSuperuser: true },
  });
  operator = await login(app, tenant.id, admin!.email);
});
afterAll(async () => {
  await replica?.close();
  await app?.close();
});

async function newFlag(body: Record<string, unknown> = {}) {
  const key = uniq('flag');
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/features/catalogue',
    headers: bearer(operator),
    payload: { key, description: 'test flag', ...body },
  });
  expect(res.statusCode, res.body).toBe(201);
  return key;
}

async function roleId(tenantId: number, code: string): Promise<string> {
  const r = await app.ctx.database.withTenant(tenantId, (tx) =>
    tx.execute<{ id: string }>(
      sql`select id::text as id from roles where tenant_id = ${tenantId} and code = ${code}`,
    ),
  );
  return r.rows[0]!.id;
}

async function setOverride(tokens: Tokens, key: string, body: Record<string, unknown>, target = app) {
  const res = await target.inject({
    method: 'PUT',
    url: `/api/v1/features/${key}/overrides`,
    headers: bearer(tokens),
    payload: body,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function flagOf(headers: Record<string, string>, key: string, target = app): Promise<boolean> {
  const res = await target.inject({ method: 'GET', url: '/api/v1/features/evaluate', headers });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().flags[key];
}

async function tenantWithMember() {
  const t = await newTenant(app);
  const admin = await login(app, t.tenant.id, t.admin.email);
  const user = await newUser(app, t.tenant.id);
  const member = await roleId(t.tenant.id, 'member');
  const assigned = await app.inject({
    method: 'POST',
    url: `/api/v1/users/${user.id}/roles`,
    headers: bearer(admin),
    payload: { role_id: member },
  });
  expect(assigned.statusCode, assigned.body).toBe(201);
  const userTokens = await login(app, t.tenant.id, user.email);
  return { ...t, adminTokens: admin, user, userTokens, member };
}

describe('catalogue (platform operators)', () => {
  it('creates, updates and deletes flags; duplicates are 409; ordinary tenants are refused', async () => {
    const key = await newFlag({ default_enabled: true, rollout_percent: 30 });
    const dup = await app.inject({
      method: 'POST',
      url: '/api/v1/features/catalogue',
      headers: bearer(operator),
      payload: { key },
    });
    expect(dup.statusCode).toBe(409);
    const bad = await app.inject({
      method: 'POST',
      url: '/api/v1/features/catalogue',
      headers: bearer(operator),
      payload: { key: 'Bad Key!' },
    });
    expect(bad.statusCode).toBe(422);
    const reserved = await app.inject({
      method: 'POST',
      url: '/api/v1/features/catalogue',
      headers: bearer(operator),
      payload: { key: 'evaluate' },
    });
    expect(reserved.statusCode).toBe(422);
    const pct = await app.inject({
      method: 'POST',
      url: '/api/v1/features/catalogue',
      headers: bearer(operator),
      payload: { key: uniq('f'), rollout_percent: 101 },
    });
    expect(pct.statusCode).toBe(422);

    const upd = await app.inject({
      method: 'PUT',
      url: `/api/v1/features/catalogue/${key}`,
      headers: bearer(operator),
      payload: { rollout_percent: null, description: 'changed' },
    });
    expect(upd.statusCode).toBe(200);
    expect(upd.json()).toMatchObject({
      key,
      description: 'changed',
      default_enabled: true,
      rollout_percent: null,
    });

    // A tenant owner (even a superuser) of an ordinary tenant cannot touch the global catalogue.
    const t = await newTenant(app, { superuser: true });
    const owner = await login(app, t.tenant.id, t.admin.email);
    const refused = await app.inject({
      method: 'PUT',
      url: `/api/v1/features/catalogue/${key}`,
      headers: bearer(owner),
      payload: { default_enabled: false },
    });
    expect(refused.statusCode).toBe(403);
    const refusedCreate = await app.inject({
      method: 'POST',
      url: '/api/v1/features/catalogue',
      headers: bearer(owner),
      payload: { key: uniq('f') },
    });
    expect(refusedCreate.statusCode).toBe(403);

    const del = await app.inject({
      method: 'DELETE',
      url: `/api/v1/features/catalogue/${key}`,
      headers: bearer(operator),
    });
    expect(del.statusCode).toBe(204);
    const gone = await app.inject({
      method: 'DELETE',
      url: `/api/v1/features/catalogue/${key}`,
      headers: bearer(operator),
    });
    expect(gone.statusCode).toBe(404);
    expect(await flagOf(bearer(owner), key)).toBeUndefined();
  });
});

describe('overrides and resolution', () => {
  it('resolves user > role > tenant > global rollout > default_enabled', async () => {
    const { tenant, adminTokens, user, userTokens, member } = await tenantWithMember();
    const key = await newFlag({ default_enabled: true });
    const me = bearer(userTokens);
    expect(await flagOf(me, key)).toBe(true); // default
    await app.inject({
      method: 'PUT',
      url: `/api/v1/features/catalogue/${key}`,
      headers: bearer(operator),
      payload: { rollout_percent: 0 },
    });
    expect(await flagOf(me, key)).toBe(false); // global rollout beats default
    await setOverride(adminTokens, key, { scope: 'tenant', enabled: true });
    expect(await flagOf(me, key)).toBe(true); // tenant beats global
    await setOverride(adminTokens, key, { scope: 'role', target_id: member, enabled: false });
    expect(await flagOf(me, key)).toBe(false); // role beats tenant
    await setOverride(adminTokens, key, { scope: 'user', target_id: user.id, enabled: true });
    expect(await flagOf(me, key)).toBe(true); // user beats role

    // Unwinding: DELETE by query string and by body.
    const delUser = await app.inject({
      method: 'DELETE',
      url: `/api/v1/features/${key}/overrides?scope=user&target_id=${user.id}`,
      headers: bearer(adminTokens),
    });
    expect(delUser.statusCode).toBe(204);
    expect(await flagOf(me, key)).toBe(false);
    const delRole = await app.inject({
      method: 'DELETE',
      url: `/api/v1/features/${key}/overrides`,
      headers: bearer(adminTokens),
      payload: { scope: 'role', target_id: member },
    });
    expect(delRole.statusCode).toBe(204);
    expect(await flagOf(me, key)).toBe(true);
    const delAgain = await app.inject({
      method: 'DELETE',
      url: `/api/v1/features/${key}/overrides?scope=role&target_id=${member}`,
      headers: bearer(adminTokens),
    });
    expect(delAgain.statusCode).toBe(404);

    // Every change is audited in the tenant's chain.
    const audit = await app.ctx.database.withTenant(tenant.id, (tx) =>
      tx.execute<{ event_type: string }>(
        sql`select event_type from audit_log where tenant_id = ${tenant.id} and resource_type = 'feature' order by seq`,
      ),
    );
    expect(audit.rows.map((r) => r.event_type)).toEqual([
      'feature.override_set',
      'feature.override_set',
      'feature.override_set',
      'feature.override_removed',
      'feature.override_removed',
    ]);
  });

  it('enabled wins when two roles of the user disagree', async () => {
    const { tenant, adminTokens, user, userTokens, member } = await tenantWithMember();
    const viewer = await roleId(tenant.id, 'viewer');
    const assigned = await app.inject({
      method: 'POST',
      url: `/api/v1/users/${user.id}/roles`,
      headers: bearer(adminTokens),
      payload: { role_id: viewer },
    });
    expect(assigned.statusCode).toBe(201);
    const key = await newFlag();
    await setOverride(adminTokens, key, { scope: 'role', target_id: member, enabled: false });
    await setOverride(adminTokens, key, { scope: 'role', target_id: viewer, enabled: true });
    expect(await flagOf(bearer(userTokens), key)).toBe(true);
    // The admin holds neither role: only the default applies.
    expect(await flagOf(bearer(adminTokens), key)).toBe(false);
  });

  it('flags: inherited roles: a role override applies to holders of a child role that inherits it (§14 order kept)', async () => {
    const {
      tenant,
      adminTokens,
      user: memberUser,
      userTokens: memberTokens,
      member,
    } = await tenantWithMember();
    const newRole = async (code: string, parent: string) => {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/roles',
        headers: bearer(adminTokens),
        payload: { code: uniq(code), name: code, permissions: [], parent_role_id: parent },
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json().id as string;
    };
    // grandchild -> child -> member: the user holds only the grandchild.
    const child = await newRole('child', member);
    const grandchild = await newRole('grandchild', child);
    const user = await newUser(app, tenant.id);
    const assigned = await app.inject({
      method: 'POST',
      url: `/api/v1/users/${user.id}/roles`,
      headers: bearer(adminTokens),
      payload: { role_id: grandchild },
    });
    expect(assigned.statusCode, assigned.body).toBe(201);
    const me = bearer(await login(app, tenant.id, user.email));

    const key = await newFlag();
    expect(await flagOf(me, key)).toBe(false);
    await setOverride(adminTokens, key, { scope: 'tenant', enabled: false });
    await setOverride(adminTokens, key, { scope: 'role', target_id: member, enabled: true });
    expect(await flagOf(me, key)).toBe(true); // the inherited role's override beats the tenant's
    expect(await flagOf(bearer(memberTokens), key)).toBe(true);
    // Inheritance goes one way: an override on the child does not reach holders of the parent alone.
    const other = await newFlag();
    await setOverride(adminTokens, other, { scope: 'role', target_id: child, enabled: true });
    expect(await flagOf(me, other)).toBe(true);
    expect(await flagOf(bearer(memberTokens), other)).toBe(false);
    // The user's own override still comes first.
    await setOverride(adminTokens, key, { scope: 'user', target_id: user.id, enabled: false });
    expect(await flagOf(me, key)).toBe(false);
    // A tenant-owned key evaluates with its role and that role's parents.
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: bearer(adminTokens),
      payload: { name: 'svc', owner: 'tenant', role_id: grandchild, scopes: ['features.read'] },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(await flagOf({ 'x-api-key': created.json().raw_key as string }, key)).toBe(true);
    expect(memberUser.id).not.toBe(user.id);
  });

  it('a change is visible on the next request on another replica; API keys evaluate as their owner', async () => {
    const { adminTokens, user, userTokens } = await tenantWithMember();
    const key = await newFlag();
    expect(await flagOf(bearer(userTokens), key, replica)).toBe(false);
    await setOverride(adminTokens, key, { scope: 'user', target_id: user.id, enabled: true });
    expect(await flagOf(bearer(userTokens), key, replica)).toBe(true);

    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: bearer(adminTokens),
      payload: { name: 'k', scopes: ['features.read'] },
    });
    expect(created.statusCode).toBe(201);
    const keyHeaders = { 'x-api-key': created.json().raw_key as string };
    expect(await flagOf(keyHeaders, key)).toBe(false); // the admin's flags
    await setOverride(adminTokens, key, { scope: 'tenant', enabled: true });
    expect(await flagOf(keyHeaders, key, replica)).toBe(true);
  });

  it('a tenant-owned API key evaluates with its role', async () => {
    const { adminTokens, member } = await tenantWithMember();
    const key = await newFlag();
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: bearer(adminTokens),
      payload: { name: 'svc', owner: 'tenant', role_id: member, scopes: ['features.read'] },
    });
    expect(created.statusCode, created.body).toBe(201);
    const h = { authorization: `Bearer ${created.json().raw_key as string}` };
    expect(await flagOf(h, key)).toBe(false);
    await setOverride(adminTokens, key, { scope: 'role', target_id: member, enabled: true });
    expect(await flagOf(h, key, replica)).toBe(true);
  });

  it("GET /features lists the catalogue with this tenant's overrides only", async () => {
    const a = await tenantWithMember();
    const b = await tenantWithMember();
    const key = await newFlag();
    await setOverride(a.adminTokens, key, { scope: 'tenant', enabled: true });
    await setOverride(b.adminTokens, key, { scope: 'user', target_id: b.user.id, enabled: false });
    const list = await app.inject({ method: 'GET', url: '/api/v1/features', headers: bearer(a.adminTokens) });
    expect(list.statusCode).toBe(200);
    const flag = list.json().features.find((f: { key: string }) => f.key === key);
    expect(flag.overrides).toEqual([
      expect.objectContaining({ key, scope: 'tenant', target_id: null, enabled: true }),
    ]);
    // A member may read flags (features.read) but not write overrides.
    const memberRead = await app.inject({
      method: 'GET',
      url: '/api/v1/features',
      headers: bearer(a.userTokens),
    });
    expect(memberRead.statusCode).toBe(200);
    const memberWrite = await app.inject({
      method: 'PUT',
      url: `/api/v1/features/${key}/overrides`,
      headers: bearer(a.userTokens),
      payload: { scope: 'tenant', enabled: false },
    });
    expect(memberWrite.statusCode).toBe(403);
  });

  it('targets of another tenant are 404; malformed targets 422; unknown flag 404', async () => {
    const a = await tenantWithMember();
    const b = await tenantWithMember();
    const key = await newFlag();
    const put = (body: Record<string, unknown>, k = key) =>
      app.inject({
        method: 'PUT',
        url: `/api/v1/features/${k}/overrides`,
        headers: bearer(a.adminTokens),
        payload: body,
      });
    expect((await put({ scope: 'user', target_id: b.user.id, enabled: true })).statusCode).toBe(404);
    expect((await put({ scope: 'role', target_id: b.member, enabled: true })).statusCode).toBe(404);
    expect((await put({ scope: 'user', target_id: 'abc', enabled: true })).statusCode).toBe(422);
    expect((await put({ scope: 'role', target_id: 'not-a-uuid', enabled: true })).statusCode).toBe(422);
    expect((await put({ scope: 'user', enabled: true })).statusCode).toBe(422);
    expect((await put({ scope: 'tenant', target_id: b.tenant.id, enabled: true })).statusCode).toBe(422);
    expect((await put({ scope: 'planet', enabled: true })).statusCode).toBe(422);
    expect((await put({ scope: 'tenant', enabled: true, extra: 1 })).statusCode).toBe(422);
    expect((await put({ scope: 'tenant', enabled: true }, 'no-such-flag')).statusCode).toBe(404);
    // B's override is untouched by A and invisible to it.
    await setOverride(b.adminTokens, key, { scope: 'tenant', enabled: true });
    expect(await flagOf(bearer(a.userTokens), key)).toBe(false);
    expect(await flagOf(bearer(b.userTokens), key)).toBe(true);
    const delOther = await app.inject({
      method: 'DELETE',
      url: `/api/v1/features/${key}/overrides?scope=tenant`,
      headers: bearer(a.adminTokens),
    });
    expect(delOther.statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/api/v1/features/evaluate' })).statusCode).toBe(401);
  });

  it('parallel PUTs of one override leave exactly one row', async () => {
    const { tenant, adminTokens, user } = await tenantWithMember();
    const key = await newFlag();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? replica : app).inject({
          method: 'PUT',
          url: `/api/v1/features/${key}/overrides`,
          headers: bearer(adminTokens),
          payload: { scope: 'user', target_id: String(user.id), enabled: i % 2 === 0 },
        }),
      ),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(10).fill(200));
    const rows = await app.ctx.database.withTenant(tenant.id, (tx) =>
      tx.execute<{ n: string }>(
        sql`select count(*)::text as n from feature_overrides where tenant_id = ${tenant.id} and flag_key = ${key}`,
      ),
    );
    expect(rows.rows[0]!.n).toBe('1');
  });
});
