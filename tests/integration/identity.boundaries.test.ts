/**
 * Issue 11 (module boundaries), identity modules: one user creation for every path, tenant settings declared once,
 * RBAC asking about users only through the context the users module fills.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant } from '../../src/modules/tenant-admin/index.js';
import { TenantRead } from '../../src/modules/tenants/schemas.js';
import { TenantSettingsSchema } from '../../src/modules/tenants/settings.js';
import { createUser } from '../../src/modules/users/index.js';
import { createTestApp } from '../helpers/app.js';
import { login, newTenant, newUser, uniq } from '../helpers/factories.js';
import { tenantOwner } from '../helpers/rbac.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app.close();
});

async function creationRecords(tenantId: number) {
  return app.ctx.database.query<{
    event_type: string;
    resource_id: string;
    metadata: Record<string, unknown>;
  }>(
    `select event_type, resource_id, metadata from audit_log
      where tenant_id = $1 and event_type in ('user.created', 'user.registered') order by seq`,
    [tenantId],
  );
}

describe('issue 11: one user-creation function', () => {
  it('issue 11: self-registration goes through the one creation: the address is stored lower-cased and signs in', async () => {
    const { tenant } = await newTenant(app, { settings: { self_registration: true } });
    const local = uniq('Reg');
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      headers: { 'x-tenant-id': String(tenant.id) },
      payload: {
        email: `${local}@Example.TEST`,
        password: 'Long-Enough-Pass-9',
        first_name: 'Jean',
        last_name: 'Dupont',
      },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().email).toBe(`${local.toLowerCase()}@example.test`);
    // Sign-in lower-cases the address it is given; before, a mixed-case registration could never sign in.
    await login(app, tenant.id, `${local}@example.test`, 'Long-Enough-Pass-9');
  });

  it('issue 11: admin route, registration, first admin, CLI path and test factory write one audit shape', async () => {
    const { owner, tenant, admin } = await tenantOwner(app);
    await app.inject({
      method: 'PATCH',
      url: '/api/v1/tenants/current',
      headers: { authorization: `Bearer ${owner.tokens.access_token}` },
      payload: { settings: { self_registration: true } },
    });
    const viaRoute = await owner.call('POST', '/api/v1/users', {
      email: `${uniq('a')}@example.test`,
      password: 'Another-Strong-Pass-7',
    });
    expect(viaRoute.statusCode).toBe(201);
    const registered = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      headers: { 'x-tenant-id': String(tenant.id) },
      payload: {
        email: `${uniq('r')}@example.test`,
        password: 'Long-Enough-Pass-9',
        first_name: 'Jean',
        last_name: 'Dupont',
      },
    });
    expect(registered.statusCode).toBe(201);
    const cli = await createUser(
      app.ctx,
      tenant.id,
      { email: `${uniq('c')}@example.test`, password: 'Cli-Strong-Pass-2026!', isVerified: true },
      { source: 'cli' },
    );
    const factory = await newUser(app, tenant.id);

    const records = await creationRecords(tenant.id);
    const bySubject = new Map(records.map((r) => [Number(r.resource_id), r]));
    const expected: [number, string, string][] = [
      [admin.id, 'user.created', 'first_admin'],
      [viaRoute.json().id, 'user.created', 'admin'],
      [registered.json().id, 'user.registered', 'register'],
      [cli.id, 'user.created', 'cli'],
      [factory.id, 'user.created', 'admin'],
    ];
    for (const [id, event, source] of expected) {
      const r = bySubject.get(id);
      expect(r?.event_type).toBe(event);
      expect(r?.metadata).toMatchObject({ source, after: { is_active: true } });
      expect(JSON.stringify(r?.metadata)).not.toMatch(/argon2|password/i);
    }
  });

  it('issue 11: the one creation refuses a taken address (409) and a weak password (422) on every path', async () => {
    const { tenant, admin } = await newTenant(app);
    await expect(
      createUser(
        app.ctx,
        tenant.id,
        { email: admin.email.toUpperCase(), password: 'Cli-Strong-Pass-2026!' },
        { source: 'cli' },
      ),
    ).rejects.toMatchObject({ statusCode: 409, code: 'EMAIL_ALREADY_EXISTS' });
    await expect(
      createUser(
        app.ctx,
        tenant.id,
        { email: `${uniq('w')}@example.test`, password: 'short' },
        { source: 'cli' },
      ),
    ).rejects.toMatchObject({ statusCode: 422, code: 'PASSWORD_TOO_WEAK' });
    await expect(
      createTenant(app.ctx, {
        slug: uniq('tw'),
        name: 'Weak first admin',
        admin: { email: 'first@example.test', password: 'short' },
      }),
    ).rejects.toMatchObject({ statusCode: 422, code: 'PASSWORD_TOO_WEAK' });
  });
});

describe('issue 11: tenant settings declared once', () => {
  it('issue 11: GET /tenants/current returns exactly the keys of the one TypeBox settings schema', async () => {
    const { owner } = await tenantOwner(app);
    const res = await owner.call('GET', '/api/v1/tenants/current');
    expect(res.statusCode).toBe(200);
    const settings = res.json().settings as Record<string, unknown>;
    expect(Object.keys(settings).sort()).toEqual(Object.keys(TenantSettingsSchema.properties).sort());
    expect(TenantRead.properties.settings).toBe(TenantSettingsSchema);
    for (const [key, schema] of Object.entries(TenantSettingsSchema.properties)) {
      if ('properties' in schema)
        expect(Object.keys(settings[key] as object).sort()).toEqual(Object.keys(schema.properties).sort());
    }
  });

  it('issue 11: PATCH /tenants/current applies the bounds declared in the settings schema', async () => {
    const { owner } = await tenantOwner(app);
    const tooShort = await owner.call('PATCH', '/api/v1/tenants/current', {
      settings: { password_policy: { min_length: 7 } },
    });
    expect(tooShort.statusCode).toBe(422);
    const unknown = await owner.call('PATCH', '/api/v1/tenants/current', {
      settings: { wireguard: { max_peers: 5 } },
    });
    expect(unknown.statusCode).toBe(422);
    const ok = await owner.call('PATCH', '/api/v1/tenants/current', {
      settings: { password_policy: { min_length: 12 } },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().settings.password_policy).toMatchObject({ min_length: 12, require_classes: 4 });
  });
});

describe('issue 11: RBAC learns about users through ctx.users only', () => {
  it('issue 11: role routes answer 404 for a user outside the tenant and see deactivation at once', async () => {
    const { owner } = await tenantOwner(app);
    const other = await newTenant(app);
    expect((await owner.call('GET', `/api/v1/users/${other.admin.id}/roles`)).statusCode).toBe(404);
    expect((await owner.call('GET', `/api/v1/users/${other.admin.id}/permissions`)).statusCode).toBe(404);
    const u = await newUser(app, owner.tenantId, { roles: ['viewer'] });
    const before = await owner.call('GET', `/api/v1/users/${u.id}/permissions`);
    expect(before.json().permissions).toContain('users.read');
    expect((await owner.call('POST', `/api/v1/users/${u.id}/deactivate`)).statusCode).toBe(200);
    const after = await owner.call('GET', `/api/v1/users/${u.id}/permissions`);
    expect(after.json().permissions).toEqual([]);
  });
});
