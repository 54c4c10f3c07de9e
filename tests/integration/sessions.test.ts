import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant, newUser } from '../helpers/factories.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app.close();
});

const CHROME_MAC =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';

async function loginWithUa(tenantId: number, email: string, ua: string) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    headers: { 'x-tenant-id': String(tenantId), 'user-agent': ua },
    payload: { email, password: 'Correct-Horse-42-battery' },
  });
  return res.json();
}

describe('/api/v1/sessions', () => {
  it('lists the caller sessions newest first with device, browser, os and is_current', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    await loginWithUa(tenant.id, user.email, SAFARI_IPHONE);
    const current = await loginWithUa(tenant.id, user.email, CHROME_MAC);
    const res = await app.inject({ url: '/api/v1/sessions', headers: bearer(current) });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.total).toBe(2);
    expect(body.active_count).toBe(2);
    const [first, second] = body.sessions;
    expect(first).toMatchObject({
      is_current: true,
      device_type: 'desktop',
      browser: 'Chrome 120',
      is_active: true,
      user_id: user.id,
      tenant_id: tenant.id,
    });
    expect(first.os).toMatch(/macOS/);
    expect(second).toMatchObject({ is_current: false, device_type: 'mobile', os: 'iOS 17.0' });
    expect(Object.keys(first).sort()).toEqual(
      [
        'browser',
        'created_at',
        'device_type',
        'id',
        'ip_address',
        'is_active',
        'is_current',
        'last_seen_at',
        'os',
        'tenant_id',
        'updated_at',
        'user_agent',
        'user_id',
      ].sort(),
    );
  });

  it('GET and DELETE one session; deleting it again is 400; its token is refused at once', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const other = await login(app, tenant.id, user.email);
    const me = await login(app, tenant.id, user.email);
    const list = (await app.inject({ url: '/api/v1/sessions', headers: bearer(me) })).json();
    const target = list.sessions.find((s: { is_current: boolean }) => !s.is_current);
    const one = await app.inject({ url: `/api/v1/sessions/${target.id}`, headers: bearer(me) });
    expect(one.statusCode).toBe(200);
    expect(one.json().id).toBe(target.id);
    const del = await app.inject({
      method: 'DELETE',
      url: `/api/v1/sessions/${target.id}`,
      headers: bearer(me),
    });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toMatchObject({ terminated_count: 1 });
    expect((await app.inject({ url: '/api/v1/auth/me', headers: bearer(other) })).statusCode).toBe(401);
    const again = await app.inject({
      method: 'DELETE',
      url: `/api/v1/sessions/${target.id}`,
      headers: bearer(me),
    });
    expect(again.statusCode).toBe(400);
    const all = (
      await app.inject({ url: '/api/v1/sessions?include_inactive=true', headers: bearer(me) })
    ).json();
    expect(all.total).toBe(2);
    expect(all.active_count).toBe(1);
  });

  it('DELETE / ends every session but the current one, or just the listed ones', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const a = await login(app, tenant.id, user.email);
    const b = await login(app, tenant.id, user.email);
    const c = await login(app, tenant.id, user.email);
    const res = await app.inject({ method: 'DELETE', url: '/api/v1/sessions', headers: bearer(c) });
    expect(res.json().terminated_count).toBe(2);
    expect((await app.inject({ url: '/api/v1/auth/me', headers: bearer(a) })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/v1/auth/me', headers: bearer(b) })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/v1/auth/me', headers: bearer(c) })).statusCode).toBe(200);
    const d = await login(app, tenant.id, user.email);
    const sid = (await app.inject({ url: '/api/v1/sessions', headers: bearer(d) }))
      .json()
      .sessions.find((s: { is_current: boolean }) => s.is_current).id;
    const listed = await app.inject({
      method: 'DELETE',
      url: '/api/v1/sessions',
      headers: bearer(c),
      payload: { session_ids: [sid] },
    });
    expect(listed.json().terminated_count).toBe(1);
    expect((await app.inject({ url: '/api/v1/auth/me', headers: bearer(d) })).statusCode).toBe(401);
  });

  it('DELETE / accepts terminate_all as the existing clients send it, and it changes nothing', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const a = await login(app, tenant.id, user.email);
    const b = await login(app, tenant.id, user.email);
    const all = await app.inject({
      method: 'DELETE',
      url: '/api/v1/sessions',
      headers: bearer(b),
      payload: { terminate_all: true },
    });
    expect(all.statusCode).toBe(200);
    expect(all.json().terminated_count).toBe(1);
    expect((await app.inject({ url: '/api/v1/auth/me', headers: bearer(a) })).statusCode).toBe(401);
    // The current session survives, as without the flag.
    expect((await app.inject({ url: '/api/v1/auth/me', headers: bearer(b) })).statusCode).toBe(200);
    // With session_ids, only those end: terminate_all does not widen it.
    const c = await login(app, tenant.id, user.email);
    const d = await login(app, tenant.id, user.email);
    const sid = (await app.inject({ url: '/api/v1/sessions', headers: bearer(d) }))
      .json()
      .sessions.find((s: { is_current: boolean }) => s.is_current).id;
    const listed = await app.inject({
      method: 'DELETE',
      url: '/api/v1/sessions',
      headers: bearer(b),
      payload: { session_ids: [sid], terminate_all: true },
    });
    expect(listed.json().terminated_count).toBe(1);
    expect((await app.inject({ url: '/api/v1/auth/me', headers: bearer(c) })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/v1/auth/me', headers: bearer(d) })).statusCode).toBe(401);
    // A wrong type is still refused.
    const bad = await app.inject({
      method: 'DELETE',
      url: '/api/v1/sessions',
      headers: bearer(b),
      payload: { terminate_all: 'yes please' },
    });
    expect(bad.statusCode).toBe(422);
  });

  it('a malformed id is 422; an unknown id is 404', async () => {
    const { tenant, admin } = await newTenant(app);
    const t = await login(app, tenant.id, admin.email);
    expect((await app.inject({ url: '/api/v1/sessions/not-a-uuid', headers: bearer(t) })).statusCode).toBe(
      422,
    );
    expect(
      (await app.inject({ url: `/api/v1/sessions/${crypto.randomUUID()}`, headers: bearer(t) })).statusCode,
    ).toBe(404);
  });

  it('a tenant-B user gets 404 on tenant-A sessions, and another user of the same tenant too', async () => {
    const a = await newTenant(app);
    const b = await newTenant(app);
    const ta = await login(app, a.tenant.id, a.admin.email);
    const tb = await login(app, b.tenant.id, b.admin.email);
    const colleague = await newUser(app, a.tenant.id);
    const tc = await login(app, a.tenant.id, colleague.email);
    const sid = (await app.inject({ url: '/api/v1/sessions', headers: bearer(ta) })).json().sessions[0].id;
    for (const t of [tb, tc]) {
      for (const method of ['GET', 'DELETE'] as const) {
        const res = await app.inject({ method, url: `/api/v1/sessions/${sid}`, headers: bearer(t) });
        expect(res.statusCode).toBe(404);
        expect(res.json().error).toBe('NOT_FOUND');
      }
      const bulk = await app.inject({
        method: 'DELETE',
        url: '/api/v1/sessions',
        headers: bearer(t),
        payload: { session_ids: [sid] },
      });
      expect(bulk.json().terminated_count).toBe(0);
    }
    expect((await app.inject({ url: '/api/v1/auth/me', headers: bearer(ta) })).statusCode).toBe(200);
  });
});
