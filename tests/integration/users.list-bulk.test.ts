/**
 * Issue 20 item 12, the console's users list: the list's columns (roles, MFA, last sign-in) in the page's own
 * statement, its `sort`, and the bulk changes (deactivate, assign a role) with each user's rules and audit.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { login, newUser } from '../helpers/factories.js';
import { roleId, tenantOwner, userWith } from '../helpers/rbac.js';
import { enrolTotp } from '../helpers/totp.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app?.close();
});

interface Listed {
  id: number;
  email: string;
  roles: string[];
  has_mfa: boolean;
  last_login_at: string | null;
  is_active: boolean;
}

async function auditEvents(tenantId: number, eventType: string): Promise<string[]> {
  const rows = await app.ctx.database.query<{ resource_id: string }>(
    `select resource_id from audit_log where tenant_id = $1 and event_type = $2 order by seq`,
    [tenantId, eventType],
  );
  return rows.map((r) => r.resource_id);
}

describe('GET /users: the list columns and sort', () => {
  it('each row carries its active role codes, MFA status and last sign-in', async () => {
    const { owner } = await tenantOwner(app);
    const signedIn = await newUser(app, owner.tenantId, {
      email: 'signed-in@example.test',
      roles: ['manager'],
    });
    await enrolTotp(app, owner.tenantId, signedIn.email);
    const never = await newUser(app, owner.tenantId, { email: 'never@example.test' });
    const res = await owner.call('GET', '/api/v1/users');
    expect(res.statusCode).toBe(200);
    const byId = new Map((res.json().users as Listed[]).map((u) => [u.id, u]));
    expect(byId.get(signedIn.id)).toMatchObject({ roles: ['manager'], has_mfa: true });
    expect(byId.get(signedIn.id)!.last_login_at).toEqual(expect.any(String));
    expect(byId.get(never.id)).toMatchObject({ roles: [], has_mfa: false, last_login_at: null });
    expect(byId.get(owner.userId)).toMatchObject({ roles: ['owner'], has_mfa: false });
    // The search path has the same columns.
    const found = (await owner.call('GET', '/api/v1/users?search=signed-in')).json().users as Listed[];
    expect(found.map((u) => [u.email, u.roles, u.has_mfa])).toEqual([
      ['signed-in@example.test', ['manager'], true],
    ]);
  });

  it('sorts by a whitelisted key, both ways, with skip, search and the active filter; refuses the rest', async () => {
    const { owner } = await tenantOwner(app);
    const emails = ['delta@example.test', 'alpha@example.test', 'charlie@example.test', 'bravo@example.test'];
    for (const email of emails)
      await newUser(app, owner.tenantId, { email, isActive: email !== 'bravo@example.test' });
    // Two sign-ins, in this order: charlie, then delta (the owner signed in before both).
    await login(app, owner.tenantId, 'charlie@example.test');
    await login(app, owner.tenantId, 'delta@example.test');
    const list = async (q: string) => {
      const res = await owner.call('GET', `/api/v1/users?${q}`);
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as { users: Listed[]; next_cursor: string | null; total: number };
    };
    const all = [...emails, owner.email].sort();
    expect((await list('sort=email')).users.map((u) => u.email)).toEqual(all);
    expect((await list('sort=-email')).users.map((u) => u.email)).toEqual([...all].reverse());
    // Pages of a sort put together are the sort (the deferred join of a skip keeps the order).
    const pages = [
      ...(await list('sort=-email&limit=2')).users,
      ...(await list('sort=-email&limit=2&skip=2')).users,
    ];
    pages.push(...(await list('sort=-email&limit=2&skip=4')).users);
    expect(pages.map((u) => u.email)).toEqual([...all].reverse());
    // Most recent sign-in first, those who never signed in last (by id, reversed, among themselves).
    const recent = (await list('sort=-last_login_at')).users.map((u) => u.email);
    expect(recent.slice(0, 3)).toEqual(['delta@example.test', 'charlie@example.test', owner.email]);
    expect(recent.slice(3)).toEqual(['bravo@example.test', 'alpha@example.test']);
    expect((await list('sort=last_login_at')).users.map((u) => u.email)).toEqual([...recent].reverse());
    expect((await list('sort=-created_at')).users.map((u) => u.email)).toEqual(
      [...emails].reverse().concat(owner.email),
    );
    expect((await list('sort=created_at&is_active=true')).users.map((u) => u.email)).toEqual([
      owner.email,
      'delta@example.test',
      'alpha@example.test',
      'charlie@example.test',
    ]);
    expect((await list('sort=-email&search=a%40example')).users.map((u) => u.email)).toEqual([
      'delta@example.test',
      'alpha@example.test',
    ]);
    // A sort pages with skip: no cursor out, none in.
    expect((await list('sort=email&limit=1')).next_cursor).toBeNull();
    const withCursor = await owner.call('GET', '/api/v1/users?sort=email&cursor=1');
    expect([withCursor.statusCode, withCursor.json().error]).toEqual([422, 'VALIDATION_ERROR']);
    for (const bad of ['password_hash', 'id;drop', '+email', 'EMAIL']) {
      const res = await owner.call('GET', `/api/v1/users?sort=${encodeURIComponent(bad)}`);
      expect([bad, res.statusCode, res.json().error]).toEqual([bad, 422, 'VALIDATION_ERROR']);
    }
  });
});

describe('POST /users/bulk/deactivate', () => {
  it("deactivates each user it may, audits each in its change, answers per user, never touches another tenant's", async () => {
    const { owner } = await tenantOwner(app);
    const other = await tenantOwner(app);
    const a = await userWith(app, owner.tenantId, ['member']);
    const b = await newUser(app, owner.tenantId);
    const foreign = await newUser(app, other.owner.tenantId);
    const res = await owner.call('POST', '/api/v1/users/bulk/deactivate', {
      user_ids: [a.userId, b.id, owner.userId, foreign.id, 2_000_000_000],
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ succeeded: 2, failed: 3 });
    expect(
      res
        .json()
        .results.map((r: { id: number; ok: boolean; error: string | null; status: number | null }) => [
          r.id,
          r.ok,
          r.error,
          r.status,
        ]),
    ).toEqual([
      [a.userId, true, null, null],
      [b.id, true, null, null],
      [owner.userId, false, 'OWN_ACCOUNT', 400],
      [foreign.id, false, 'NOT_FOUND', 404],
      [2_000_000_000, false, 'NOT_FOUND', 404],
    ]);
    const listed = (await owner.call('GET', '/api/v1/users')).json().users as Listed[];
    expect(
      listed
        .filter((u) => !u.is_active)
        .map((u) => u.id)
        .sort(),
    ).toEqual([a.userId, b.id].sort());
    expect(await auditEvents(owner.tenantId, 'user.deactivated')).toEqual([String(a.userId), String(b.id)]);
    // The other tenant's user is untouched, and nothing was written in its trail.
    expect((await other.owner.call('GET', `/api/v1/users/${foreign.id}`)).json().is_active).toBe(true);
    expect(await auditEvents(other.owner.tenantId, 'user.deactivated')).toEqual([]);
    // The deactivated user's session is over, as with the single route.
    expect((await a.call('GET', '/api/v1/users/me')).statusCode).toBe(401);
  });

  it('applies dominance per user (a manager cannot deactivate an admin), audits the refusal, keeps the last owner', async () => {
    const { owner } = await tenantOwner(app);
    const manager = await userWith(app, owner.tenantId, ['manager']);
    const admin = await newUser(app, owner.tenantId, { roles: ['admin'] });
    const member = await newUser(app, owner.tenantId, { roles: ['member'] });
    const res = await manager.call('POST', '/api/v1/users/bulk/deactivate', {
      user_ids: [admin.id, member.id],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().results.map((r: { ok: boolean; error: string | null }) => [r.ok, r.error])).toEqual([
      [false, 'PERMISSION_DENIED'],
      [true, null],
    ]);
    expect((await owner.call('GET', `/api/v1/users/${admin.id}`)).json().is_active).toBe(true);
    const refused = await app.ctx.database.query<{ n: string }>(
      `select count(*)::text as n from audit_log where tenant_id = $1 and event_type = 'access.change_refused'
         and resource_id = 'user.deactivate'`,
      [owner.tenantId],
    );
    expect(refused[0]!.n).toBe('1');
    // An owner may deactivate another owner; nobody may deactivate the last active one (409 LAST_OWNER).
    const coOwner = await userWith(app, owner.tenantId, ['owner']);
    const first = await coOwner.call('POST', '/api/v1/users/bulk/deactivate', { user_ids: [owner.userId] });
    expect(first.json().results[0].ok).toBe(true);
    const admin2 = await userWith(app, owner.tenantId, ['admin']);
    const last = await admin2.call('POST', '/api/v1/users/bulk/deactivate', { user_ids: [coOwner.userId] });
    expect(last.json().results[0]).toMatchObject({ ok: false, error: 'LAST_OWNER', status: 409 });
  });

  it('is bounded and validated; needs users.write', async () => {
    const { owner } = await tenantOwner(app);
    const member = await userWith(app, owner.tenantId, ['member']);
    // Ids of nobody (a test database holds far fewer users): the bound is checked, no user is touched.
    const ids = Array.from({ length: 101 }, (_, i) => 1_000_000_000 + i);
    for (const body of [{ user_ids: ids }, { user_ids: [] }, { user_ids: [5, 5] }, { user_ids: [0] }, {}]) {
      const res = await owner.call('POST', '/api/v1/users/bulk/deactivate', body);
      expect([JSON.stringify(body).slice(0, 30), res.statusCode]).toEqual([
        JSON.stringify(body).slice(0, 30),
        422,
      ]);
    }
    expect(
      (await owner.call('POST', '/api/v1/users/bulk/deactivate', { user_ids: ids.slice(0, 100) })).statusCode,
    ).toBe(200);
    const refused = await member.call('POST', '/api/v1/users/bulk/deactivate', { user_ids: [owner.userId] });
    expect(refused.statusCode).toBe(403);
  });
});

describe('POST /users/bulk/roles', () => {
  it('assigns a role to each user of the tenant, audits each, answers 404 for ids of another tenant', async () => {
    const { owner } = await tenantOwner(app);
    const other = await tenantOwner(app);
    const a = await newUser(app, owner.tenantId);
    const b = await newUser(app, owner.tenantId, { roles: ['viewer'] });
    const foreign = await newUser(app, other.owner.tenantId);
    const manager = await roleId(owner, 'manager');
    const res = await owner.call('POST', '/api/v1/users/bulk/roles', {
      user_ids: [a.id, foreign.id, b.id],
      role_id: manager,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(
      res.json().results.map((r: { id: number; ok: boolean; error: string | null }) => [r.id, r.ok, r.error]),
    ).toEqual([
      [a.id, true, null],
      [foreign.id, false, 'NOT_FOUND'],
      [b.id, true, null],
    ]);
    const listed = new Map(
      ((await owner.call('GET', '/api/v1/users')).json().users as Listed[]).map((u) => [u.id, u.roles]),
    );
    expect(listed.get(a.id)).toEqual(['manager']);
    expect(listed.get(b.id)).toEqual(['manager', 'viewer']);
    expect(await auditEvents(owner.tenantId, 'role.assigned')).toEqual(
      expect.arrayContaining([String(a.id), String(b.id)]),
    );
    expect((await other.owner.call('GET', `/api/v1/users/${foreign.id}`)).json().roles).toEqual([]);
    // Another tenant's role is not found in this one.
    const foreignRole = await roleId(other.owner, 'viewer');
    const wrongRole = await owner.call('POST', '/api/v1/users/bulk/roles', {
      user_ids: [a.id],
      role_id: foreignRole,
    });
    expect([wrongRole.statusCode, wrongRole.json().error]).toEqual([404, 'NOT_FOUND']);
  });

  it('refuses the whole request for a role the caller may not grant (audited), and needs roles.assign', async () => {
    const { owner } = await tenantOwner(app);
    const manager = await userWith(app, owner.tenantId, ['manager']);
    const member = await userWith(app, owner.tenantId, ['member']);
    const target = await newUser(app, owner.tenantId);
    const res = await manager.call('POST', '/api/v1/users/bulk/roles', {
      user_ids: [target.id],
      role_id: await roleId(owner, 'admin'),
    });
    expect(res.statusCode).toBe(403);
    expect((await owner.call('GET', `/api/v1/users/${target.id}`)).json().roles).toEqual([]);
    const refused = await app.ctx.database.query<{ n: string }>(
      `select count(*)::text as n from audit_log where tenant_id = $1 and event_type = 'access.change_refused'
         and resource_id = 'role.assign'`,
      [owner.tenantId],
    );
    expect(refused[0]!.n).toBe('1');
    // What a manager may grant, they grant.
    const ok = await manager.call('POST', '/api/v1/users/bulk/roles', {
      user_ids: [target.id],
      role_id: await roleId(owner, 'viewer'),
    });
    expect(ok.json()).toMatchObject({ succeeded: 1, failed: 0 });
    const denied = await member.call('POST', '/api/v1/users/bulk/roles', {
      user_ids: [target.id],
      role_id: await roleId(owner, 'viewer'),
    });
    expect(denied.statusCode).toBe(403);
  });
});
