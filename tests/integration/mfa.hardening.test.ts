/**
 * Issue 10, finding 3 (step-up for factor changes, the last factor while MFA is required) and the two answers
 * that differ from the existing API (/mfa/enable keeps its step; /auth/login/mfa answers 401 MFA_INVALID).
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../src/platform/store/keys.js';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant, newUser, PASSWORD, type Tokens } from '../helpers/factories.js';
import { enrolTotp, safeTotpMoment, totpCode, wrongCode } from '../helpers/totp.js';
import { SoftAuthenticator } from '../helpers/webauthn.js';

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

type Auth = Tokens | string;
const post = (url: string, headers: Record<string, string>, payload?: unknown, a = app) =>
  a.inject({
    method: 'POST',
    url,
    headers,
    ...(payload !== undefined ? { payload: payload as object } : {}),
  });
const del = (t: Auth, id: string) =>
  app.inject({ method: 'DELETE', url: `/api/v1/mfa/webauthn/credentials/${id}`, headers: bearer(t) });
const keyCount = async (t: Auth) =>
  (await app.inject({ method: 'GET', url: '/api/v1/mfa/webauthn/credentials', headers: bearer(t) })).json()
    .total as number;
const newKey = () => new SoftAuthenticator(app.ctx.config.webauthnRpId, app.ctx.config.webauthnOrigin);
const sessionOf = (t: Tokens) =>
  JSON.parse(Buffer.from(t.access_token.split('.')[1]!, 'base64url').toString()).session_id as string;

async function register(t: Auth, key: SoftAuthenticator) {
  const opts = await post('/api/v1/mfa/webauthn/register/options', bearer(t));
  if (opts.statusCode !== 200) return opts;
  return post('/api/v1/mfa/webauthn/register/verify', bearer(t), {
    response: key.register(opts.json().challenge),
    name: 'Key',
  });
}

/** Password, then the security key at /auth/login/mfa: a fresh session that proved the key. */
async function signInWithKey(tenantId: number, email: string, key: SoftAuthenticator): Promise<Tokens> {
  const th = { 'x-tenant-id': String(tenantId) };
  const step = (await post('/api/v1/auth/login', th, { email, password: PASSWORD })).json().mfa_session_token;
  expect(typeof step).toBe('string');
  const ch = (await post('/api/v1/auth/login/mfa/webauthn/options', th, { mfa_session_token: step })).json();
  const r = await post('/api/v1/auth/login/mfa', th, {
    mfa_session_token: step,
    webauthn_response: key.assert(ch.challenge),
  });
  expect(r.statusCode).toBe(200);
  return r.json();
}

/** Step-up with a security key in a signed-in session (/mfa/webauthn/verify). */
async function proveKey(t: Auth, key: SoftAuthenticator) {
  const opts = await post('/api/v1/mfa/webauthn/verify/options', bearer(t));
  expect(opts.statusCode).toBe(200);
  return post('/api/v1/mfa/webauthn/verify', bearer(t), { response: key.assert(opts.json().challenge) });
}

const expectStepUp = (r: { statusCode: number; json: () => { request_id?: unknown } }, methods: string[]) => {
  expect(r.statusCode).toBe(403);
  expect(r.json()).toMatchObject({
    error: 'STEP_UP_REQUIRED',
    details: { max_age_seconds: 300, methods },
  });
  expect(typeof r.json().request_id).toBe('string');
};

describe('finding 3: factor changes need a second factor proven by this session in the last 5 minutes', () => {
  it('finding 3: a bare access token cannot remove the only security key; password login still asks for MFA', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const tokens = await login(app, tenant.id, user.email);
    const key = newKey();
    // First enrolment: no factor yet, so nothing to prove with and no step-up.
    const reg = await register(tokens, key);
    expect(reg.statusCode).toBe(201);

    expectStepUp(await del(tokens, reg.json().id), ['webauthn']);
    expect(await keyCount(tokens)).toBe(1);
    const again = await post(
      '/api/v1/auth/login',
      { 'x-tenant-id': String(tenant.id) },
      { email: user.email, password: PASSWORD },
    );
    expect(again.json()).toMatchObject({ mfa_required: true, access_token: null });

    // A user with keys only proves one in the signed-in session, then may remove it (MFA is not required).
    const bad = await post('/api/v1/mfa/webauthn/verify', bearer(tokens), {
      response: newKey().assert('c3RyYW5nZXI'),
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('WEBAUTHN_VERIFICATION_FAILED');
    expectStepUp(await del(tokens, reg.json().id), ['webauthn']);
    const proof = await proveKey(tokens, key);
    expect(proof.statusCode).toBe(200);
    expect(proof.json()).toEqual({
      success: true,
      message: 'Clé de sécurité vérifiée',
      data: { valid: true },
    });
    expect((await del(tokens, reg.json().id)).statusCode).toBe(200);
    await login(app, tenant.id, user.email);
  });

  it('finding 3: adding a key needs step-up once a factor exists; a WebAuthn sign-in proves it for its own session only', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const first = await login(app, tenant.id, user.email);
    const key1 = newKey();
    expect((await register(first, key1)).statusCode).toBe(201);

    const key2 = newKey();
    expectStepUp(await post('/api/v1/mfa/webauthn/register/options', bearer(first)), ['webauthn']);
    // Checked at verify too (it is the state change), before the challenge is looked at.
    expectStepUp(
      await post('/api/v1/mfa/webauthn/register/verify', bearer(first), { response: key2.register('eA') }),
      ['webauthn'],
    );

    const signedIn = await signInWithKey(tenant.id, user.email, key1);
    expect((await register(signedIn, key2)).statusCode).toBe(201);
    // The proof belongs to the session that made it, and survives its refresh (same session).
    expectStepUp(await register(first, newKey()), ['webauthn']);
    const refreshed = await post('/api/v1/auth/refresh', {}, { refresh_token: signedIn.refresh_token });
    expect(refreshed.statusCode).toBe(200);
    expect((await register(refreshed.json().access_token, newKey())).statusCode).toBe(201);
    expect(await keyCount(first)).toBe(3);
  });

  it('finding 3: setup while MFA is on (a security key) needs step-up; with TOTP on it stays 400; the first enrolment needs none', async () => {
    const { tenant } = await newTenant(app);
    const plain = await newUser(app, tenant.id);
    // First enrolment with TOTP: setup and enable in a bare session.
    const { tokens } = await enrolTotp(app, tenant.id, plain.email);
    const s = await post('/api/v1/mfa/setup', bearer(tokens));
    expect(s.statusCode).toBe(400);
    expect(s.json().error).toBe('MFA_ALREADY_ENABLED');

    const keyUser = await newUser(app, tenant.id);
    const kt = await login(app, tenant.id, keyUser.email);
    const key = newKey();
    expect((await register(kt, key)).statusCode).toBe(201);
    expectStepUp(await post('/api/v1/mfa/setup', bearer(kt)), ['webauthn']);
    expect((await proveKey(kt, key)).statusCode).toBe(200);
    const setup = await post('/api/v1/mfa/setup', bearer(kt));
    expect(setup.statusCode).toBe(200);
    await safeTotpMoment();
    const en = await post('/api/v1/mfa/enable', bearer(kt), { code: totpCode(setup.json().secret) });
    expect(en.statusCode).toBe(200);
  });

  it('finding 3: /mfa/verify and /mfa/recovery/verify prove a factor for 5 minutes, per session, on every replica', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const { secret, codes, tokens } = await enrolTotp(app, tenant.id, user.email);
    // Enabling is no proof: a session that only enrolled TOTP must step up to add a key.
    expectStepUp(await post('/api/v1/mfa/webauthn/register/options', bearer(tokens)), [
      'totp',
      'recovery_code',
    ]);
    expect((await post('/api/v1/mfa/verify', bearer(tokens), { code: totpCode(secret, 1) })).statusCode).toBe(
      200,
    );
    const key = keys.stepUp(tenant.id, user.id, sessionOf(tokens));
    const ttl = await app.ctx.store.ttl(key);
    expect(ttl).toBeGreaterThan(290);
    expect(ttl).toBeLessThanOrEqual(300);
    const onReplica = await post('/api/v1/mfa/webauthn/register/options', bearer(tokens), undefined, replica);
    expect(onReplica.statusCode).toBe(200);

    // It expires by itself (the window shortened to 1 s here instead of waiting 5 minutes).
    await app.ctx.store.expire(key, 1);
    await new Promise((r) => setTimeout(r, 1_300));
    expectStepUp(await post('/api/v1/mfa/webauthn/register/options', bearer(tokens)), [
      'totp',
      'recovery_code',
    ]);
    const rec = await post('/api/v1/mfa/recovery/verify', bearer(tokens), { code: codes[0] });
    expect(rec.statusCode).toBe(200);
    expect((await post('/api/v1/mfa/webauthn/register/options', bearer(tokens))).statusCode).toBe(200);
  });

  it('finding 3: regenerating recovery codes takes its own fresh TOTP code as the proof', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const { secret, tokens } = await enrolTotp(app, tenant.id, user.email);
    expectStepUp(await post('/api/v1/mfa/webauthn/register/options', bearer(tokens)), [
      'totp',
      'recovery_code',
    ]);
    const bad = await post('/api/v1/mfa/recovery/regenerate', bearer(tokens), { code: wrongCode(secret) });
    expect(bad.statusCode).toBe(400);
    const r = await post('/api/v1/mfa/recovery/regenerate', bearer(tokens), { code: totpCode(secret, 1) });
    expect(r.statusCode).toBe(200);
    expect(r.json().recovery_codes).toHaveLength(10);
    // That code counts as a proof for the next 5 minutes.
    expect((await post('/api/v1/mfa/webauthn/register/options', bearer(tokens))).statusCode).toBe(200);
  });
});

describe('finding 3: the last factor cannot be removed while MFA is required', () => {
  it('finding 3: tenant requires MFA: the only key and /mfa/disable are 409 LAST_MFA_FACTOR; with two factors one can go', async () => {
    const { tenant } = await newTenant(app, { settings: { mfa_required: true } });
    const user = await newUser(app, tenant.id);
    const enrolment = await login(app, tenant.id, user.email);
    const key1 = newKey();
    const reg1 = await register(enrolment, key1);
    expect(reg1.statusCode).toBe(201);
    const t = await signInWithKey(tenant.id, user.email, key1);

    const last = await del(t, reg1.json().id);
    expect(last.statusCode).toBe(409);
    expect(last.json().error).toBe('LAST_MFA_FACTOR');
    expect(await keyCount(t)).toBe(1);

    const key2 = newKey();
    const reg2 = await register(t, key2);
    expect(reg2.statusCode).toBe(201);
    expect((await del(t, reg1.json().id)).statusCode).toBe(200);
    expect((await del(t, reg2.json().id)).json().error).toBe('LAST_MFA_FACTOR');

    // TOTP next to the key: the key may go; then /mfa/disable would leave nothing and is refused.
    const setup = await post('/api/v1/mfa/setup', bearer(t));
    expect(setup.statusCode).toBe(200);
    const secret: string = setup.json().secret;
    await safeTotpMoment();
    expect((await post('/api/v1/mfa/enable', bearer(t), { code: totpCode(secret, -1) })).statusCode).toBe(
      200,
    );
    expect((await del(t, reg2.json().id)).statusCode).toBe(200);
    const off = await post('/api/v1/mfa/disable', bearer(t), { code: totpCode(secret, 0) });
    expect(off.statusCode).toBe(409);
    expect(off.json().error).toBe('LAST_MFA_FACTOR');
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/mfa/status', headers: bearer(t) })).json(),
    ).toMatchObject({ enabled: true, recovery_codes_remaining: 10 });
    const events = await app.ctx.database.withTenant(tenant.id, async (tx) =>
      (
        await tx.execute<{ event_type: string }>(
          sql`select event_type from audit_log where tenant_id = ${tenant.id} and event_type in ('mfa.webauthn_deleted', 'mfa.disabled') order by seq`,
        )
      ).rows.map((r) => r.event_type),
    );
    expect(events).toEqual(['mfa.webauthn_deleted', 'mfa.webauthn_deleted']);
  });

  it('finding 3: a role requiring MFA protects the last factor; racing deletions of every key leave one', async () => {
    const { tenant, admin } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const ah = bearer(await login(app, tenant.id, admin.email));
    const role = await post('/api/v1/roles', ah, {
      code: 'vault',
      name: 'Vault',
      permissions: [],
      mfa_required: true,
    });
    expect(role.statusCode).toBe(201);
    expect(
      (await post(`/api/v1/users/${user.id}/roles`, ah, { role_id: role.json().id })).statusCode,
    ).toBeLessThan(300);
    const key1 = newKey();
    const reg1 = await register(await login(app, tenant.id, user.email), key1);
    expect(reg1.statusCode).toBe(201);
    const t = await signInWithKey(tenant.id, user.email, key1);
    const ids: string[] = [reg1.json().id];
    for (let i = 0; i < 3; i++) {
      const r = await register(t, newKey());
      expect(r.statusCode).toBe(201);
      ids.push(r.json().id);
    }

    // Each deletion alone would leave a key; together they must not leave none (factor changes are serialised).
    // A transaction holds the key rows for a moment, so that every deletion is in flight at once when it ends.
    let held!: () => void;
    const locked = new Promise<void>((r) => {
      held = r;
    });
    const holder = app.ctx.database.withTenant(tenant.id, async (tx) => {
      await tx.execute(
        sql`select id from webauthn_credentials where tenant_id = ${tenant.id} and user_id = ${user.id} for update`,
      );
      held();
      await new Promise((r) => setTimeout(r, 500));
    });
    await locked;
    const race = await Promise.all(ids.map((id) => del(t, id)));
    await holder;
    expect(race.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 409]);
    expect(race.find((r) => r.statusCode === 409)!.json().error).toBe('LAST_MFA_FACTOR');
    expect(await keyCount(t)).toBe(1);
  });
});

describe('answer: enable does not consume its step', () => {
  it('answer: enable does not consume its step: enable with X, /mfa/verify X → 200, X again → 429 TOTP_REPLAY', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const tokens = await login(app, tenant.id, user.email);
    const { secret } = (await post('/api/v1/mfa/setup', bearer(tokens))).json();
    await safeTotpMoment();
    const x = totpCode(secret);
    expect((await post('/api/v1/mfa/enable', bearer(tokens), { code: x })).statusCode).toBe(200);
    const v = await post('/api/v1/mfa/verify', bearer(tokens), { code: x });
    expect(v.statusCode).toBe(200);
    expect(v.json()).toEqual({ success: true, message: 'Code TOTP valide', data: { valid: true } });
    for (const a of [app, replica]) {
      const r = await post('/api/v1/mfa/verify', bearer(tokens), { code: x }, a);
      expect(r.statusCode).toBe(429);
      expect(r.json().error).toBe('TOTP_REPLAY');
    }
  });
});

describe('answer: login/mfa 401 MFA_INVALID', () => {
  it('answer: login/mfa 401 MFA_INVALID for a wrong, replayed or used code (TOTP or recovery); only the lock is 429', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const { secret, codes, tokens } = await enrolTotp(app, tenant.id, user.email);
    const th = { 'x-tenant-id': String(tenant.id) };
    const stepToken = async () =>
      (await post('/api/v1/auth/login', th, { email: user.email, password: PASSWORD })).json()
        .mfa_session_token as string;
    const step = await stepToken();
    const loginMfa = (body: Record<string, string>, headers: Record<string, string> = {}) =>
      post('/api/v1/auth/login/mfa', { ...th, ...headers }, { mfa_session_token: step, ...body });
    const expectInvalid = (r: Awaited<ReturnType<typeof loginMfa>>, message: string) => {
      expect(r.statusCode).toBe(401);
      expect(r.json()).toMatchObject({ error: 'MFA_INVALID', message });
    };
    const fr = 'Code MFA invalide ou session expirée';

    expectInvalid(await loginMfa({ totp_code: wrongCode(secret) }), fr);
    expectInvalid(
      await loginMfa({ totp_code: wrongCode(secret) }, { 'accept-language': 'en' }),
      'Invalid MFA code or expired session',
    );
    // A code already accepted elsewhere (here /mfa/verify): replayed.
    const used = totpCode(secret, 1);
    expect((await post('/api/v1/mfa/verify', bearer(tokens), { code: used })).statusCode).toBe(200);
    expectInvalid(await loginMfa({ totp_code: used }), fr);
    expectInvalid(await loginMfa({ recovery_code: 'ABCD-EFGH' }), fr);
    // A recovery code works once; the second use is MFA_INVALID too.
    const ok = await post('/api/v1/auth/login/mfa', th, {
      mfa_session_token: await stepToken(),
      recovery_code: codes[0],
    });
    expect(ok.statusCode).toBe(200);
    expectInvalid(await loginMfa({ recovery_code: codes[0]! }), fr);

    // The success cleared the count (1 failure since): four more failures are still evaluated, the 5th locks.
    for (let i = 0; i < 4; i++) expectInvalid(await loginMfa({ totp_code: wrongCode(secret) }), fr);
    const locked = await loginMfa({ totp_code: totpCode(secret, 1) });
    expect(locked.statusCode).toBe(429);
    expect(locked.json().error).toBe('MFA_LOCKED');
  });
});
