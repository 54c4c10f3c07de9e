/** MFA (API.md §5, §8): TOTP enrolment, the two-step login, recovery codes, enforced enrolment, GDPR hooks. */
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant, newUser, PASSWORD } from '../helpers/factories.js';
import { testErasure } from '../helpers/gdpr.js';
import { enrolTotp, safeTotpMoment, totpCode } from '../helpers/totp.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app?.close();
});

const post = (url: string, headers: Record<string, string>, payload?: unknown) =>
  app.inject({
    method: 'POST',
    url,
    headers,
    ...(payload !== undefined ? { payload: payload as object } : {}),
  });

describe('TOTP enrolment and two-step login', () => {
  it('setup -> enable -> logout -> login (mfa_required) -> login/mfa -> verify', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const tokens = await login(app, tenant.id, user.email);
    const h = bearer(tokens);

    const s1 = await post('/api/v1/mfa/setup', h);
    expect(s1.statusCode).toBe(200);
    const setup = s1.json();
    expect(setup.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(setup.provisioning_uri).toMatch(/^otpauth:\/\/totp\/MassaCorp:/);
    expect(setup.provisioning_uri).toContain('issuer=MassaCorp');
    expect(Buffer.from(setup.qr_code_base64, 'base64').subarray(1, 4).toString()).toBe('PNG');
    // Same secret until enabled.
    expect((await post('/api/v1/mfa/setup', h)).json().secret).toBe(setup.secret);
    expect((await app.inject({ method: 'GET', url: '/api/v1/mfa/status', headers: h })).json()).toMatchObject(
      { enabled: false, configured: true },
    );

    await safeTotpMoment();
    const en = await post('/api/v1/mfa/enable', h, { code: totpCode(setup.secret, -1) });
    expect(en.statusCode).toBe(200);
    expect(en.json()).toMatchObject({ success: true, enabled: true });
    const codes: string[] = en.json().recovery_codes;
    expect(codes).toHaveLength(10);
    for (const c of codes) expect(c).toMatch(/^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$/);
    expect(new Set(codes).size).toBe(10);
    expect((await post('/api/v1/mfa/setup', h)).statusCode).toBe(400);

    expect((await post('/api/v1/auth/logout', h)).statusCode).toBe(200);
    const step1 = await post(
      '/api/v1/auth/login',
      { 'x-tenant-id': String(tenant.id) },
      { email: user.email, password: PASSWORD },
    );
    expect(step1.statusCode).toBe(200);
    const lr = step1.json();
    expect(lr).toMatchObject({ success: true, mfa_required: true, access_token: null, refresh_token: null });
    expect(typeof lr.mfa_session_token).toBe('string');

    const step2 = await post(
      '/api/v1/auth/login/mfa',
      { 'x-tenant-id': String(tenant.id) },
      { mfa_session_token: lr.mfa_session_token, totp_code: totpCode(setup.secret, 0) },
    );
    expect(step2.statusCode).toBe(200);
    const full = step2.json();
    expect(full).toMatchObject({ token_type: 'bearer' });
    expect(step2.headers['cache-control']).toBe('no-store');
    // The step token is spent.
    const again = await post(
      '/api/v1/auth/login/mfa',
      { 'x-tenant-id': String(tenant.id) },
      { mfa_session_token: lr.mfa_session_token, recovery_code: codes[0] },
    );
    expect(again.statusCode).toBe(401);

    const v = await post('/api/v1/mfa/verify', bearer(full.access_token), {
      code: totpCode(setup.secret, 1),
    });
    expect(v.statusCode).toBe(200);
    expect(v.json()).toEqual({ success: true, message: 'Code TOTP valide', data: { valid: true } });
    const me = await app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: bearer(full.access_token),
    });
    expect(me.json()).toMatchObject({ mfa_enabled: true });
    const st = (
      await app.inject({ method: 'GET', url: '/api/v1/mfa/status', headers: bearer(full.access_token) })
    ).json();
    expect(st).toMatchObject({
      success: true,
      enabled: true,
      configured: true,
      recovery_codes_remaining: 10,
    });
    expect(st.last_used_at).not.toBeNull();
  });

  it('stores the secret sealed, never the base32 secret', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const h = bearer(await login(app, tenant.id, user.email));
    const { secret } = (await post('/api/v1/mfa/setup', h)).json();
    const rows = await app.ctx.database.withTenant(
      tenant.id,
      async (tx) =>
        (
          await tx.execute<{ secret_encrypted: string }>(
            sql`select secret_encrypted from mfa_totp where tenant_id = ${tenant.id} and user_id = ${user.id}`,
          )
        ).rows,
    );
    expect(rows).toHaveLength(1);
    const stored = rows[0]!.secret_encrypted;
    expect(stored).not.toContain(secret);
    expect(stored).toMatch(/^enc:v1:k1:/);
    const codes = await app.ctx.database.withTenant(
      tenant.id,
      async (tx) =>
        (
          await tx.execute(
            sql`select count(*)::int as n from mfa_recovery_codes where tenant_id = ${tenant.id}`,
          )
        ).rows,
    );
    expect(codes[0]).toEqual({ n: 0 });
  });

  it('one-step login with mfa_code, and a bad one is refused', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const { secret } = await enrolTotp(app, tenant.id, user.email);
    const bad = await post(
      '/api/v1/auth/login',
      { 'x-tenant-id': String(tenant.id) },
      {
        email: user.email,
        password: PASSWORD,
        mfa_code: '000000' === totpCode(secret) ? '111111' : '000000',
      },
    );
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('INVALID_TOTP_CODE');
    const ok = await post(
      '/api/v1/auth/login',
      { 'x-tenant-id': String(tenant.id) },
      { email: user.email, password: PASSWORD, mfa_code: totpCode(secret, 1) },
    );
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ success: true, mfa_required: false });
    expect(typeof ok.json().access_token).toBe('string');
  });
});

describe('recovery codes', () => {
  it('a recovery code works once, at login/mfa and at /mfa/recovery/verify', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const { codes } = await enrolTotp(app, tenant.id, user.email);
    const th = { 'x-tenant-id': String(tenant.id) };
    const step = async () =>
      (await post('/api/v1/auth/login', th, { email: user.email, password: PASSWORD })).json()
        .mfa_session_token as string;

    const first = await post('/api/v1/auth/login/mfa', th, {
      mfa_session_token: await step(),
      recovery_code: codes[0]!.toLowerCase(),
    });
    expect(first.statusCode).toBe(200);
    const h = bearer(first.json().access_token);
    const reuse = await post('/api/v1/auth/login/mfa', th, {
      mfa_session_token: await step(),
      recovery_code: codes[0],
    });
    // At the login step a used code is 401 MFA_INVALID (issue 10, answer 2), not 400.
    expect(reuse.statusCode).toBe(401);
    expect(reuse.json().error).toBe('MFA_INVALID');

    // Two racing uses of one code: exactly one wins.
    const race = await Promise.all(
      [1, 2].map(() => post('/api/v1/mfa/recovery/verify', h, { code: codes[1] })),
    );
    expect(race.map((r) => r.statusCode).sort()).toEqual([200, 400]);
    expect(race.find((r) => r.statusCode === 200)!.json()).toEqual({
      success: true,
      valid: true,
      recovery_codes_remaining: 8,
    });

    const audit = await app.ctx.database.withTenant(
      tenant.id,
      async (tx) =>
        (
          await tx.execute<{ n: number }>(
            sql`select count(*)::int as n from audit_log where tenant_id = ${tenant.id} and event_type = 'mfa.recovery_code_used'`,
          )
        ).rows,
    );
    expect(audit[0]!.n).toBe(2);
  });

  it('regenerate (with a TOTP code) replaces every code', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const { secret, codes, tokens } = await enrolTotp(app, tenant.id, user.email);
    const h = bearer(tokens);
    const r = await post('/api/v1/mfa/recovery/regenerate', h, { code: totpCode(secret, 1) });
    expect(r.statusCode).toBe(200);
    const fresh: string[] = r.json().recovery_codes;
    expect(fresh).toHaveLength(10);
    expect((await post('/api/v1/mfa/recovery/verify', h, { code: codes[2] })).statusCode).toBe(400);
    expect((await post('/api/v1/mfa/recovery/verify', h, { code: fresh[0] })).json()).toMatchObject({
      valid: true,
      recovery_codes_remaining: 9,
    });
    // /mfa/verify takes a recovery code too (6–9 characters), and spends it.
    const v = await post('/api/v1/mfa/verify', h, { code: fresh[1] });
    expect(v.json()).toMatchObject({ success: true, data: { valid: true } });
    expect((await post('/api/v1/mfa/verify', h, { code: fresh[1] })).json().error).toBe(
      'INVALID_RECOVERY_CODE',
    );
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/mfa/status', headers: h })).json()
        .recovery_codes_remaining,
    ).toBe(8);
  });
});

describe('disable', () => {
  it('needs a valid code, removes every factor, audits', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const { secret, tokens } = await enrolTotp(app, tenant.id, user.email);
    const h = bearer(tokens);
    expect((await post('/api/v1/mfa/disable', h, { code: 'abcdef' })).statusCode).toBe(422);
    // Observe the alert mail (the mailer is the audit module's; here we only watch what MFA sends it).
    const sent: { to: string; subject: string }[] = [];
    const original = app.ctx.mailer.send;
    app.ctx.mailer.send = async (m) => {
      sent.push(m);
    };
    const d = await post('/api/v1/mfa/disable', h, { code: totpCode(secret, 1) }).finally(() => {
      app.ctx.mailer.send = original;
    });
    expect(d.statusCode).toBe(200);
    expect(sent.filter((m) => m.to === user.email && /MFA/.test(m.subject))).toHaveLength(1);
    expect(d.json()).toMatchObject({ success: true, enabled: false });
    expect((await post('/api/v1/mfa/disable', h, { code: totpCode(secret, 1) })).statusCode).toBe(400);
    // Password alone signs in again.
    await login(app, tenant.id, user.email);
    const events = await app.ctx.database.withTenant(tenant.id, async (tx) =>
      (
        await tx.execute<{ event_type: string }>(
          sql`select event_type from audit_log where tenant_id = ${tenant.id} and event_type like 'mfa.%' order by seq`,
        )
      ).rows.map((r) => r.event_type),
    );
    expect(events).toEqual(['mfa.setup_started', 'mfa.enabled', 'mfa.disabled']);
  });

  it('bad input is a 4xx envelope, never a 500', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const h = bearer(await login(app, tenant.id, user.email));
    expect((await post('/api/v1/mfa/enable', h, { code: '123456' })).json().error).toBe('MFA_NOT_CONFIGURED');
    expect((await post('/api/v1/mfa/verify', h, { code: '123456' })).json().error).toBe('MFA_NOT_ENABLED');
    expect((await post('/api/v1/mfa/enable', h, { code: '123456', extra: 1 })).statusCode).toBe(422);
    expect((await post('/api/v1/mfa/enable', {}, { code: 'x' })).statusCode).toBe(401);
    const th = { 'x-tenant-id': String(tenant.id) };
    expect(
      (await post('/api/v1/auth/login/mfa', th, { mfa_session_token: 'nope', totp_code: '123456' }))
        .statusCode,
    ).toBe(401);
    expect((await post('/api/v1/auth/login/mfa', th, { mfa_session_token: 'nope' })).statusCode).toBe(422);
    expect(
      (await post('/api/v1/auth/login/mfa', {}, { mfa_session_token: 'nope', totp_code: '123456' })).json()
        .error,
    ).toBe('TENANT_REQUIRED');
  });
});

describe('enforced enrolment', () => {
  it('blocks non-auth/mfa routes with 403 MFA_REQUIRED until the user enrols, then refresh gives a full token', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    await app.ctx.database.withSystem((tx) =>
      tx.execute(
        sql`update tenants set settings = settings || '{"mfa_required": true}'::jsonb where id = ${tenant.id}`,
      ),
    );
    const tokens = await login(app, tenant.id, user.email);
    const h = bearer(tokens);
    const blocked = await app.inject({ method: 'GET', url: '/api/v1/sessions', headers: h });
    expect(blocked.statusCode).toBe(403);
    expect(blocked.json().error).toBe('MFA_REQUIRED');
    expect((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: h })).json()).toMatchObject({
      mfa_required: true,
      mfa_enabled: false,
    });

    const { secret } = (await post('/api/v1/mfa/setup', h)).json();
    const en = await post('/api/v1/mfa/enable', h, { code: totpCode(secret) });
    expect(en.statusCode).toBe(200);
    // The enrolment token stays limited; the client refreshes (docs/api-decisions.md, "MFA").
    expect((await app.inject({ method: 'GET', url: '/api/v1/sessions', headers: h })).statusCode).toBe(403);
    const r = await post('/api/v1/auth/refresh', {}, { refresh_token: tokens.refresh_token });
    expect(r.statusCode).toBe(200);
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/sessions', headers: bearer(r.json().access_token) }))
        .statusCode,
    ).toBe(200);
    // And the next sign-in asks for the second factor.
    const next = await post(
      '/api/v1/auth/login',
      { 'x-tenant-id': String(tenant.id) },
      { email: user.email, password: PASSWORD },
    );
    expect(next.json().mfa_required).toBe(true);
  });

  it('a role with mfa_required puts its holders in enrolment', async () => {
    const { tenant, admin } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const ah = bearer(await login(app, tenant.id, admin.email));
    const role = await post('/api/v1/roles', ah, {
      code: 'secure-ops',
      name: 'Secure ops',
      permissions: [],
      mfa_required: true,
    });
    expect(role.statusCode).toBe(201);
    expect(
      (await post(`/api/v1/users/${user.id}/roles`, ah, { role_id: role.json().id })).statusCode,
    ).toBeLessThan(300);
    const h = bearer(await login(app, tenant.id, user.email));
    expect((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: h })).json()).toMatchObject({
      mfa_required: true,
      mfa_enabled: false,
    });
    expect((await app.inject({ method: 'GET', url: '/api/v1/sessions', headers: h })).json().error).toBe(
      'MFA_REQUIRED',
    );
    expect((await post('/api/v1/mfa/setup', h)).statusCode).toBe(200);
  });
});

describe('GDPR hooks', () => {
  it('exports MFA state without secrets and erases the rows', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const { secret } = await enrolTotp(app, tenant.id, user.email);
    const exp = app.ctx.hooks.gdprExport.find((h) => h.name === 'mfa')!;
    const data = await app.ctx.database.withTenant(tenant.id, (tx) => exp.collect(tx, tenant.id, user.id));
    const text = JSON.stringify(data);
    expect(text).not.toContain(secret);
    expect(text).not.toContain('enc:v1');
    expect(text).not.toContain('$argon2');
    expect(data).toMatchObject({ totp: { enabled: true } });
    expect((data as { recovery_codes: unknown[] }).recovery_codes).toHaveLength(10);
    const erase = app.ctx.hooks.gdprErase.find((h) => h.name === 'mfa')!;
    await app.ctx.database.withTenant(tenant.id, (tx) =>
      erase.erase(tx, tenant.id, user.id, () => {}, testErasure(user.email)),
    );
    const st = await app.ctx.database.withTenant(tenant.id, (tx) =>
      app.ctx.mfa.status(tx, tenant.id, user.id),
    );
    expect(st.enabled).toBe(false);
  });
});
