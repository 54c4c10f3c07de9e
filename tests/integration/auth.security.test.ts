/** Security behaviours of sign-in: lockout and its races, refresh races, hostile input. */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { login, newTenant, newUser, PASSWORD } from '../helpers/factories.js';

let app: FastifyInstance;
beforeAll(async () => {
  // ENV=test turns lockout off (API.md §1); this file turns it back on to test it.
  app = await createTestApp({ LOCKOUT_ENABLED: 'true' });
});
afterAll(async () => {
  await app.close();
});

const attempt = (tenantId: number, email: string, password: string) =>
  app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    headers: { 'x-tenant-id': String(tenantId) },
    payload: { email, password },
  });

describe('account lockout', () => {
  it('locks on the 6th bad password in a row with 423 ACCOUNT_LOCKED and retry_after_seconds, even for the right password', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    for (let i = 1; i <= 5; i++) {
      const res = await attempt(tenant.id, user.email, `Wrong-${i}-password`);
      expect(res.statusCode, `attempt ${i}`).toBe(401);
    }
    const sixth = await attempt(tenant.id, user.email, 'Wrong-6-password');
    expect(sixth.statusCode).toBe(423);
    expect(sixth.json().error).toBe('ACCOUNT_LOCKED');
    expect(sixth.json().details.retry_after_seconds).toBeGreaterThan(1700);
    expect(Number(sixth.headers['retry-after'])).toBeGreaterThan(1700);
    expect((await attempt(tenant.id, user.email, PASSWORD)).statusCode).toBe(423);
    const events = await app.ctx.database.query<{ event_type: string }>(
      "select event_type from audit_log where tenant_id = $1 and event_type in ('auth.account_locked', 'auth.login_locked')",
      [tenant.id],
    );
    expect(events.map((e) => e.event_type).sort()).toEqual([
      'auth.account_locked',
      'auth.login_locked',
      'auth.login_locked',
    ]);
  });

  it('lets racing failures evaluate at most 5 passwords: 12 parallel bad attempts give 5 × 401 and 7 × 423', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => attempt(tenant.id, user.email, `Bad-${i}-pass`)),
    );
    const codes = results.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 401)).toHaveLength(5);
    expect(codes.filter((c) => c === 423)).toHaveLength(7);
    const failures = await app.ctx.database.query<{ n: number }>(
      "select count(*)::int as n from audit_log where tenant_id = $1 and event_type = 'auth.login_failed'",
      [tenant.id],
    );
    expect(failures[0]!.n).toBe(5);
  });

  it('a success resets the count; the lock is per (tenant, email)', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const other = await newUser(app, tenant.id);
    for (let i = 0; i < 4; i++)
      expect((await attempt(tenant.id, user.email, 'Wrong-pass-1')).statusCode).toBe(401);
    await login(app, tenant.id, user.email);
    for (let i = 0; i < 5; i++)
      expect((await attempt(tenant.id, user.email, 'Wrong-pass-1')).statusCode).toBe(401);
    expect((await attempt(tenant.id, user.email, PASSWORD)).statusCode).toBe(423);
    await login(app, tenant.id, other.email);
  });
});

describe('refresh races', () => {
  it('50 parallel refreshes of one token give exactly one success', async () => {
    const { tenant, admin } = await newTenant(app);
    const t = await login(app, tenant.id, admin.email);
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        app.inject({
          method: 'POST',
          url: '/api/v1/auth/refresh',
          payload: { refresh_token: t.refresh_token },
        }),
      ),
    );
    const ok = results.filter((r) => r.statusCode === 200);
    expect(ok).toHaveLength(1);
    for (const r of results.filter((r) => r.statusCode !== 200)) {
      expect(r.statusCode).toBe(401);
      expect(['TOKEN_REPLAY']).toContain(r.json().error);
    }
    const rows = await app.ctx.database.query<{ n: number }>(
      'select count(*)::int as n from refresh_tokens where tenant_id = $1',
      [tenant.id],
    );
    // The original plus exactly one rotation.
    expect(rows[0]!.n).toBe(2);
  });
});

describe('hostile input on login', () => {
  const headers = { 'x-tenant-id': '1', 'content-type': 'application/json' };
  const url = '/api/v1/auth/login';

  it('malformed JSON is a 4xx envelope', async () => {
    for (const payload of [
      '{"email":',
      '{email: "a"}',
      'null',
      '[]',
      '"str"',
      '{"email":"a@b.c","password":"x"}}',
    ]) {
      const res = await app.inject({ method: 'POST', url, headers, payload });
      expect(res.statusCode, payload).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, payload).toBeLessThan(500);
      expect(res.json()).toHaveProperty('error');
      expect(res.json()).toHaveProperty('request_id');
    }
  });

  it('a 2 MB body is 413 PAYLOAD_TOO_LARGE', async () => {
    const payload = JSON.stringify({ email: 'a@b.test', password: 'x'.repeat(2 * 1024 * 1024) });
    const res = await app.inject({ method: 'POST', url, headers, payload });
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toBe('PAYLOAD_TOO_LARGE');
  });

  it('unknown fields and wrong types are 422 naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ email: 'a@b.test', password: 'x', is_admin: true }, 'body.is_admin'],
      [{ email: 42, password: 'x' }, 'body.email'],
      [{ email: 'a@b.test', password: ['x'] }, 'body.password'],
      [{ email: 'a@b.test', password: 'x', mfa_code: 123456 }, 'body.mfa_code'],
      [{ email: 'not-an-email', password: 'x' }, 'body.email'],
      [{ email: 'a@b.test', password: 'x'.repeat(129) }, 'body.password'],
      [{ password: 'x' }, 'body.email'],
    ];
    for (const [payload, field] of cases) {
      const res = await app.inject({ method: 'POST', url, headers, payload: JSON.stringify(payload) });
      expect(res.statusCode, JSON.stringify(payload)).toBe(422);
      expect(res.json().error).toBe('VALIDATION_ERROR');
      expect(res.json().details.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
  });

  it('SQL injection strings in every field and header are refused or fail cleanly, never 500', async () => {
    const { tenant, admin } = await newTenant(app);
    const evil = [
      "' OR '1'='1",
      "admin'--",
      '"; DROP TABLE users; --',
      '1; SELECT pg_sleep(5)',
      "\\' OR 1=1 /*",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal log4shell-style probe, not a template
      '${jndi:x}',
      '\u0000',
    ];
    for (const s of evil) {
      const variants = [
        { headers: { 'x-tenant-id': String(tenant.id) }, payload: { email: s, password: 'x' } },
        { headers: { 'x-tenant-id': String(tenant.id) }, payload: { email: `${s}@x.test`, password: 'x' } },
        { headers: { 'x-tenant-id': String(tenant.id) }, payload: { email: admin.email, password: s } },
        {
          headers: { 'x-tenant-id': String(tenant.id) },
          payload: { email: admin.email, password: 'x', mfa_code: `${s}123456`.slice(0, 9) },
        },
        {
          headers: { 'x-tenant-id': String(tenant.id) },
          payload: { email: admin.email, password: 'x', captcha_token: s },
        },
        { headers: { 'x-tenant-id': s }, payload: { email: admin.email, password: PASSWORD } },
      ];
      for (const v of variants) {
        const res = await app.inject({ method: 'POST', url, headers: v.headers, payload: v.payload });
        expect(res.statusCode, `${JSON.stringify(v)}`).toBeGreaterThanOrEqual(400);
        expect(res.statusCode, `${JSON.stringify(v)}`).toBeLessThan(500);
      }
    }
    // Nothing was dropped: the tables still answer and another user of the tenant signs in.
    const other = await newUser(app, tenant.id);
    await login(app, tenant.id, other.email);
  });
});
