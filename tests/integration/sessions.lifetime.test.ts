/**
 * Session lifetimes against a movable clock (issue 10, findings 1 and 7): revoked sessions stay revoked for as
 * long as any of their access tokens lives, tenants can only shorten the server's lifetimes, and idle_ttl
 * ends sessions that nobody used. The clock moves the app's token checks and the memory store's TTLs; on
 * Redis, whose TTLs run on real time, the tests also assert the flags' TTLs, so they mean something on both.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertToken } from '../../src/modules/password-reset/repository.js';
import { randomToken, sha256Hex } from '../../src/platform/crypto/tokens.js';
import { keys } from '../../src/platform/store/keys.js';
import { createTestApp } from '../helpers/app.js';
import { MovableClock } from '../helpers/clock.js';
import { bearer, login, newTenant, newUser, PASSWORD, type Tokens } from '../helpers/factories.js';

const clock = new MovableClock();
let app: FastifyInstance;
beforeAll(async () => {
  app = await createTestApp({}, undefined, { clock });
});
afterAll(async () => {
  await app?.close();
});

const SERVER_ACCESS = 900; // ACCESS_TOKEN_LIFETIME of the test config

function claimsOf(token: string): { exp: number; iat: number; session_id: string } {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
}
const nowSeconds = () => Math.floor(clock.now() / 1000);
const get = (url: string, tokens: Tokens | string) =>
  app.inject({ method: 'GET', url, headers: bearer(tokens) });
const refresh = (tokens: Tokens) =>
  app.inject({
    method: 'POST',
    url: '/api/v1/auth/refresh',
    payload: { refresh_token: tokens.refresh_token },
  });

async function sessionRow(tenantId: number, sessionId: string) {
  const rows = await app.ctx.database.query<{
    revoked_at: Date | null;
    revoked_reason: string | null;
    last_seen_at: Date;
  }>('select revoked_at, revoked_reason, last_seen_at from sessions where tenant_id = $1 and id = $2', [
    tenantId,
    sessionId,
  ]);
  return rows[0]!;
}

/**
 * The flag refusing a revoked session must live at least as long as the token it refuses. Checked on the
 * store itself (both backends), then by moving the clock: just before the token expires it is still refused,
 * and far past the old flag lifetime (3,700 s) it is never accepted again.
 */
async function expectRefusedUntilExpiry(token: string, urls: string[]) {
  const { exp, session_id } = claimsOf(token);
  const flagTtl = await app.ctx.store.ttl(keys.sessionRevoked(session_id));
  expect(flagTtl).toBeGreaterThanOrEqual(exp - nowSeconds());
  clock.advance(exp - nowSeconds() - 5);
  for (const url of urls) {
    const res = await get(url, token);
    expect(res.statusCode, `${url} just before expiry`).toBe(401);
    expect(['SESSION_REVOKED', 'TOKEN_REVOKED']).toContain(res.json().error);
  }
  clock.advance(3_700);
  for (const url of urls) expect((await get(url, token)).statusCode, `${url} 3,700 s later`).toBe(401);
}

describe('finding 1: a revoked session never comes back while its tokens are unexpired', () => {
  it('finding 1: PATCH /tenants/current refuses session lifetimes above the server limits (422 naming the field)', async () => {
    const { tenant, admin } = await newTenant(app);
    const t = await login(app, tenant.id, admin.email);
    const patch = (session: Record<string, number | null>) =>
      app.inject({
        method: 'PATCH',
        url: '/api/v1/tenants/current',
        headers: bearer(t),
        payload: { settings: { session } },
      });
    const cfg = app.ctx.config;
    for (const [field, value] of [
      ['access_ttl', 86_400],
      ['access_ttl', cfg.accessTokenLifetime + 1],
      ['refresh_ttl', cfg.refreshTokenLifetime + 1],
      ['absolute_ttl', cfg.sessionAbsoluteLifetime + 1],
      ['idle_ttl', cfg.sessionAbsoluteLifetime + 1],
    ] as const) {
      const res = await patch({ [field]: value });
      expect(res.statusCode, `${field}=${value}`).toBe(422);
      expect(res.json()).toMatchObject({
        error: 'VALIDATION_ERROR',
        details: { errors: [{ field: `body.settings.session.${field}`, type: 'maximum' }] },
      });
    }
    // Lowering is what tenants may do.
    const ok = await patch({ access_ttl: 600, idle_ttl: 1800 });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().settings.session).toMatchObject({ access_ttl: 600, idle_ttl: 1800 });
    const after = await login(app, tenant.id, admin.email);
    expect(claimsOf(after.access_token).exp - claimsOf(after.access_token).iat).toBe(600);
  });

  it('finding 1: a stored access_ttl above the server limit (older rows) is clamped when used', async () => {
    const { tenant, admin } = await newTenant(app, {
      settings: { session: { access_ttl: 86_400, refresh_ttl: 10 * 365 * 86_400, idle_ttl: 'x' } },
    });
    const t = await login(app, tenant.id, admin.email);
    const { exp, iat } = claimsOf(t.access_token);
    expect(exp - iat).toBe(SERVER_ACCESS);
    expect((t as unknown as { expires_in: number }).expires_in).toBe(SERVER_ACCESS);
    const current = await get('/api/v1/tenants/current', t);
    expect(current.json().settings.session).toMatchObject({
      access_ttl: SERVER_ACCESS,
      refresh_ttl: app.ctx.config.refreshTokenLifetime,
      idle_ttl: null,
    });
    const refreshed = await refresh(t);
    expect(refreshed.statusCode).toBe(200);
    const r = claimsOf(refreshed.json().access_token);
    expect(r.exp - r.iat).toBe(SERVER_ACCESS);
  });

  it('finding 1: repro — access_ttl raised, password changed elsewhere, clock +3,700 s: /auth/me and /users stay 401', async () => {
    // The raised access_ttl of the report, as an older row may still hold it (PATCH now refuses it).
    const { tenant, admin } = await newTenant(app, { settings: { session: { access_ttl: 86_400 } } });
    const kept = await login(app, tenant.id, admin.email);
    const other = await login(app, tenant.id, admin.email);
    expect((await get('/api/v1/users', kept)).statusCode).toBe(200);
    const changed = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/change-password',
      headers: bearer(other),
      payload: { current_password: PASSWORD, new_password: 'Another-Strong-Pass-91' },
    });
    expect(changed.statusCode).toBe(200);
    const me = await get('/api/v1/auth/me', kept);
    expect(me.statusCode).toBe(401);
    expect(me.json().error).toBe('SESSION_REVOKED');
    await expectRefusedUntilExpiry(kept.access_token, ['/api/v1/auth/me', '/api/v1/users']);
  });

  it('finding 1: logout, password reset, admin termination and deactivation refuse the token until it expires', async () => {
    const { tenant, admin } = await newTenant(app, { settings: { session: { access_ttl: 86_400 } } });
    const paths: Record<string, (user: { id: number; email: string }, t: Tokens) => Promise<number>> = {
      logout: async (_u, t) =>
        (await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(t) })).statusCode,
      reset: async (u) => {
        const raw = `${tenant.id}.${randomToken(32)}`;
        await app.ctx.database.withTenant(tenant.id, (tx) =>
          insertToken(tx, tenant.id, {
            userId: u.id,
            tokenHash: sha256Hex(raw),
            expiresAt: new Date(Date.now() + 3_600_000),
          }),
        );
        const res = await app.inject({
          method: 'POST',
          url: '/api/v1/password-reset/confirm',
          payload: { token: raw, new_password: 'Reset-Strong-Pass-73' },
        });
        return res.statusCode;
      },
      terminate: async (u) => {
        const a = await login(app, tenant.id, admin.email);
        const res = await app.inject({
          method: 'DELETE',
          url: `/api/v1/users/${u.id}/sessions`,
          headers: bearer(a),
        });
        return res.statusCode;
      },
      deactivate: async (u) => {
        const a = await login(app, tenant.id, admin.email);
        const res = await app.inject({
          method: 'POST',
          url: `/api/v1/users/${u.id}/deactivate`,
          headers: bearer(a),
        });
        return res.statusCode;
      },
    };
    for (const [name, revoke] of Object.entries(paths)) {
      const user = await newUser(app, tenant.id, { roles: ['member'] });
      const t = await login(app, tenant.id, user.email);
      expect((await get('/api/v1/auth/me', t)).statusCode, name).toBe(200);
      expect(await revoke(user, t), name).toBe(200);
      expect((await get('/api/v1/auth/me', t)).statusCode, name).toBe(401);
      await expectRefusedUntilExpiry(t.access_token, ['/api/v1/auth/me', '/api/v1/users/me']);
    }
  });
});

describe('finding 1: the session row backs the store', () => {
  it('finding 1: a revoked session stays refused when the store lost its flags', async () => {
    const { tenant, admin } = await newTenant(app);
    const t = await login(app, tenant.id, admin.email);
    const sid = claimsOf(t.access_token).session_id;
    expect(
      (await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(t) })).statusCode,
    ).toBe(200);
    // A flushed Redis: neither the revocation flag nor the activity record survives.
    await app.ctx.store.del(keys.sessionRevoked(sid), keys.sessionLastSeen(sid));
    const res = await get('/api/v1/auth/me', t);
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('SESSION_REVOKED');
  });
});

describe('finding 7: idle_ttl ends sessions nobody used', () => {
  const IDLE = 600;

  it('finding 7: an idle session cannot refresh (401 SESSION_EXPIRED), is ended in the database and audited', async () => {
    const { tenant, admin } = await newTenant(app, { settings: { session: { idle_ttl: IDLE } } });
    const t = await login(app, tenant.id, admin.email);
    const sid = claimsOf(t.access_token).session_id;
    clock.advance(IDLE + 1);
    const res = await refresh(t);
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('SESSION_EXPIRED');
    const row = await sessionRow(tenant.id, sid);
    expect(row.revoked_at).not.toBeNull();
    expect(row.revoked_reason).toBe('idle_timeout');
    const audit = await app.ctx.database.query<{ actor_type: string; metadata: Record<string, unknown> }>(
      `select actor_type, metadata from audit_log where tenant_id = $1 and event_type = 'session.expired' and resource_id = $2`,
      [tenant.id, sid],
    );
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actor_type: 'system',
      metadata: { reason: 'idle_timeout', idle_ttl: IDLE },
    });
    // Its access token (still unexpired: 900 s) stops too.
    const me = await get('/api/v1/auth/me', t);
    expect(me.statusCode).toBe(401);
    expect(me.json().error).toBe('SESSION_EXPIRED');
  });

  it('finding 7: an idle session’s unexpired access token stops at once (401 SESSION_EXPIRED), once audited', async () => {
    const { tenant, admin } = await newTenant(app, { settings: { session: { idle_ttl: IDLE } } });
    const t = await login(app, tenant.id, admin.email);
    const sid = claimsOf(t.access_token).session_id;
    expect((await get('/api/v1/users', t)).statusCode).toBe(200);
    clock.advance(IDLE + 1);
    expect(claimsOf(t.access_token).exp).toBeGreaterThan(nowSeconds());
    for (const url of ['/api/v1/users', '/api/v1/auth/me']) {
      const res = await get(url, t);
      expect(res.statusCode, url).toBe(401);
      expect(res.json().error, url).toBe('SESSION_EXPIRED');
    }
    expect((await sessionRow(tenant.id, sid)).revoked_reason).toBe('idle_timeout');
    const audit = await app.ctx.database.query(
      `select 1 from audit_log where tenant_id = $1 and event_type = 'session.expired' and resource_id = $2`,
      [tenant.id, sid],
    );
    expect(audit).toHaveLength(1);
    const refreshed = await refresh(t);
    expect(refreshed.statusCode).toBe(401);
    expect(refreshed.json().error).toBe('SESSION_EXPIRED');
  });

  it('finding 7: requests and refreshes are activity — a used session outlives idle_ttl many times over', async () => {
    const { tenant, admin } = await newTenant(app, { settings: { session: { idle_ttl: IDLE } } });
    let t = await login(app, tenant.id, admin.email);
    for (let i = 0; i < 6; i++) {
      clock.advance(IDLE - 100);
      if (i % 2 === 0) expect((await get('/api/v1/users/me', t)).statusCode, `request ${i}`).toBe(200);
      else {
        const res = await refresh(t);
        expect(res.statusCode, `refresh ${i}`).toBe(200);
        t = res.json();
      }
    }
    // 3,000 s after login and still alive; now left alone past idle_ttl, it ends.
    clock.advance(IDLE + 1);
    expect((await get('/api/v1/users/me', t)).json().error).toBe('SESSION_EXPIRED');
  });

  it('finding 7: activity is written at most once a minute, and a tenant lowering idle_ttl ends idle sessions', async () => {
    const { tenant, admin } = await newTenant(app);
    const t = await login(app, tenant.id, admin.email);
    const sid = claimsOf(t.access_token).session_id;
    const seenKey = keys.sessionLastSeen(sid);
    const atLogin = await app.ctx.store.get(seenKey);
    expect(atLogin).not.toBeNull();
    clock.advance(30);
    expect((await get('/api/v1/users/me', t)).statusCode).toBe(200);
    expect(await app.ctx.store.get(seenKey)).toBe(atLogin); // within the interval: no write
    clock.advance(31);
    expect((await get('/api/v1/users/me', t)).statusCode).toBe(200);
    // `<epoch ms>@<store generation>` (issue 24 item 2): the time, and the copy of the store that saw it.
    const msOf = (raw: string | null) => Number(raw?.split('@')[0]);
    const stored = await app.ctx.store.get(seenKey);
    expect(stored?.split('@')[1]).toBe(app.ctx.store.generation());
    const written = msOf(stored);
    expect(written).toBeGreaterThan(msOf(atLogin));
    expect((await sessionRow(tenant.id, sid)).last_seen_at.getTime()).toBe(written);
    // No idle_ttl: idleness ends nothing. Setting one applies to sessions already open.
    clock.advance(400);
    const patched = await app.inject({
      method: 'PATCH',
      url: '/api/v1/tenants/current',
      headers: bearer(t),
      payload: { settings: { session: { idle_ttl: 300 } } },
    });
    expect(patched.statusCode).toBe(200);
    clock.advance(301);
    expect((await get('/api/v1/users/me', t)).json().error).toBe('SESSION_EXPIRED');
  });

  it('finding 7: when the store lost the activity record, the session row decides', async () => {
    const { tenant, admin } = await newTenant(app, { settings: { session: { idle_ttl: IDLE } } });
    const active = await login(app, tenant.id, admin.email);
    const idle = await login(app, tenant.id, admin.email);
    clock.advance(IDLE - 60);
    expect((await get('/api/v1/auth/me', active)).statusCode).toBe(200);
    for (const t of [active, idle])
      await app.ctx.store.del(keys.sessionLastSeen(claimsOf(t.access_token).session_id));
    clock.advance(120);
    expect((await get('/api/v1/auth/me', active)).statusCode).toBe(200);
    const res = await get('/api/v1/auth/me', idle);
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('SESSION_EXPIRED');
  });
});
