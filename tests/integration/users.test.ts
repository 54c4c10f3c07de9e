import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { login, newUser, PASSWORD } from '../helpers/factories.js';
import { client, tenantOwner, userWith } from '../helpers/rbac.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app?.close();
});

const STRONG = 'Another-Strong-Passw0rd!';

describe('users administration', () => {
  it('lists with search, is_active filter and skip/limit pagination', async () => {
    const { owner } = await tenantOwner(app);
    await Promise.all([
      newUser(app, owner.tenantId, { email: 'alice.search@example.test' }),
      newUser(app, owner.tenantId, { email: 'bob.search@example.test', isActive: false }),
      newUser(app, owner.tenantId, { email: 'carol@example.test' }),
    ]);
    const all = (await owner.call('GET', '/api/v1/users')).json();
    expect(all.total).toBe(4);
    expect(all.users[0]).not.toHaveProperty('password_hash');
    expect((await owner.call('GET', '/api/v1/users?search=SEARCH')).json().total).toBe(2);
    expect((await owner.call('GET', '/api/v1/users?search=Test%20User')).json().total).toBe(3);
    expect((await owner.call('GET', '/api/v1/users?search=%25')).json().total).toBe(0);
    expect(
      (await owner.call('GET', '/api/v1/users?is_active=false'))
        .json()
        .users.map((u: { email: string }) => u.email),
    ).toEqual(['bob.search@example.test']);
    const page = (await owner.call('GET', '/api/v1/users?skip=1&limit=2')).json();
    expect(page.users).toHaveLength(2);
    expect(page.total).toBe(4);
    expect((await owner.call('GET', '/api/v1/users?limit=101')).statusCode).toBe(422);
    expect((await owner.call('GET', '/api/v1/users?skip=-1')).statusCode).toBe(422);
  });

  it('creates a user (201 UserRead), refuses duplicates (409) and weak passwords (422)', async () => {
    const { owner } = await tenantOwner(app);
    const res = await owner.call('POST', '/api/v1/users', {
      email: ' New.User@Example.test ',
      password: STRONG,
      first_name: 'New',
      phone: '+33612345678',
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      email: 'new.user@example.test',
      full_name: 'New',
      is_active: true,
      is_verified: false,
      tenant_id: owner.tenantId,
    });
    expect(res.json()).not.toHaveProperty('password');
    const dup = await owner.call('POST', '/api/v1/users', {
      email: 'new.user@example.test',
      password: STRONG,
    });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error).toBe('EMAIL_ALREADY_EXISTS');
    const weak = await owner.call('POST', '/api/v1/users', {
      email: 'weak@example.test',
      password: 'password',
    });
    expect(weak.statusCode).toBe(422);
    expect(weak.json().error).toBe('PASSWORD_TOO_WEAK');
    expect(
      (
        await owner.call('POST', '/api/v1/users', {
          email: 'p@example.test',
          password: STRONG,
          phone: '0612',
        })
      ).statusCode,
    ).toBe(422);
    // The new user can sign in; the audit record holds no password or hash.
    await login(app, owner.tenantId, 'new.user@example.test', STRONG);
    const audit = await app.ctx.database.query<{ metadata: unknown }>(
      `select metadata from audit_log where tenant_id = $1 and event_type = 'user.created' and resource_id = $2`,
      [owner.tenantId, String(res.json().id)],
    );
    expect(JSON.stringify(audit)).not.toMatch(/argon2|password/i);
  });

  it('concurrent creations of one email: one 201, the rest 409, never 500', async () => {
    const { owner } = await tenantOwner(app);
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        owner.call('POST', '/api/v1/users', { email: 'race@example.test', password: STRONG }),
      ),
    );
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes.filter((c) => c === 201)).toHaveLength(1);
    expect(codes.every((c) => c === 201 || c === 409)).toBe(true);
  });

  it('GET /users/{id} is UserReadFull with roles and has_mfa; PUT updates and audits before/after', async () => {
    const { owner } = await tenantOwner(app);
    const u = await userWith(app, owner.tenantId, ['viewer']);
    const full = (await owner.call('GET', `/api/v1/users/${u.userId}`)).json();
    expect(full).toMatchObject({
      id: u.userId,
      roles: ['viewer'],
      has_mfa: false,
      has_password: true,
      is_superuser: false,
    });
    expect(full).not.toHaveProperty('password_hash');
    const upd = await owner.call('PUT', `/api/v1/users/${u.userId}`, {
      first_name: 'Renamed',
      email: 'renamed@example.test',
    });
    expect(upd.statusCode).toBe(200);
    expect(upd.json()).toMatchObject({
      first_name: 'Renamed',
      email: 'renamed@example.test',
      roles: ['viewer'],
    });
    const taken = await owner.call('PUT', `/api/v1/users/${u.userId}`, { email: owner.email });
    expect(taken.statusCode).toBe(409);
    const [audit] = await app.ctx.database.query<{
      metadata: { before: { first_name: string }; after: { first_name: string } };
    }>(
      `select metadata from audit_log where tenant_id = $1 and event_type = 'user.updated' order by seq limit 1`,
      [owner.tenantId],
    );
    // Names are personal data: the audit writer stores them as pii: references, but before and after are both there.
    expect(audit!.metadata.before.first_name).toBeTruthy();
    expect(audit!.metadata.after.first_name).toBeTruthy();
    expect(audit!.metadata.after.first_name).not.toBe(audit!.metadata.before.first_name);
    expect((await owner.call('GET', '/api/v1/users/999999999')).statusCode).toBe(404);
    expect((await owner.call('GET', '/api/v1/users/abc')).statusCode).toBe(422);
  });

  it('only a superuser may grant is_superuser', async () => {
    const { owner } = await tenantOwner(app);
    const u = await userWith(app, owner.tenantId);
    const denied = await owner.call('PUT', `/api/v1/users/${u.userId}`, { is_superuser: true });
    expect(denied.statusCode).toBe(403);
    expect(
      (
        await owner.call('POST', '/api/v1/users', {
          email: 'su@example.test',
          password: STRONG,
          is_superuser: true,
        })
      ).statusCode,
    ).toBe(403);
    const su = await newUser(app, owner.tenantId, { isSuperuser: true });
    const suCall = client(app, await login(app, owner.tenantId, su.email, PASSWORD));
    const ok = await suCall('PUT', `/api/v1/users/${u.userId}`, { is_superuser: true });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().is_superuser).toBe(true);
    // Effective on the next request: the promoted user now administers users.
    expect((await u.call('GET', '/api/v1/users')).statusCode).toBe(200);
  });

  it('deactivation revokes every session of the user at once; activation lets them sign in again', async () => {
    const { owner } = await tenantOwner(app);
    const u = await userWith(app, owner.tenantId, ['viewer']);
    const second = client(app, await login(app, owner.tenantId, u.email));
    expect((await u.call('GET', '/api/v1/users/me')).statusCode).toBe(200);
    const res = await owner.call('POST', `/api/v1/users/${u.userId}/deactivate`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ success: true, data: null });
    expect((await u.call('GET', '/api/v1/users/me')).statusCode).toBe(401);
    expect((await second('GET', '/api/v1/users/me')).statusCode).toBe(401);
    await expect(login(app, owner.tenantId, u.email)).rejects.toThrow(/401/);
    const sessions = (
      await owner.call('GET', `/api/v1/users/${u.userId}/sessions?include_inactive=true`)
    ).json();
    expect(sessions.total).toBe(2);
    expect(sessions.active_count).toBe(0);
    expect((await owner.call('POST', `/api/v1/users/${u.userId}/activate`)).statusCode).toBe(200);
    await login(app, owner.tenantId, u.email);
  });

  it('own account: deactivate, verify, delete are 400', async () => {
    const { owner } = await tenantOwner(app);
    for (const action of ['deactivate', 'verify', 'activate']) {
      const res = await owner.call('POST', `/api/v1/users/${owner.userId}/${action}`);
      expect(res.statusCode).toBe(400);
    }
    expect((await owner.call('DELETE', `/api/v1/users/${owner.userId}`)).statusCode).toBe(400);
    expect((await owner.call('PUT', `/api/v1/users/${owner.userId}`, { is_active: false })).statusCode).toBe(
      400,
    );
  });

  it('verify and delete; a deleted user is 404 and their tokens stop working', async () => {
    const { owner } = await tenantOwner(app);
    const created = (
      await owner.call('POST', '/api/v1/users', { email: 'verify-me@example.test', password: STRONG })
    ).json();
    expect((await owner.call('POST', `/api/v1/users/${created.id}/verify`)).statusCode).toBe(200);
    expect((await owner.call('GET', `/api/v1/users/${created.id}`)).json().is_verified).toBe(true);
    const tokens = await login(app, owner.tenantId, 'verify-me@example.test', STRONG);
    expect((await owner.call('DELETE', `/api/v1/users/${created.id}`)).statusCode).toBe(204);
    expect((await owner.call('GET', `/api/v1/users/${created.id}`)).statusCode).toBe(404);
    expect((await owner.call('DELETE', `/api/v1/users/${created.id}`)).statusCode).toBe(404);
    expect((await client(app, tokens)('GET', '/api/v1/users/me')).statusCode).toBe(401);
  });

  it('a manager cannot act on a user who holds more than they do', async () => {
    const { owner } = await tenantOwner(app);
    const manager = await userWith(app, owner.tenantId, ['manager']);
    expect((await manager.call('POST', `/api/v1/users/${owner.userId}/deactivate`)).statusCode).toBe(403);
    expect(
      (await manager.call('PUT', `/api/v1/users/${owner.userId}`, { email: 'stolen@example.test' }))
        .statusCode,
    ).toBe(403);
    const member = await userWith(app, owner.tenantId, ['member']);
    expect(
      (await manager.call('PUT', `/api/v1/users/${member.userId}`, { first_name: 'Okay' })).statusCode,
    ).toBe(200);
  });

  it('the last active owner cannot be deactivated or deleted (409 LAST_OWNER)', async () => {
    const { owner } = await tenantOwner(app);
    const admin = await userWith(app, owner.tenantId, ['admin']);
    const del = await admin.call('DELETE', `/api/v1/users/${owner.userId}`);
    expect(del.statusCode).toBe(409);
    expect(del.json().error).toBe('LAST_OWNER');
    expect((await admin.call('POST', `/api/v1/users/${owner.userId}/deactivate`)).statusCode).toBe(409);
    expect((await admin.call('PUT', `/api/v1/users/${owner.userId}`, { is_active: false })).statusCode).toBe(
      409,
    );
    // With a second owner, the first may go.
    const second = await userWith(app, owner.tenantId, ['owner']);
    expect((await second.call('POST', `/api/v1/users/${owner.userId}/deactivate`)).statusCode).toBe(200);
  });

  it('admin session routes: list and end another user’s sessions', async () => {
    const { owner } = await tenantOwner(app);
    const u = await userWith(app, owner.tenantId);
    await login(app, owner.tenantId, u.email);
    const list = await owner.call('GET', `/api/v1/users/${u.userId}/sessions`);
    expect(list.statusCode).toBe(200);
    expect(list.json().active_count).toBe(2);
    const end = await owner.call('DELETE', `/api/v1/users/${u.userId}/sessions`);
    expect(end.statusCode).toBe(200);
    expect(end.json().terminated_count).toBe(2);
    expect((await u.call('GET', '/api/v1/users/me')).statusCode).toBe(401);
    expect((await owner.call('GET', `/api/v1/users/999999999/sessions`)).statusCode).toBe(404);
  });
});

describe('/users/me', () => {
  it('reads and updates the caller’s profile, with no permission needed', async () => {
    const { owner } = await tenantOwner(app);
    const u = await userWith(app, owner.tenantId);
    const me = await u.call('GET', '/api/v1/users/me');
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({
      id: u.userId,
      tenant_id: owner.tenantId,
      has_mfa: false,
      full_name: 'Test User',
    });
    expect(me.json().tenant_name).toMatch(/^Tenant /);
    const upd = await u.call('PUT', '/api/v1/users/me', { first_name: 'Zoé', phone: '+14155550123' });
    expect(upd.statusCode).toBe(200);
    expect(upd.json()).toMatchObject({ first_name: 'Zoé', phone: '+14155550123', full_name: 'Zoé User' });
    expect((await u.call('PUT', '/api/v1/users/me', { email: 'x@example.test' })).statusCode).toBe(422);
    expect((await u.call('PUT', '/api/v1/users/me', { phone: '12345' })).statusCode).toBe(422);
    expect((await app.inject({ method: 'GET', url: '/api/v1/users/me' })).statusCode).toBe(401);
  });
});
