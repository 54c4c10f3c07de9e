import { hash as bcryptHash } from '@node-rs/bcrypt';
import type { FastifyInstance } from 'fastify';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userById as findUserById } from '../../src/modules/users/index.js';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant, newUser, PASSWORD, uniq } from '../helpers/factories.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app.close();
});

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, payload: payload as object, headers });

describe('POST /auth/login', () => {
  it('returns every LoginResponse key and working tokens', async () => {
    const { tenant, admin } = await newTenant(app);
    const res = await post(
      '/api/v1/auth/login',
      { email: admin.email, password: PASSWORD },
      { 'x-tenant-id': String(tenant.id) },
    );
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(
      [
        'access_token',
        'captcha_required',
        'captcha_site_key',
        'expires_in',
        'message',
        'mfa_required',
        'mfa_session_token',
        'refresh_token',
        'success',
        'token_type',
      ].sort(),
    );
    expect(body).toMatchObject({
      success: true,
      token_type: 'bearer',
      expires_in: 900,
      mfa_required: false,
      mfa_session_token: null,
      captcha_required: false,
    });
    const me = await app.inject({ url: '/api/v1/auth/me', headers: bearer(body) });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual({
      authenticated: true,
      user_id: admin.id,
      tenant_id: tenant.id,
      email: admin.email,
      mfa_required: false,
      mfa_enabled: false,
    });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('accepts the tenant slug and a mixed-case, padded email', async () => {
    const { tenant, admin } = await newTenant(app);
    const res = await post(
      '/api/v1/auth/login',
      { email: `  ${admin.email.toUpperCase()} `, password: PASSWORD },
      { 'x-tenant-id': tenant.slug },
    );
    expect(res.statusCode).toBe(200);
  });

  it('gives the same 401 for unknown email, wrong password, unknown tenant and inactive account', async () => {
    const { tenant, admin } = await newTenant(app);
    const inactive = await newUser(app, tenant.id, { isActive: false });
    const cases: [Record<string, string>, Record<string, string>][] = [
      [{ email: 'nobody@example.test', password: PASSWORD }, { 'x-tenant-id': String(tenant.id) }],
      [{ email: admin.email, password: 'Wrong-password-1!' }, { 'x-tenant-id': String(tenant.id) }],
      [{ email: admin.email, password: PASSWORD }, { 'x-tenant-id': '999999' }],
      [{ email: admin.email, password: PASSWORD }, { 'x-tenant-id': 'no-such-tenant' }],
      [{ email: inactive.email, password: PASSWORD }, { 'x-tenant-id': String(tenant.id) }],
    ];
    for (const [payload, headers] of cases) {
      const res = await post('/api/v1/auth/login', payload, headers);
      expect(res.statusCode, JSON.stringify(payload)).toBe(401);
      expect(res.json()).toMatchObject({
        error: 'INVALID_CREDENTIALS',
        message: 'Email ou mot de passe invalide',
      });
    }
  });

  it('requires a well-formed X-Tenant-ID', async () => {
    const body = { email: 'a@b.test', password: 'x' };
    const missing = await post('/api/v1/auth/login', body);
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error).toBe('TENANT_REQUIRED');
    const bad = await post('/api/v1/auth/login', body, { 'x-tenant-id': "1' OR 1=1 --" });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('INVALID_TENANT');
  });

  it('writes audit records for success and failure', async () => {
    const { tenant, admin } = await newTenant(app);
    await post(
      '/api/v1/auth/login',
      { email: admin.email, password: 'nope-Nope-1!' },
      { 'x-tenant-id': String(tenant.id) },
    );
    await login(app, tenant.id, admin.email);
    const rows = await app.ctx.database.query<{ event_type: string; success: boolean }>(
      'select event_type, success from audit_log where tenant_id = $1 order by seq',
      [tenant.id],
    );
    const events = rows.map((r) => `${r.event_type}:${r.success}`);
    expect(events).toContain('auth.login_failed:false');
    expect(events).toContain('auth.login_success:true');
  });

  it('verifies a legacy bcrypt hash and rehashes it to argon2id on login', async () => {
    const { tenant } = await newTenant(app);
    const legacy = await bcryptHash(PASSWORD, 10);
    const user = await newUser(app, tenant.id, { passwordHash: legacy });
    await login(app, tenant.id, user.email);
    const after = await app.ctx.database.withTenant(tenant.id, (tx) => findUserById(tx, tenant.id, user.id));
    expect(after!.passwordHash).toMatch(/^\$argon2id\$/);
    await login(app, tenant.id, user.email);
  });
});

describe('tokens', () => {
  it('refuses alg none, another key, a wrong type and a token for another tenant header', async () => {
    const { tenant, admin } = await newTenant(app);
    const tokens = await login(app, tenant.id, admin.email);
    const [h, p] = tokens.access_token.split('.');
    const noneHeader = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const none = await app.inject({ url: '/api/v1/auth/me', headers: bearer(`${noneHeader}.${p}.`) });
    expect(none.statusCode).toBe(401);
    expect(none.json().error).toBe('TOKEN_INVALID');
    const forged = await new SignJWT(JSON.parse(Buffer.from(p!, 'base64url').toString()))
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('another-secret-another-secret-another'));
    expect((await app.inject({ url: '/api/v1/auth/me', headers: bearer(forged) })).statusCode).toBe(401);
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), tenant_id: 1 })).toString('base64url')}.${tokens.access_token.split('.')[2]}`;
    expect((await app.inject({ url: '/api/v1/auth/me', headers: bearer(tampered) })).statusCode).toBe(401);
    const mismatch = await app.inject({
      url: '/api/v1/auth/me',
      headers: { ...bearer(tokens), 'x-tenant-id': String(tenant.id + 100000) },
    });
    expect(mismatch.statusCode).toBe(403);
    expect(mismatch.json().error).toBe('TENANT_MISMATCH');
    const other = await newTenant(app);
    const bySlug = await app.inject({
      url: '/api/v1/auth/me',
      headers: { ...bearer(tokens), 'x-tenant-id': other.tenant.slug },
    });
    expect(bySlug.statusCode).toBe(403);
    expect(bySlug.json().error).toBe('TENANT_MISMATCH');
    const ownSlug = await app.inject({
      url: '/api/v1/auth/me',
      headers: { ...bearer(tokens), 'x-tenant-id': tenant.slug },
    });
    expect(ownSlug.statusCode).toBe(200);
    const malformed = await app.inject({
      url: '/api/v1/auth/me',
      headers: { ...bearer(tokens), 'x-tenant-id': "1' OR '1" },
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error).toBe('INVALID_TENANT');
  });

  it('answers TOKEN_EXPIRED for an expired access token', async () => {
    const { tenant, admin } = await newTenant(app);
    const token = await new SignJWT({
      type: 'access',
      tenant_id: tenant.id,
      session_id: crypto.randomUUID(),
      email: admin.email,
    })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(admin.id))
      .setIssuer(app.ctx.config.jwtIssuer)
      .setAudience(app.ctx.config.jwtAudience)
      .setJti(crypto.randomUUID())
      .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(app.ctx.config.jwtSecret));
    const res = await app.inject({ url: '/api/v1/auth/me', headers: bearer(token) });
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('TOKEN_EXPIRED');
  });

  it('is 401 without a token, even with a bad body (auth before validation)', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/change-password',
      payload: { nonsense: true },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('UNAUTHORIZED');
  });
});

describe('POST /auth/refresh', () => {
  it('rotates: the new pair works, the old refresh token is a replay that revokes the session', async () => {
    const { tenant, admin } = await newTenant(app);
    const first = await login(app, tenant.id, admin.email);
    const r1 = await post('/api/v1/auth/refresh', { refresh_token: first.refresh_token });
    expect(r1.statusCode).toBe(200);
    const second = r1.json();
    expect(Object.keys(second).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'token_type']);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect((await app.inject({ url: '/api/v1/auth/me', headers: bearer(second) })).statusCode).toBe(200);

    const replay = await post('/api/v1/auth/refresh', { refresh_token: first.refresh_token });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error).toBe('TOKEN_REPLAY');
    // The whole session is gone: both access tokens and the newest refresh token.
    const me = await app.inject({ url: '/api/v1/auth/me', headers: bearer(second) });
    expect(me.statusCode).toBe(401);
    expect(me.json().error).toBe('SESSION_REVOKED');
    expect((await post('/api/v1/auth/refresh', { refresh_token: second.refresh_token })).statusCode).toBe(
      401,
    );
    const audit = await app.ctx.database.query<{ n: number }>(
      "select count(*)::int as n from audit_log where tenant_id = $1 and event_type = 'auth.token_replay'",
      [tenant.id],
    );
    expect(audit[0]!.n).toBe(1);
  });

  it('ends at the absolute session expiry whatever the refreshes', async () => {
    const { tenant, admin } = await newTenant(app);
    const t = await login(app, tenant.id, admin.email);
    const session = await app.ctx.database.query<{ id: string; ttl: number }>(
      'select id, extract(epoch from expires_at - created_at)::int as ttl from sessions where tenant_id = $1',
      [tenant.id],
    );
    expect(session[0]!.ttl).toBe(30 * 24 * 3600);
    await app.ctx.database.query(
      "update sessions set expires_at = now() - interval '1 second' where id = $1",
      [session[0]!.id],
    );
    const res = await post('/api/v1/auth/refresh', { refresh_token: t.refresh_token });
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('SESSION_EXPIRED');
  });

  it('refuses garbage and forged tokens with TOKEN_INVALID', async () => {
    for (const t of ['x', '1.2.3', `1.${crypto.randomUUID()}.${'A'.repeat(43)}`, "' OR 1=1 --"]) {
      const res = await post('/api/v1/auth/refresh', { refresh_token: t });
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toBe('TOKEN_INVALID');
    }
  });
});

describe('POST /auth/logout', () => {
  it('revokes the current session: the same token is 401 on the next call', async () => {
    const { tenant, admin } = await newTenant(app);
    const t = await login(app, tenant.id, admin.email);
    const out = await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(t) });
    expect(out.statusCode).toBe(200);
    expect(out.json()).toMatchObject({ success: true, data: { sessions_ended: 1 } });
    const me = await app.inject({ url: '/api/v1/auth/me', headers: bearer(t) });
    expect(me.statusCode).toBe(401);
    expect(me.json().error).toBe('SESSION_REVOKED');
    expect((await post('/api/v1/auth/refresh', { refresh_token: t.refresh_token })).statusCode).toBe(401);
  });

  it('with all_sessions ends every session of the user', async () => {
    const { tenant, admin } = await newTenant(app);
    const a = await login(app, tenant.id, admin.email);
    const b = await login(app, tenant.id, admin.email);
    const out = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: bearer(a),
      payload: { all_sessions: true },
    });
    expect(out.json().data.sessions_ended).toBe(2);
    expect((await app.inject({ url: '/api/v1/auth/me', headers: bearer(b) })).statusCode).toBe(401);
  });
});

describe('POST /auth/change-password', () => {
  it('changes the password and ends every other session, keeping the caller', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const a = await login(app, tenant.id, user.email);
    const b = await login(app, tenant.id, user.email);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/change-password',
      headers: bearer(a),
      payload: { current_password: PASSWORD, new_password: 'Brand-New-Secret-77' },
    });
    expect(res.statusCode).toBe(200);
    expect((await app.inject({ url: '/api/v1/auth/me', headers: bearer(a) })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/v1/auth/me', headers: bearer(b) })).statusCode).toBe(401);
    await expect(login(app, tenant.id, user.email)).rejects.toThrow(/401/);
    await login(app, tenant.id, user.email, 'Brand-New-Secret-77');
  });

  it('refuses a weak password with 422 PASSWORD_TOO_WEAK and reasons, and a wrong current one with 400', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const t = await login(app, tenant.id, user.email);
    for (const [pw, reason] of [
      ['alllowercase-123', 'missing_uppercase'],
      ['P@ssw0rd2024!', 'too_common'],
      ['Abc1!', 'too_short'],
    ] as const) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/change-password',
        headers: bearer(t),
        payload: { current_password: PASSWORD, new_password: pw },
      });
      expect(res.statusCode, pw).toBe(422);
      expect(res.json().error).toBe('PASSWORD_TOO_WEAK');
      expect(res.json().details.reasons).toContain(reason);
    }
    const local = user.email.split('@')[0]!;
    const withEmail = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/change-password',
      headers: bearer(t),
      payload: { current_password: PASSWORD, new_password: `X1!${local}Yz` },
    });
    expect(withEmail.json().details.reasons).toContain('contains_email');
    const wrong = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/change-password',
      headers: bearer(t),
      payload: { current_password: 'Not-The-One-1', new_password: 'Brand-New-Secret-77' },
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error).toBe('INVALID_CURRENT_PASSWORD');
  });
});

describe('POST /auth/verify-token', () => {
  it('confirms a valid token in the success envelope', async () => {
    const { tenant, admin } = await newTenant(app);
    const t = await login(app, tenant.id, admin.email);
    const res = await app.inject({ method: 'POST', url: '/api/v1/auth/verify-token', headers: bearer(t) });
    expect(res.json()).toEqual({
      success: true,
      message: 'Token valide',
      data: { user_id: admin.id, valid: true },
    });
    expect((await app.inject({ method: 'POST', url: '/api/v1/auth/verify-token' })).statusCode).toBe(401);
  });
});

describe('POST /auth/register', () => {
  const body = (email: string) => ({
    email,
    password: 'Long-Enough-Pass-9',
    first_name: 'Jean',
    last_name: 'Dupont',
  });

  it('is 403 unless the tenant allows self-registration', async () => {
    const { tenant } = await newTenant(app);
    const res = await post('/api/v1/auth/register', body(`${uniq('r')}@example.test`), {
      'x-tenant-id': String(tenant.id),
    });
    expect(res.statusCode).toBe(403);
  });

  it('creates an unverified user when allowed; duplicate 409; weak 422; short names 422', async () => {
    const { tenant } = await newTenant(app, { settings: { self_registration: true } });
    const email = `${uniq('r')}@example.test`;
    const res = await post('/api/v1/auth/register', body(email), { 'x-tenant-id': String(tenant.id) });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      email,
      tenant_id: tenant.id,
      is_verified: false,
      is_active: true,
      full_name: 'Jean Dupont',
    });
    expect(res.json()).not.toHaveProperty('password_hash');
    const dup = await post('/api/v1/auth/register', body(email), { 'x-tenant-id': String(tenant.id) });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error).toBe('EMAIL_ALREADY_EXISTS');
    const weak = await post(
      '/api/v1/auth/register',
      { ...body(`${uniq('r')}@example.test`), password: 'passwordpassword' },
      { 'x-tenant-id': String(tenant.id) },
    );
    expect(weak.statusCode).toBe(422);
    expect(weak.json().error).toBe('PASSWORD_TOO_WEAK');
    const shortName = await post(
      '/api/v1/auth/register',
      { ...body(`${uniq('r')}@example.test`), first_name: 'J' },
      { 'x-tenant-id': String(tenant.id) },
    );
    expect(shortName.statusCode).toBe(422);
    expect(shortName.json().details.errors[0].field).toBe('body.first_name');
    await login(app, tenant.id, email, 'Long-Enough-Pass-9');
  });
});

describe('issue 11: success texts come from the message catalogue, in French and English', () => {
  it('login, verify-token and logout answer in the Accept-Language of the caller (French by default)', async () => {
    const { tenant, admin } = await newTenant(app);
    const th = { 'x-tenant-id': String(tenant.id) };
    const creds = { email: admin.email, password: PASSWORD };
    const fr = (await post('/api/v1/auth/login', creds, th)).json();
    expect(fr.message).toBe('Connexion réussie');
    const en = (
      await post('/api/v1/auth/login', creds, { ...th, 'accept-language': 'en-GB,en;q=0.8' })
    ).json();
    expect(en.message).toBe('Signed in');
    const verify = (headers: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/auth/verify-token',
        headers: { ...bearer(en.access_token), ...headers },
      });
    expect((await verify({ 'accept-language': 'en' })).json().message).toBe('Valid token');
    expect((await verify({})).json().message).toBe('Token valide');
    const out = await post(
      '/api/v1/auth/logout',
      {},
      { ...bearer(en.access_token), 'accept-language': 'en' },
    );
    expect(out.json()).toMatchObject({ success: true, message: 'Signed out' });
  });
});
