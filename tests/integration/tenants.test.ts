import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { login, PASSWORD, uniq } from '../helpers/factories.js';
import { client, platformOperator, tenantOwner, userWith } from '../helpers/rbac.js';

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

describe('PATCH /tenants/current', () => {
  it('changes name and settings (merged), audits before/after, and needs tenants.manage', async () => {
    const { owner } = await tenantOwner(app);
    const res = await owner.call('PATCH', '/api/v1/tenants/current', {
      name: 'Renamed Inc',
      settings: {
        self_registration: true,
        password_policy: { min_length: 14 },
        session: { access_ttl: 600 },
      },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      name: 'Renamed Inc',
      settings: {
        self_registration: true,
        password_policy: { min_length: 14, require_classes: 4 },
        session: { access_ttl: 600 },
      },
    });
    const again = await owner.call('PATCH', '/api/v1/tenants/current', { settings: { mfa_required: false } });
    expect(again.json().settings.password_policy.min_length).toBe(14);
    const current = await owner.call('GET', '/api/v1/tenants/current');
    expect(current.json().name).toBe('Renamed Inc');
    const audit = await app.ctx.database.query<{
      metadata: { before: { name: string }; after: { name: string } };
    }>(
      `select metadata from audit_log where tenant_id = $1 and event_type = 'tenant.updated' order by seq limit 1`,
      [owner.tenantId],
    );
    expect(audit[0]!.metadata.after.name).toBe('Renamed Inc');
    const viewer = await userWith(app, owner.tenantId, ['viewer']);
    expect((await viewer.call('PATCH', '/api/v1/tenants/current', { name: 'Nope' })).statusCode).toBe(403);
  });

  it('takes effect on the next request: session lifetime on the next login, password policy on the next user', async () => {
    const { owner } = await tenantOwner(app);
    await owner.call('PATCH', '/api/v1/tenants/current', {
      settings: { session: { access_ttl: 120 }, password_policy: { min_length: 30 } },
    });
    const tokens = await login(app, owner.tenantId, owner.email);
    expect((tokens as unknown as { expires_in: number }).expires_in).toBe(120);
    const weak = await owner.call('POST', '/api/v1/users', {
      email: 'short@example.test',
      password: 'Only-20-chars-Long!!',
    });
    expect(weak.statusCode).toBe(422);
  });

  it('validates input: bad CIDR, unknown keys and out-of-range values are 422', async () => {
    const { owner } = await tenantOwner(app);
    const bad = await owner.call('PATCH', '/api/v1/tenants/current', {
      settings: { allowed_ip_ranges: ['10.0.0.0/33'] },
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().details.errors[0].field).toBe('body.settings.allowed_ip_ranges.0');
    expect(
      (
        await owner.call('PATCH', '/api/v1/tenants/current', {
          settings: { allowed_ip_ranges: ['not-an-ip'] },
        })
      ).statusCode,
    ).toBe(422);
    expect(
      (await owner.call('PATCH', '/api/v1/tenants/current', { settings: { nope: true } })).statusCode,
    ).toBe(422);
    expect(
      (
        await owner.call('PATCH', '/api/v1/tenants/current', {
          settings: { password_policy: { min_length: 3 } },
        })
      ).statusCode,
    ).toBe(422);
    expect(
      (
        await owner.call('PATCH', '/api/v1/tenants/current', {
          settings: { session: { access_ttl: 3600, refresh_ttl: 600 } },
        })
      ).statusCode,
    ).toBe(422);
    // Ranges that would lock out the caller's own address are refused.
    expect(
      (
        await owner.call('PATCH', '/api/v1/tenants/current', {
          settings: { allowed_ip_ranges: ['10.0.0.0/8'] },
        })
      ).statusCode,
    ).toBe(422);
  });

  it('allowed_ip_ranges: callers outside get 403 NETWORK_FORBIDDEN from the next request, on every replica', async () => {
    const { owner } = await tenantOwner(app);
    const u = await userWith(app, owner.tenantId, ['viewer']);
    const outside = { remoteAddress: '192.0.2.10' };
    const onReplica = client(replica, u.tokens);
    // Warm both replicas' caches for this tenant first.
    expect((await u.call('GET', '/api/v1/users/me', undefined, outside)).statusCode).toBe(200);
    expect((await onReplica('GET', '/api/v1/users/me', undefined, outside)).statusCode).toBe(200);
    const set = await owner.call('PATCH', '/api/v1/tenants/current', {
      settings: { allowed_ip_ranges: ['127.0.0.0/8', '2001:db8::/32'] },
    });
    expect(set.statusCode).toBe(200);
    const refused = await u.call('GET', '/api/v1/users/me', undefined, outside);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toBe('NETWORK_FORBIDDEN');
    expect((await onReplica('GET', '/api/v1/users/me', undefined, outside)).statusCode).toBe(403);
    expect((await u.call('GET', '/api/v1/users/me')).statusCode).toBe(200);
    expect(
      (await onReplica('GET', '/api/v1/users/me', undefined, { remoteAddress: '2001:db8::5' })).statusCode,
    ).toBe(200);
    await owner.call('PATCH', '/api/v1/tenants/current', { settings: { allowed_ip_ranges: [] } });
    expect((await onReplica('GET', '/api/v1/users/me', undefined, outside)).statusCode).toBe(200);
  });
});

describe('platform tenant routes', () => {
  it('a platform operator lists, creates (with a first admin who is owner), reads and deletes tenants', async () => {
    const ops = await platformOperator(app);
    const slug = uniq('new');
    const created = await ops.call('POST', '/api/v1/tenants', {
      slug,
      name: 'New Co',
      admin_email: `Boss@${slug}.test`,
      admin_password: PASSWORD,
    });
    expect(created.statusCode).toBe(201);
    const { tenant, admin } = created.json();
    expect(tenant).toMatchObject({ slug, name: 'New Co', status: 'active', is_platform: false });
    expect(admin.email).toBe(`boss@${slug}.test`);
    const bossTokens = await login(app, tenant.id, admin.email);
    const boss = client(app, bossTokens);
    expect((await boss('GET', `/api/v1/users/${admin.id}`)).json().roles).toEqual(['owner']);
    expect(
      (
        await ops.call('POST', '/api/v1/tenants', {
          slug,
          name: 'Dup',
          admin_email: `x@${slug}.test`,
          admin_password: PASSWORD,
        })
      ).statusCode,
    ).toBe(409);
    expect(
      (
        await ops.call('POST', '/api/v1/tenants', {
          slug: uniq('w'),
          name: 'Weak',
          admin_email: 'w@example.test',
          admin_password: 'weak',
        })
      ).statusCode,
    ).toBe(422);
    const list = await ops.call('GET', '/api/v1/tenants?limit=100');
    expect(list.statusCode).toBe(200);
    expect(list.json().total).toBeGreaterThanOrEqual(2);
    expect((await ops.call('GET', `/api/v1/tenants/${tenant.id}`)).json().slug).toBe(slug);
    expect((await ops.call('DELETE', `/api/v1/tenants/${tenant.id}`)).statusCode).toBe(204);
    expect((await ops.call('GET', `/api/v1/tenants/${tenant.id}`)).statusCode).toBe(404);
    expect((await boss('GET', '/api/v1/users/me')).statusCode).toBe(401);
    expect((await ops.call('DELETE', `/api/v1/tenants/${ops.tenantId}`)).statusCode).toBe(400);
    expect((await ops.call('GET', '/api/v1/tenants/999999999')).statusCode).toBe(404);
  });

  it('suspending a tenant: its live tokens get 401 on the next request on every replica; reactivation restores sign-in', async () => {
    const ops = await platformOperator(app);
    const { owner } = await tenantOwner(app);
    const member = await userWith(app, owner.tenantId, ['member']);
    const onReplica = client(replica, member.tokens);
    expect((await member.call('GET', '/api/v1/users/me')).statusCode).toBe(200);
    expect((await onReplica('GET', '/api/v1/users/me')).statusCode).toBe(200);
    const res = await ops.call('POST', `/api/v1/tenants/${owner.tenantId}/suspend`);
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('suspended');
    expect((await member.call('GET', '/api/v1/users/me')).statusCode).toBe(401);
    expect((await onReplica('GET', '/api/v1/users/me')).statusCode).toBe(401);
    expect((await owner.call('GET', '/api/v1/tenants/current')).statusCode).toBe(401);
    await expect(login(app, owner.tenantId, owner.email)).rejects.toThrow(/401/);
    const refresh = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: member.tokens.refresh_token },
    });
    expect(refresh.statusCode).toBe(401);
    const re = await ops.call('POST', `/api/v1/tenants/${owner.tenantId}/reactivate`);
    expect(re.json().status).toBe('active');
    // Sessions ended by the suspension stay ended; signing in again works.
    expect((await member.call('GET', '/api/v1/users/me')).statusCode).toBe(401);
    const fresh = client(app, await login(app, owner.tenantId, member.email));
    expect((await fresh('GET', '/api/v1/users/me')).statusCode).toBe(200);
    expect((await ops.call('POST', `/api/v1/tenants/${ops.tenantId}/suspend`)).statusCode).toBe(400);
  });
});
