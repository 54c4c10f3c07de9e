/**
 * Finding 4 (issue 10, API.md §13): API keys reach the caller's own (`self`) routes only through the key scope
 * each route declares (`config.keyScope`); password change, ending sessions and every /mfa route are never open
 * to keys, not even to `*`. The walk covers every `self` route the app registered, so a new one cannot slip by.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SELF_SCOPES } from '../../src/modules/api-keys/scopes.js';
import { assertRouteAccess, type DeclaredRoute } from '../../src/platform/http/access.js';
import { createTestApp } from '../helpers/app.js';
import { bearer } from '../helpers/factories.js';
import { type Caller, platformOperator, roleId, tenantOwner } from '../helpers/rbac.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app?.close();
});

const concrete = (url: string) =>
  url.replace(/:[A-Za-z_][A-Za-z0-9_]*(\([^)]*\))?/g, '1').replace(/\*/g, 'x');
const selfRoutes = () =>
  app.declaredRoutes.filter(
    (r) =>
      r.access === 'self' && r.url.startsWith('/api/v1') && r.method !== 'HEAD' && r.method !== 'OPTIONS',
  );
const key = (raw: string) => ({ 'x-api-key': raw });

async function createKey(owner: Caller, payload: Record<string, unknown>): Promise<string> {
  const res = await owner.call('POST', '/api/v1/api-keys', { name: 'k', ...payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().raw_key as string;
}

function callWithKey(raw: string, r: DeclaredRoute) {
  return app.inject({
    method: r.method as never,
    url: concrete(r.url),
    headers: key(raw),
    ...(r.method === 'GET' ? {} : { payload: {} }),
  });
}

const routeName = (r: DeclaredRoute) => `${r.method} ${r.url}`;

describe('finding 4: API keys reach self routes only through explicit scopes', () => {
  it('finding 4: a features.read key is refused GET /gdpr/export, PUT /users/me and POST /auth/logout {all_sessions:true}; the owner stays signed in', async () => {
    const { owner } = await tenantOwner(app);
    const raw = await createKey(owner, { scopes: ['features.read'] });
    const exp = await app.inject({ method: 'GET', url: '/api/v1/gdpr/export', headers: key(raw) });
    expect(exp.statusCode, exp.body).toBe(403);
    expect(exp.json().error).toBe('API_KEY_SCOPE_INSUFFICIENT');
    expect(exp.json().details).toEqual({ scope: 'gdpr.self' });
    const put = await app.inject({
      method: 'PUT',
      url: '/api/v1/users/me',
      headers: key(raw),
      payload: { first_name: 'Mallory' },
    });
    expect(put.statusCode, put.body).toBe(403);
    expect(put.json().error).toBe('API_KEY_SCOPE_INSUFFICIENT');
    const logout = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: key(raw),
      payload: { all_sessions: true },
    });
    expect(logout.statusCode, logout.body).toBe(403);
    expect(logout.json().error).toBe('API_KEY_SCOPE_INSUFFICIENT');
    expect(logout.json().details).toEqual({ reason: 'not_open_to_api_keys' });
    // Nothing happened: the profile is unchanged and the owner's interactive session still works.
    const me = await owner.call('GET', '/api/v1/users/me');
    expect(me.statusCode).toBe(200);
    expect(me.json().first_name).not.toBe('Mallory');
    // The key still does what its scope says.
    const flags = await app.inject({ method: 'GET', url: '/api/v1/features/evaluate', headers: key(raw) });
    expect(flags.statusCode).toBe(200);
  });

  it('finding 4: every self route declares its key scope; a key without scopes is refused on each, a key with the declared scope (and only it) is let through', async () => {
    const routes = selfRoutes();
    expect(routes.length).toBeGreaterThan(20);
    const declared = Object.fromEntries(routes.map((r) => [routeName(r), r.keyScope]));
    // The mapping of API.md §13, plus the closed routes.
    expect(declared).toMatchObject({
      'GET /api/v1/users/me': 'profile.read',
      'GET /api/v1/auth/me': 'profile.read',
      'PUT /api/v1/users/me': 'profile.write',
      'GET /api/v1/sessions': 'sessions.self',
      'GET /api/v1/sessions/:id': 'sessions.self',
      'GET /api/v1/gdpr/export': 'gdpr.self',
      'POST /api/v1/auth/change-password': null,
      'POST /api/v1/auth/logout': null,
      'DELETE /api/v1/sessions': null,
      'DELETE /api/v1/sessions/:id': null,
    });
    for (const r of routes) {
      expect(r.keyScope, routeName(r)).not.toBeUndefined();
      if (r.url.startsWith('/api/v1/mfa')) expect(r.keyScope, routeName(r)).toBeNull();
    }

    const { owner } = await tenantOwner(app);
    const none = await createKey(owner, { scopes: [] });
    const scopes = [...new Set(routes.flatMap((r) => (r.keyScope ? [r.keyScope as string] : [])))];
    const withOnly = new Map<string, string>();
    const withAllBut = new Map<string, string>();
    for (const s of scopes) {
      withOnly.set(s, await createKey(owner, { scopes: [s] }));
      withAllBut.set(s, await createKey(owner, { scopes: scopes.filter((x) => x !== s) }));
    }
    const everySelfScope = await createKey(owner, { scopes: scopes });

    const failures: string[] = [];
    for (const r of routes) {
      const refusedKeys = [
        ['no scopes', none],
        ...(r.keyScope
          ? [['all but its scope', withAllBut.get(r.keyScope)!]]
          : [['every scope', everySelfScope]]),
      ] as const;
      for (const [label, raw] of refusedKeys) {
        const res = await callWithKey(raw, r);
        if (res.statusCode !== 403 || res.json().error !== 'API_KEY_SCOPE_INSUFFICIENT')
          failures.push(`${label}: ${routeName(r)} -> ${res.statusCode} ${res.body.slice(0, 80)}`);
      }
      if (r.keyScope) {
        const res = await callWithKey(withOnly.get(r.keyScope)!, r);
        // Let through the guard: whatever the handler answers (200, or 422/404 for a made-up id), never 401/403.
        if (res.statusCode === 401 || res.statusCode === 403)
          failures.push(`${r.keyScope}: ${routeName(r)} -> ${res.statusCode} ${res.body.slice(0, 80)}`);
      }
    }
    expect(failures).toEqual([]);

    // The listed routes answer for real with the right scope.
    const ok: [string, string, string][] = [
      ['GET', '/api/v1/users/me', 'profile.read'],
      ['GET', '/api/v1/auth/me', 'profile.read'],
      ['PUT', '/api/v1/users/me', 'profile.write'],
      ['GET', '/api/v1/sessions', 'sessions.self'],
      ['GET', '/api/v1/gdpr/export', 'gdpr.self'],
    ];
    for (const [method, url, scope] of ok) {
      const res = await app.inject({
        method: method as never,
        url,
        headers: key(withOnly.get(scope)!),
        ...(method === 'PUT' ? { payload: { first_name: 'Keyed' } } : {}),
      });
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(200);
    }
    expect((await owner.call('GET', '/api/v1/users/me')).json().first_name).toBe('Keyed');

    // Each refusal is audited with the key as actor.
    const refused = routes.length * 2;
    const rows = await app.ctx.database.query<{ n: string }>(
      `select count(*)::text as n from audit_log where tenant_id = $1 and event_type = 'access.permission_denied' and actor_type = 'api_key'`,
      [owner.tenantId],
    );
    expect(Number(rows[0]!.n)).toBe(refused);
  });

  it('finding 4: `*` opens the declared self scopes but never password change, ending sessions or MFA', async () => {
    const op = await platformOperator(app); // only a platform owner holds `*` itself
    const raw = await createKey(op, { scopes: ['*'] });
    const me = await app.inject({ method: 'GET', url: '/api/v1/users/me', headers: key(raw) });
    expect(me.statusCode).toBe(200);
    const closed = selfRoutes().filter((r) => r.keyScope === null);
    expect(closed.map(routeName)).toEqual(
      expect.arrayContaining([
        'POST /api/v1/auth/change-password',
        'POST /api/v1/mfa/setup',
        'DELETE /api/v1/mfa/webauthn/credentials/:id',
      ]),
    );
    for (const r of closed) {
      const res = await callWithKey(raw, r);
      expect(res.statusCode, routeName(r)).toBe(403);
      expect(res.json().error, routeName(r)).toBe('API_KEY_SCOPE_INSUFFICIENT');
    }
    // The operator's password and session are untouched.
    expect((await op.call('GET', '/api/v1/auth/me')).statusCode).toBe(200);
  });

  it('finding 4: self scopes are accepted at key creation on user-owned keys only, and a key cannot mint one it lacks', async () => {
    const { owner } = await tenantOwner(app);
    const res = await owner.call('POST', '/api/v1/api-keys', {
      name: 'self',
      scopes: Object.keys(SELF_SCOPES),
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().scopes).toEqual(Object.keys(SELF_SCOPES));
    // A tenant-owned key has no user whose own data it could reach.
    const tenantKey = await owner.call('POST', '/api/v1/api-keys', {
      name: 'svc',
      owner: 'tenant',
      role_id: await roleId(owner, 'member'),
      scopes: ['profile.read'],
    });
    expect(tenantKey.statusCode, tenantKey.body).toBe(422);
    expect(tenantKey.json().details.errors[0].field).toBe('body.scopes');
    // Unknown look-alikes stay unknown.
    const unknown = await owner.call('POST', '/api/v1/api-keys', { name: 'x', scopes: ['profile.*'] });
    expect(unknown.statusCode).toBe(422);
    // A key may mint keys no wider than itself, self scopes included.
    const minter = await createKey(owner, { scopes: ['api_keys.write', 'profile.read'] });
    const wider = await app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: key(minter),
      payload: { name: 'w', scopes: ['gdpr.self'] },
    });
    expect(wider.statusCode, wider.body).toBe(403);
    expect(wider.json().details.scopes).toEqual(['gdpr.self']);
    const same = await app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: key(minter),
      payload: { name: 'n', scopes: ['profile.read'] },
    });
    expect(same.statusCode, same.body).toBe(201);
    // A user token is unaffected by key scopes.
    expect((await app.inject({ url: '/api/v1/gdpr/export', headers: bearer(owner.tokens) })).statusCode).toBe(
      200,
    );
  });

  it('finding 4: the boot check refuses a self route that does not say whether keys may use it', () => {
    const route = (config: Record<string, unknown>) =>
      ({ method: 'GET', url: '/api/v1/x', config, handler: async () => null }) as never;
    expect(() => assertRouteAccess(route({ access: 'self' }), app.ctx)).toThrow(/keyScope/);
    expect(() => assertRouteAccess(route({ access: 'self', keyScope: 'profile.fly' }), app.ctx)).toThrow(
      /unknown keyScope/,
    );
    expect(() => assertRouteAccess(route({ access: 'self', keyScope: null }), app.ctx)).not.toThrow();
    expect(() =>
      assertRouteAccess(route({ access: 'self', keyScope: 'profile.read' }), app.ctx),
    ).not.toThrow();
    expect(() => assertRouteAccess(route({ access: 'users.read' }), app.ctx)).not.toThrow();
  });
});
