/**
 * Social login (API.md §9) against REAL OpenID providers: two `oidc-provider` instances on loopback ports, one
 * configured as the generic `oidc` provider and one as `google` (OAUTH_GOOGLE_ISSUER override), their dev
 * interactions driven over plain HTTP with a cookie jar (tests/helpers/oidc-provider.ts).
 * GitHub cannot run here: tests/helpers/github-fake.ts is the only fake, a loopback server speaking GitHub's
 * authorize, token, /user and /user/emails endpoints.
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../src/config.js';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant, newUser, type TestTenant, uniq } from '../helpers/factories.js';
import { driveGithub, type FakeGithub, startFakeGithub } from '../helpers/github-fake.js';
import { driveProvider, startProvider, type TestProvider } from '../helpers/oidc-provider.js';
import { enrolTotp } from '../helpers/totp.js';

const PUBLIC_URL = 'https://api.social.test';
const cbUrl = (p: string) => `${PUBLIC_URL}/api/v1/oauth/${p}/callback`;

let app: FastifyInstance;
/** A second replica over the same database and store, with OAUTH_AUTO_REGISTER on. */
let auto: FastifyInstance;
let oidc: TestProvider;
let google: TestProvider;
let github: FakeGithub;
let open: TestTenant; // self_registration on
let closed: TestTenant; // self_registration off (the default)

function account(p: TestProvider, email: string, verified = true): string {
  const id = uniq('acct');
  p.accounts.set(id, { email, email_verified: verified, given_name: 'Ida', family_name: 'Provider' });
  return id;
}

async function authorize(on: FastifyInstance, tenantId: number, provider: string) {
  const res = await on.inject({
    method: 'GET',
    url: `/api/v1/oauth/${provider}/authorize`,
    headers: { 'x-tenant-id': String(tenantId) },
  });
  if (res.statusCode !== 200) throw new Error(res.body);
  return res.json() as { auth_url: string; state: string };
}

/** authorize → provider login and consent → the callback URL the provider redirects to → our answer. */
async function signIn(tenantId: number, provider: 'oidc' | 'google', accountId: string, on = app) {
  const { auth_url } = await authorize(on, tenantId, provider);
  const cb = await driveProvider(auth_url, accountId, cbUrl(provider));
  return { cb, res: await on.inject({ method: 'GET', url: cb.pathname + cb.search }) };
}

async function githubSignIn(tenantId: number, login: string) {
  github.signInAs = login;
  const { auth_url } = await authorize(app, tenantId, 'github');
  const cb = await driveGithub(auth_url);
  return app.inject({ method: 'GET', url: cb.pathname + cb.search });
}

async function me(accessToken: string) {
  const res = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(accessToken) });
  expect(res.statusCode).toBe(200);
  return res.json();
}

async function auditCount(tenantId: number, eventType: string, where: { error?: string } = {}) {
  return app.ctx.database.withTenant(tenantId, async (tx) => {
    const r = await tx.execute<{ n: string }>(sql`select count(*)::text as n from audit_log
      where tenant_id = ${tenantId} and event_type = ${eventType}
        and (${where.error ?? null}::text is null or metadata->>'error' = ${where.error ?? null})`);
    return Number(r.rows[0]!.n);
  });
}

async function identities(tenantId: number, email: string) {
  return app.ctx.database.withTenant(tenantId, async (tx) => {
    const r = await tx.execute<{ provider: string; user_id: number }>(
      sql`select provider, user_id from external_identities where tenant_id = ${tenantId} and email = ${email}`,
    );
    return r.rows;
  });
}

beforeAll(async () => {
  const secret = 'provider-secret-123';
  oidc = await startProvider([{ client_id: 'mc-oidc', client_secret: secret, redirect_uri: cbUrl('oidc') }]);
  google = await startProvider([
    { client_id: 'mc-google', client_secret: secret, redirect_uri: cbUrl('google') },
  ]);
  github = await startFakeGithub();
  const env = {
    PUBLIC_URL,
    OAUTH_OIDC_ISSUER: oidc.issuer,
    OAUTH_OIDC_CLIENT_ID: 'mc-oidc',
    OAUTH_OIDC_CLIENT_SECRET: secret,
    OAUTH_OIDC_NAME: 'Corp ID',
    OAUTH_GOOGLE_ISSUER: google.issuer,
    OAUTH_GOOGLE_CLIENT_ID: 'mc-google',
    OAUTH_GOOGLE_CLIENT_SECRET: secret,
    OAUTH_GITHUB_CLIENT_ID: github.clientId,
    OAUTH_GITHUB_CLIENT_SECRET: github.clientSecret,
    OAUTH_GITHUB_AUTHORIZATION_URL: `${github.url}/login/oauth/authorize`,
    OAUTH_GITHUB_TOKEN_URL: `${github.url}/login/oauth/access_token`,
    OAUTH_GITHUB_API_URL: github.url,
  };
  app = await createTestApp(env);
  auto = await createTestApp({ ...env, OAUTH_AUTO_REGISTER: 'true', OAUTH_DEFAULT_ROLE: 'viewer' }, app);
  open = await newTenant(app, { settings: { self_registration: true } });
  closed = await newTenant(app);
});
afterAll(async () => {
  await auto?.close();
  await app?.close();
  await oidc?.close();
  await google?.close();
  await github?.close();
});

describe('issue 13 social: providers and authorize', () => {
  it('lists only the configured providers; authorize gives a PKCE S256 + state + nonce URL; bad input is 4xx', async () => {
    const list = await app.inject({ method: 'GET', url: '/api/v1/oauth/providers' });
    expect(list.statusCode).toBe(200);
    expect(list.json().providers).toEqual([
      { provider: 'google', name: 'Google', enabled: true },
      { provider: 'github', name: 'GitHub', enabled: true },
      { provider: 'oidc', name: 'Corp ID', enabled: true },
    ]);
    const { auth_url, state } = await authorize(app, open.tenant.id, 'oidc');
    const u = new URL(auth_url);
    expect(u.origin).toBe(oidc.issuer);
    expect(u.searchParams.get('code_challenge_method')).toBe('S256');
    expect(u.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(u.searchParams.get('nonce')).toBeTruthy();
    expect(u.searchParams.get('state')).toBe(state);
    expect(u.searchParams.get('redirect_uri')).toBe(cbUrl('oidc'));

    const ms = await app.inject({
      method: 'GET',
      url: '/api/v1/oauth/microsoft/authorize',
      headers: { 'x-tenant-id': String(open.tenant.id) },
    });
    expect([ms.statusCode, ms.json().error]).toEqual([404, 'OAUTH_PROVIDER_NOT_CONFIGURED']);
    const fb = await app.inject({
      method: 'GET',
      url: '/api/v1/oauth/facebook/authorize',
      headers: { 'x-tenant-id': String(open.tenant.id) },
    });
    expect(fb.statusCode).toBe(422);
    const noTenant = await app.inject({ method: 'GET', url: '/api/v1/oauth/oidc/authorize' });
    expect([noTenant.statusCode, noTenant.json().error]).toEqual([400, 'TENANT_REQUIRED']);
    const unknownTenant = await app.inject({
      method: 'GET',
      url: '/api/v1/oauth/oidc/authorize',
      headers: { 'x-tenant-id': '999999' },
    });
    expect(unknownTenant.statusCode).toBe(401);
  });
});

describe('issue 13 social: sign-in through a real OpenID provider', () => {
  it('authorize → provider login → callback → tokens → /auth/me; links a verified local account; replayed state refused and audited', async () => {
    const local = await newUser(app, open.tenant.id, { email: `${uniq('linked')}@corp.example` });
    const { cb, res } = await signIn(open.tenant.id, 'oidc', account(oidc, local.email));
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      success: true,
      token_type: 'bearer',
      requires_registration: false,
      oauth_session_token: null,
      provider: 'oidc',
      email: local.email,
      name: 'Ida Provider',
      mfa_required: false,
    });
    expect(res.headers['cache-control']).toBe('no-store');
    const who = await me(body.access_token);
    expect(who).toMatchObject({ user_id: local.id, tenant_id: open.tenant.id, email: local.email });
    expect(await identities(open.tenant.id, local.email)).toEqual([{ provider: 'oidc', user_id: local.id }]);
    expect(await auditCount(open.tenant.id, 'sso.identity_linked')).toBeGreaterThanOrEqual(1);

    // The same callback again: the state was single use.
    const replay = await app.inject({ method: 'GET', url: cb.pathname + cb.search });
    expect([replay.statusCode, replay.json().error]).toEqual([400, 'SSO_STATE_INVALID']);
    expect(await auditCount(open.tenant.id, 'sso.login_failed', { error: 'SSO_STATE_INVALID' })).toBe(1);
    // A state of another provider is refused too (and consumed).
    const { state } = await authorize(app, open.tenant.id, 'google');
    const cross = await app.inject({
      method: 'GET',
      url: `/api/v1/oauth/oidc/callback?code=x&state=${encodeURIComponent(state)}`,
    });
    expect([cross.statusCode, cross.json().error]).toEqual([400, 'SSO_STATE_INVALID']);

    // Next sign-in: found by (tenant, provider, issuer, subject), same user.
    const again = await signIn(
      open.tenant.id,
      'oidc',
      [...oidc.accounts].find(([, a]) => a.email === local.email)![0],
    );
    expect((await me(again.res.json().access_token)).user_id).toBe(local.id);
  });

  it('an unverified provider email does not link to an existing account; nor does a verified one to an unverified local account', async () => {
    const local = await newUser(app, open.tenant.id, { email: `${uniq('victim')}@corp.example` });
    const { res } = await signIn(open.tenant.id, 'oidc', account(oidc, local.email, false));
    expect([res.statusCode, res.json().error]).toEqual([403, 'SSO_LINK_REFUSED']);
    expect(res.body).not.toContain('access_token');
    expect(await identities(open.tenant.id, local.email)).toEqual([]);
    expect(
      await auditCount(open.tenant.id, 'sso.login_failed', { error: 'SSO_LINK_REFUSED' }),
    ).toBeGreaterThanOrEqual(1);

    const unverified = await newUser(app, open.tenant.id, { email: `${uniq('unv')}@corp.example` });
    await app.ctx.database.withTenant(open.tenant.id, (tx) =>
      tx.execute(sql`update users set is_verified = false where id = ${unverified.id}`),
    );
    const r2 = await signIn(open.tenant.id, 'google', account(google, unverified.email, true));
    expect([r2.res.statusCode, r2.res.json().error]).toEqual([403, 'SSO_LINK_REFUSED']);
  });

  it('a user with MFA gets the MFA step (provider not trusted for MFA), not tokens', async () => {
    const local = await newUser(app, open.tenant.id, { email: `${uniq('mfa')}@corp.example` });
    await enrolTotp(app, open.tenant.id, local.email);
    const { res } = await signIn(open.tenant.id, 'oidc', account(oidc, local.email));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      success: true,
      access_token: null,
      refresh_token: null,
      mfa_required: true,
      requires_registration: false,
    });
    expect(res.json().mfa_session_token).toBeTruthy();
  });
});

describe('issue 13 social: registration', () => {
  it('unknown person, self-registration on → requires_registration → complete-registration → tokens; token single use', async () => {
    const email = `${uniq('new')}@corp.example`;
    const { res } = await signIn(open.tenant.id, 'oidc', account(oidc, email));
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ success: true, requires_registration: true, access_token: null, email });
    expect(body.oauth_session_token).toBeTruthy();
    expect(await auditCount(open.tenant.id, 'oauth.registration_required')).toBeGreaterThanOrEqual(1);

    // The provider verified the address: another one is refused (and the token is still usable).
    const other = await app.inject({
      method: 'POST',
      url: '/api/v1/oauth/complete-registration',
      payload: { oauth_session_token: body.oauth_session_token, email: 'someone-else@corp.example' },
    });
    expect(other.statusCode).toBe(422);
    const done = await app.inject({
      method: 'POST',
      url: '/api/v1/oauth/complete-registration',
      payload: { oauth_session_token: body.oauth_session_token, first_name: 'Iris', last_name: 'Newcomer' },
    });
    expect(done.statusCode).toBe(200);
    expect(done.json()).toMatchObject({
      success: true,
      requires_registration: false,
      provider: 'oidc',
      email,
    });
    const who = await me(done.json().access_token);
    expect(who.email).toBe(email);
    const profile = await app.inject({
      method: 'GET',
      url: '/api/v1/users/me',
      headers: bearer(done.json().access_token),
    });
    expect(profile.json()).toMatchObject({ first_name: 'Iris', last_name: 'Newcomer', is_verified: true });

    const again = await app.inject({
      method: 'POST',
      url: '/api/v1/oauth/complete-registration',
      payload: { oauth_session_token: body.oauth_session_token },
    });
    expect([again.statusCode, again.json().error]).toEqual([400, 'OAUTH_SESSION_INVALID']);
    const bad = await app.inject({
      method: 'POST',
      url: '/api/v1/oauth/complete-registration',
      payload: { oauth_session_token: body.oauth_session_token, extra: 1 },
    });
    expect(bad.statusCode).toBe(422);
  });

  it('self-registration off → 403 SSO_USER_NOT_PROVISIONED, audited; OAUTH_AUTO_REGISTER creates at the callback with OAUTH_DEFAULT_ROLE', async () => {
    const { res } = await signIn(closed.tenant.id, 'oidc', account(oidc, `${uniq('no')}@corp.example`));
    expect([res.statusCode, res.json().error]).toEqual([403, 'SSO_USER_NOT_PROVISIONED']);
    expect(
      await auditCount(closed.tenant.id, 'sso.login_failed', { error: 'SSO_USER_NOT_PROVISIONED' }),
    ).toBe(1);

    const email = `${uniq('auto')}@corp.example`;
    const r = await signIn(open.tenant.id, 'google', account(google, email), auto);
    expect(r.res.statusCode).toBe(200);
    expect(r.res.json()).toMatchObject({ success: true, requires_registration: false, provider: 'google' });
    const roles = await app.ctx.database.withTenant(open.tenant.id, async (tx) => {
      const q = await tx.execute<{
        code: string;
      }>(sql`select r.code from user_roles ur join roles r on r.id = ur.role_id
        join users u on u.id = ur.user_id where u.tenant_id = ${open.tenant.id} and u.email = ${email}`);
      return q.rows.map((x) => x.code);
    });
    expect(roles).toEqual(['viewer']);
  });
});

describe('issue 13 social: accounts and unlink', () => {
  it('lists linked accounts; never unlinks the last way in (409); allows it when another remains; cross-tenant isolated', async () => {
    const email = `${uniq('two')}@corp.example`;
    // A password-less account created by the provider sign-in (auto-registration).
    const first = await signIn(open.tenant.id, 'oidc', account(oidc, email), auto);
    const t1 = first.res.json().access_token as string;
    const accounts = async (t: string) =>
      (await app.inject({ method: 'GET', url: '/api/v1/oauth/accounts', headers: bearer(t) })).json();
    expect(await accounts(t1)).toMatchObject({
      total: 1,
      has_password: false,
      accounts: [{ provider: 'oidc', name: 'Corp ID', email }],
    });
    const unlink = (t: string, provider: string) =>
      app.inject({ method: 'POST', url: '/api/v1/oauth/unlink', headers: bearer(t), payload: { provider } });
    const last = await unlink(t1, 'oidc');
    expect([last.statusCode, last.json().error]).toEqual([409, 'OAUTH_LAST_SIGN_IN_METHOD']);
    expect((await unlink(t1, 'github')).json().error).toBe('OAUTH_ACCOUNT_NOT_LINKED');

    // The same person through google (verified email, verified local account): linked to the same user.
    const second = await signIn(open.tenant.id, 'google', account(google, email));
    expect((await me(second.res.json().access_token)).user_id).toBe((await me(t1)).user_id);
    expect((await accounts(t1)).total).toBe(2);

    // The same google account in another tenant is another identity (JIT there), never this user.
    const elsewhere = await newTenant(app, { settings: { self_registration: true } });
    const gId = [...google.accounts].find(([, a]) => a.email === email)![0];
    const b = await signIn(elsewhere.tenant.id, 'google', gId, auto);
    const tb = b.res.json().access_token as string;
    expect((await me(tb)).tenant_id).toBe(elsewhere.tenant.id);
    expect((await accounts(tb)).accounts.map((x: { provider: string }) => x.provider)).toEqual(['google']);
    expect((await unlink(tb, 'oidc')).statusCode).toBe(404);

    // Two parallel unlinks of the two remaining identities: exactly one succeeds.
    const [u1, u2] = await Promise.all([unlink(t1, 'oidc'), unlink(t1, 'google')]);
    expect([u1.statusCode, u2.statusCode].sort()).toEqual([200, 409]);
    expect((await accounts(t1)).total).toBe(1);
    expect(await auditCount(open.tenant.id, 'oauth.identity_unlinked')).toBeGreaterThanOrEqual(1);
    expect(await auditCount(open.tenant.id, 'oauth.unlink_refused')).toBeGreaterThanOrEqual(2);

    const anon = await app.inject({ method: 'GET', url: '/api/v1/oauth/accounts' });
    expect(anon.statusCode).toBe(401);
  });

  it('a user with a password may unlink their only identity', async () => {
    const local = await newUser(app, open.tenant.id, { email: `${uniq('pw')}@corp.example` });
    await signIn(open.tenant.id, 'oidc', account(oidc, local.email));
    const t = await login(app, open.tenant.id, local.email);
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/oauth/unlink',
      headers: bearer(t),
      payload: { provider: 'oidc' },
    });
    expect(r.statusCode).toBe(200);
    expect(await identities(open.tenant.id, local.email)).toEqual([]);
  });
});

describe('issue 13 social: GitHub (plain OAuth 2, loopback stand-in)', () => {
  it('signs in with a verified primary email (links); an unverified primary email is not linked', async () => {
    const local = await newUser(app, open.tenant.id, { email: `${uniq('gh')}@corp.example` });
    github.accounts.set('octo', {
      id: 4242,
      login: 'octo',
      name: 'Octo Cat',
      emails: [
        { email: 'octo@users.noreply.github.com', primary: false, verified: true, visibility: null },
        { email: local.email, primary: true, verified: true, visibility: 'private' },
      ],
    });
    const res = await githubSignIn(open.tenant.id, 'octo');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ provider: 'github', email: local.email, name: 'Octo Cat' });
    expect((await me(res.json().access_token)).user_id).toBe(local.id);

    const victim = await newUser(app, open.tenant.id, { email: `${uniq('ghv')}@corp.example` });
    github.accounts.set('mallory', {
      id: 666,
      login: 'mallory',
      name: null,
      emails: [
        { email: victim.email, primary: true, verified: false, visibility: null },
        { email: 'mallory@evil.example', primary: false, verified: true, visibility: null },
      ],
    });
    const bad = await githubSignIn(open.tenant.id, 'mallory');
    expect([bad.statusCode, bad.json().error]).toEqual([403, 'SSO_LINK_REFUSED']);
    expect(await identities(open.tenant.id, victim.email)).toEqual([]);
  });
});

describe('issue 13 social: provider configuration', () => {
  it('refuses half-configured providers and Microsoft multi-tenant issuers at boot; derives the single-tenant issuer', () => {
    const ms = { OAUTH_MICROSOFT_CLIENT_ID: 'id', OAUTH_MICROSOFT_CLIENT_SECRET: 'secret' };
    expect(() => testConfig({ OAUTH_GOOGLE_CLIENT_ID: 'only-id' })).toThrow(/OAUTH_GOOGLE_CLIENT_SECRET/);
    expect(() => testConfig({ ...ms, OAUTH_MICROSOFT_TENANT: 'common' })).toThrow(/multi-tenant/);
    expect(() => testConfig({ ...ms, OAUTH_MICROSOFT_TENANT: 'organizations' })).toThrow(/multi-tenant/);
    expect(() => testConfig(ms)).toThrow(/OAUTH_MICROSOFT_TENANT/);
    expect(() => testConfig({ OAUTH_OIDC_CLIENT_ID: 'a', OAUTH_OIDC_CLIENT_SECRET: 'b' })).toThrow(
      /OAUTH_OIDC_ISSUER/,
    );
    const c = testConfig({
      ...ms,
      OAUTH_MICROSOFT_TENANT: 'contoso.onmicrosoft.com',
      PUBLIC_URL: 'https://x.test/',
    });
    expect(c.oauth.providers).toEqual([
      expect.objectContaining({
        provider: 'microsoft',
        issuer: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0',
        redirectUri: 'https://x.test/api/v1/oauth/microsoft/callback',
        trustMfa: false,
      }),
    ]);
    expect(testConfig().oauth).toEqual({ providers: [], autoRegister: false, defaultRole: 'member' });
  });
});
