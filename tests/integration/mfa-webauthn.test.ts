/**
 * WebAuthn as a second factor, with a software authenticator (P-256 key, `none` attestation): registration and
 * a login assertion pass; tampered ones (wrong origin, bad signature, replayed challenge) fail.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant, newUser, PASSWORD, type Tokens } from '../helpers/factories.js';
import { SoftAuthenticator } from '../helpers/webauthn.js';

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

const newKey = () => new SoftAuthenticator(app.ctx.config.webauthnRpId, app.ctx.config.webauthnOrigin);

async function register(
  tokens: Tokens,
  key: SoftAuthenticator,
  tamper?: (r: ReturnType<SoftAuthenticator['register']>) => void,
) {
  const opts = await post('/api/v1/mfa/webauthn/register/options', bearer(tokens));
  expect(opts.statusCode).toBe(200);
  expect(opts.json()).toMatchObject({
    rp: { id: app.ctx.config.webauthnRpId, name: 'MassaCorp' },
    attestation: 'none',
  });
  const response = key.register(opts.json().challenge);
  tamper?.(response);
  return post('/api/v1/mfa/webauthn/register/verify', bearer(tokens), { response, name: 'YubiKey' });
}

async function mfaStep(tenantId: number, email: string) {
  const r = await post(
    '/api/v1/auth/login',
    { 'x-tenant-id': String(tenantId) },
    { email, password: PASSWORD },
  );
  expect(r.json().mfa_required).toBe(true);
  return r.json().mfa_session_token as string;
}

async function loginChallenge(tenantId: number, step: string) {
  const r = await post(
    '/api/v1/auth/login/mfa/webauthn/options',
    { 'x-tenant-id': String(tenantId) },
    { mfa_session_token: step },
  );
  expect(r.statusCode).toBe(200);
  return r.json() as { challenge: string; allowCredentials: { id: string }[] };
}

describe('WebAuthn second factor', () => {
  it('registers a key, lists it, signs in with an assertion, deletes it', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const tokens = await login(app, tenant.id, user.email);
    const key = newKey();
    const reg = await register(tokens, key);
    expect(reg.statusCode).toBe(201);
    expect(reg.json()).toMatchObject({ name: 'YubiKey', credential_id: key.id, transports: ['usb'] });
    const list = (
      await app.inject({ method: 'GET', url: '/api/v1/mfa/webauthn/credentials', headers: bearer(tokens) })
    ).json();
    expect(list.total).toBe(1);

    const th = { 'x-tenant-id': String(tenant.id) };
    const step = await mfaStep(tenant.id, user.email);
    const ch = await loginChallenge(tenant.id, step);
    expect(ch.allowCredentials.map((c) => c.id)).toEqual([key.id]);
    const ok = await post('/api/v1/auth/login/mfa', th, {
      mfa_session_token: step,
      webauthn_response: key.assert(ch.challenge),
    });
    expect(ok.statusCode).toBe(200);
    expect(typeof ok.json().access_token).toBe('string');

    const del = await app.inject({
      method: 'DELETE',
      url: `/api/v1/mfa/webauthn/credentials/${reg.json().id}`,
      headers: bearer(ok.json().access_token),
    });
    expect(del.statusCode).toBe(200);
    // No second factor left: the password alone signs in.
    await login(app, tenant.id, user.email);
  });

  it('refuses a tampered registration (wrong origin, altered RP id hash)', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const tokens = await login(app, tenant.id, user.email);
    const key = newKey();
    const opts = (await post('/api/v1/mfa/webauthn/register/options', bearer(tokens))).json();
    const evil = key.register(opts.challenge, { origin: 'https://evil.example' });
    const r1 = await post('/api/v1/mfa/webauthn/register/verify', bearer(tokens), { response: evil });
    expect(r1.statusCode).toBe(400);
    expect(r1.json().error).toBe('WEBAUTHN_VERIFICATION_FAILED');
    // The challenge was consumed by that attempt: an honest response to it is refused too.
    expect(
      (
        await post('/api/v1/mfa/webauthn/register/verify', bearer(tokens), {
          response: key.register(opts.challenge),
        })
      ).statusCode,
    ).toBe(400);
    const r2 = await register(tokens, key, (r) => {
      // Flips a bit of the RP id hash inside authenticatorData: a credential for another site.
      const bytes = Buffer.from(r.response.attestationObject, 'base64url');
      const at = bytes.indexOf(createHash('sha256').update(app.ctx.config.webauthnRpId).digest());
      expect(at).toBeGreaterThan(0);
      bytes[at] = bytes[at]! ^ 0x01;
      r.response.attestationObject = bytes.toString('base64url');
    });
    expect(r2.statusCode).toBe(400);
    expect(
      (
        await app.inject({ method: 'GET', url: '/api/v1/mfa/webauthn/credentials', headers: bearer(tokens) })
      ).json().total,
    ).toBe(0);
  });

  it('refuses a tampered assertion, another key, and a replayed challenge', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const tokens = await login(app, tenant.id, user.email);
    const key = newKey();
    expect((await register(tokens, key)).statusCode).toBe(201);
    const th = { 'x-tenant-id': String(tenant.id) };
    const step = await mfaStep(tenant.id, user.email);

    let ch = await loginChallenge(tenant.id, step);
    const tampered = key.assert(ch.challenge);
    const sig = Buffer.from(tampered.response.signature, 'base64url');
    sig[sig.length - 1] = sig[sig.length - 1]! ^ 0x01;
    tampered.response.signature = sig.toString('base64url');
    const r1 = await post('/api/v1/auth/login/mfa', th, {
      mfa_session_token: step,
      webauthn_response: tampered,
    });
    expect(r1.statusCode).toBe(400);
    expect(r1.json().error).toBe('WEBAUTHN_VERIFICATION_FAILED');

    ch = await loginChallenge(tenant.id, step);
    const stranger = newKey();
    const r2 = await post('/api/v1/auth/login/mfa', th, {
      mfa_session_token: step,
      webauthn_response: stranger.assert(ch.challenge),
    });
    expect(r2.statusCode).toBe(400);

    ch = await loginChallenge(tenant.id, step);
    const good = key.assert(ch.challenge);
    expect(
      (await post('/api/v1/auth/login/mfa', th, { mfa_session_token: step, webauthn_response: good }))
        .statusCode,
    ).toBe(200);
    // The same signed assertion, with a fresh step token: its challenge is spent.
    const step2 = await mfaStep(tenant.id, user.email);
    await loginChallenge(tenant.id, step2);
    const replay = await post('/api/v1/auth/login/mfa', th, {
      mfa_session_token: step2,
      webauthn_response: good,
    });
    expect(replay.statusCode).toBe(400);
  });
});
