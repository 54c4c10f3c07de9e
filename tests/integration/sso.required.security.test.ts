/**
 * Issue 18, finding 4: `sso_required` holds on EVERY sign-in path, and switching it on ends the sessions that
 * did not come through the connection. Real HTTP against real providers: an `oidc-provider` instance per
 * enterprise connection (registered with the connection's own callback URL, whatever it is), one more as the
 * social `oidc` provider, and a loopback DNS server for the TXT verification of domains. Two replicas over one
 * database and store check that a revocation holds on the other replica at once.
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import {
  bearer,
  login,
  newTenant,
  newUser,
  type TestTenant,
  type Tokens,
  uniq,
} from '../helpers/factories.js';
import { driveProvider, startProvider, type TestProvider } from '../helpers/oidc-provider.js';
import { enrolTotp, safeTotpMoment, totpCode } from '../helpers/totp.js';

const PUBLIC_URL = 'https://api.required.test';
const SOCIAL_CALLBACK = `${PUBLIC_URL}/api/v1/oauth/oidc/callback`;
const CLIENT_REDIRECT = 'https://app.example.com/sso/done';
const SECRET = 'provider-secret-123';

let app: FastifyInstance;
let replica: FastifyInstance;
let dns: TestDnsServer;
let social: TestProvider;
const providers: TestProvider[] = [];

interface Conn {
  id: string;
  provider: TestProvider;
  callback: string;
  domainToken: string;
}

function account(p: TestProvider, email: string): string {
  const id = uniq('acct');
  p.accounts.set(id, { email, email_verified: true, given_name: 'Ida', family_name: 'Provider' });
  return id;
}

/**
 * An OIDC connection with `domain`, its own provider registered with the connection's callback URL (read from
 * the connection, so one callback per connection works as well as a shared one), the domain verified by DNS.
 */
async function ssoConnection(
  admin: Tokens,
  domain: string,
  over: Record<string, unknown> = {},
  verify = true,
): Promise<Conn> {
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/sso/connections',
    headers: bearer(admin),
    payload: {
      type: 'oidc',
      name: uniq('conn'),
      redirect_uris: [CLIENT_REDIRECT],
      domains: [domain],
      oidc: { issuer: 'https://idp.placeholder.example', client_id: 'massacorp', client_secret: SECRET },
      ...over,
    },
  });
  expect(created.statusCode, created.body).toBe(201);
  const c = created.json();
  const provider = await startProvider([
    { client_id: 'massacorp', client_secret: SECRET, redirect_uri: c.oidc.callback_url },
  ]);
  providers.push(provider);
  const patched = await patch(admin, c.id, { oidc: { issuer: provider.issuer } });
  expect(patched.statusCode, patched.body).toBe(200);
  dns.txt.set(`_massacorp-verify.${domain}`, [c.domain_token]);
  if (verify) expect((await verifyDomain(admin, c.id, domain)).statusCode).toBe(200);
  return { id: c.id, provider, callback: c.oidc.callback_url, domainToken: c.domain_token };
}

const patch = (admin: Tokens, id: string, payload: Record<string, unknown>) =>
  app.inject({ method: 'PATCH', url: `/api/v1/sso/connections/${id}`, headers: bearer(admin), payload });
const verifyDomain = (admin: Tokens, id: string, domain: string) =>
  app.inject({
    method: 'POST',
    url: `/api/v1/sso/connections/${id}/domains/${domain}/verify`,
    headers: bearer(admin),
  });

/** authorize → provider → callback (the one-time code on the client's redirect) → /sso/token. */
async function ssoSignIn(tenantId: number, conn: Conn, accountId: string) {
  const auth = await app.inject({
    method: 'GET',
    url: `/api/v1/sso/connections/${conn.id}/authorize?redirect_uri=${encodeURIComponent(CLIENT_REDIRECT)}`,
    headers: { 'x-tenant-id': String(tenantId) },
  });
  expect(auth.statusCode, auth.body).toBe(200);
  const cb = await driveProvider(auth.json().auth_url, accountId, conn.callback);
  const res = await app.inject({ method: 'GET', url: cb.pathname + cb.search });
  expect(res.statusCode, res.body).toBe(302);
  const back = new URL(String(res.headers.location));
  const code = back.searchParams.get('code');
  if (!code) return { error: back.searchParams.get('error'), body: null };
  const token = await app.inject({ method: 'POST', url: '/api/v1/sso/token', payload: { code } });
  return { error: null, status: token.statusCode, body: token.json() };
}

/** The social `oidc` provider: authorize → provider → callback (the JSON answer of §9). */
async function socialSignIn(tenantId: number, accountId: string) {
  const auth = await app.inject({
    method: 'GET',
    url: '/api/v1/oauth/oidc/authorize',
    headers: { 'x-tenant-id': String(tenantId) },
  });
  expect(auth.statusCode, auth.body).toBe(200);
  const cb = await driveProvider(auth.json().auth_url, accountId, SOCIAL_CALLBACK);
  return app.inject({ method: 'GET', url: cb.pathname + cb.search });
}

const me = (on: FastifyInstance, t: Tokens | string) =>
  on.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(t) });
const refresh = (t: Tokens) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: t.refresh_token } });

async function rows<T>(tenantId: number, q: ReturnType<typeof sql>): Promise<T[]> {
  return app.ctx.database.withTenant(tenantId, async (tx) => (await tx.execute(q)).rows as T[]);
}

beforeAll(async () => {
  dns = await startDnsServer();
  social = await startProvider([
    { client_id: 'mc-social', client_secret: SECRET, redirect_uri: SOCIAL_CALLBACK },
  ]);
  const env = {
    PUBLIC_URL,
    DNS_SERVERS: dns.address,
    OAUTH_OIDC_ISSUER: social.issuer,
    OAUTH_OIDC_CLIENT_ID: 'mc-social',
    OAUTH_OIDC_CLIENT_SECRET: SECRET,
    OAUTH_AUTO_REGISTER: 'true',
  };
  app = await createTestApp(env);
  replica = await createTestApp(env, app);
});
afterAll(async () => {
  await replica?.close();
  await app?.close();
  await dns?.close();
  await social?.close();
  for (const p of providers) await p.close();
});

describe('issue 18 finding 4: sso_required on every sign-in path', () => {
  let t: TestTenant;
  let admin: Tokens;
  beforeAll(async () => {
    t = await newTenant(app, { settings: { self_registration: true } });
    admin = await login(app, t.tenant.id, t.admin.email);
  });

  it('finding 4 — a social sign-in of a user in an SSO-required domain is refused (403 SSO_REQUIRED, audited, nothing linked or created)', async () => {
    const domain = `${uniq('req')}.example`;
    const conn = await ssoConnection(admin, domain, { sso_required: true });
    const user = await newUser(app, t.tenant.id, { email: `ada@${domain}` });

    // An existing, verified account: the provider's verified address would link it.
    const res = await socialSignIn(t.tenant.id, account(social, user.email));
    expect(res.statusCode, res.body).toBe(403);
    expect(res.json()).toMatchObject({ error: 'SSO_REQUIRED', details: { connection_id: conn.id } });
    expect(res.body).not.toContain('access_token":"');
    // An unknown person of the domain (auto-registration on, self-registration on): no account is made.
    const stranger = await socialSignIn(t.tenant.id, account(social, `newcomer@${domain}`));
    expect([stranger.statusCode, stranger.json().error]).toEqual([403, 'SSO_REQUIRED']);

    const linked = await rows(
      t.tenant.id,
      sql`select id from external_identities where tenant_id = ${t.tenant.id} and email like ${`%@${domain}`}`,
    );
    expect(linked).toEqual([]);
    const created = await rows(
      t.tenant.id,
      sql`select id from users where tenant_id = ${t.tenant.id} and email = ${`newcomer@${domain}`}`,
    );
    expect(created).toEqual([]);
    const sessions = await rows(
      t.tenant.id,
      sql`select id from sessions where tenant_id = ${t.tenant.id} and user_id = ${user.id}`,
    );
    expect(sessions).toEqual([]);
    const audited = await rows<{ n: string }>(
      t.tenant.id,
      sql`select count(*)::text n from audit_log where tenant_id = ${t.tenant.id}
        and event_type = 'sso.login_failed' and metadata->>'error' = 'SSO_REQUIRED'`,
    );
    expect(Number(audited[0]!.n)).toBe(2);

    // The connection itself still signs the same person in.
    const sso = await ssoSignIn(t.tenant.id, conn, account(conn.provider, user.email));
    expect(sso.status).toBe(200);
    expect((await me(app, sso.body.access_token)).json().user_id).toBe(user.id);
  });

  it('finding 4 — a password session opened before the switch can no longer refresh or call /auth/me (on any replica); an SSO session of the same user keeps working', async () => {
    const domain = `${uniq('switch')}.example`;
    const conn = await ssoConnection(admin, domain); // verified, sso_required off
    const user = await newUser(app, t.tenant.id, { email: `grace@${domain}` });
    const outsider = await newUser(app, t.tenant.id, { email: `${uniq('out')}@elsewhere.example` });

    const password = await login(app, t.tenant.id, user.email);
    const sso = await ssoSignIn(t.tenant.id, conn, account(conn.provider, user.email));
    expect(sso.status).toBe(200);
    const socialRes = await socialSignIn(t.tenant.id, account(social, user.email));
    expect(socialRes.statusCode, socialRes.body).toBe(200);
    const viaSocial = socialRes.json() as Tokens;
    const other = await login(app, t.tenant.id, outsider.email);
    for (const s of [password, sso.body, viaSocial]) expect((await me(replica, s)).statusCode).toBe(200);

    const switched = await patch(admin, conn.id, { sso_required: true });
    expect(switched.statusCode, switched.body).toBe(200);

    // The password and social sessions ended at once, on the other replica too.
    for (const s of [password, viaSocial]) {
      const r = await me(replica, s);
      expect([r.statusCode, r.json().error]).toEqual([401, 'SESSION_REVOKED']);
      const rr = await refresh(s);
      expect([rr.statusCode, rr.json().error]).toEqual([401, 'SESSION_REVOKED']);
    }
    // The SSO session of the same user, and a user outside the domain, keep working.
    expect((await me(replica, sso.body)).statusCode).toBe(200);
    const rotated = await refresh(sso.body);
    expect(rotated.statusCode, rotated.body).toBe(200);
    expect((await me(app, rotated.json().access_token)).statusCode).toBe(200);
    expect((await refresh(other)).statusCode).toBe(200);

    const ended = await rows<{ sign_in_method: string; revoked_reason: string | null }>(
      t.tenant.id,
      sql`select sign_in_method, revoked_reason from sessions where tenant_id = ${t.tenant.id}
        and user_id = ${user.id} order by sign_in_method`,
    );
    expect(ended).toEqual([
      { sign_in_method: 'oauth:oidc', revoked_reason: 'sso_required' },
      { sign_in_method: 'password', revoked_reason: 'sso_required' },
      { sign_in_method: 'sso', revoked_reason: null },
    ]);
    // One summary record in the switch's transaction: how many, whose, why.
    const audit = await rows<{ metadata: Record<string, unknown>; actor_id: string }>(
      t.tenant.id,
      sql`select metadata, actor_id from audit_log where tenant_id = ${t.tenant.id}
        and event_type = 'sso.sessions_revoked' and resource_id = ${conn.id}`,
    );
    expect(audit).toHaveLength(1);
    expect(audit[0]!.metadata).toMatchObject({
      reason: 'sso_required',
      trigger: 'connection_updated',
      domains: [domain],
      sessions_ended: 2,
      user_ids: [user.id],
    });
    expect(audit[0]!.actor_id).toBe(String(t.admin.id));

    // And no new password session either.
    const again = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'x-tenant-id': String(t.tenant.id) },
      payload: { email: user.email, password: user.password },
    });
    expect([again.statusCode, again.json().error]).toEqual([403, 'SSO_REQUIRED']);
  });

  it('finding 4 — verifying a domain of an sso_required connection, or enabling such a connection again, ends the password sessions of that domain', async () => {
    const domain = `${uniq('late')}.example`;
    const conn = await ssoConnection(admin, domain, { sso_required: true }, false);
    const user = await newUser(app, t.tenant.id, { email: `linus@${domain}` });
    // Not verified yet: the domain is not the tenant's, the password still works.
    const before = await login(app, t.tenant.id, user.email);
    expect((await verifyDomain(admin, conn.id, domain)).statusCode).toBe(200);
    expect((await me(replica, before)).json().error).toBe('SESSION_REVOKED');

    // Disabled, the connection requires nothing; enabled again, it ends what was opened meanwhile.
    expect((await patch(admin, conn.id, { enabled: false })).statusCode).toBe(200);
    const meanwhile = await login(app, t.tenant.id, user.email);
    expect((await patch(admin, conn.id, { enabled: true })).statusCode).toBe(200);
    expect((await me(replica, meanwhile)).json().error).toBe('SESSION_REVOKED');

    const triggers = await rows<{ trigger: string }>(
      t.tenant.id,
      sql`select metadata->>'trigger' as trigger from audit_log where tenant_id = ${t.tenant.id}
        and event_type = 'sso.sessions_revoked' and resource_id = ${conn.id} order by id`,
    );
    expect(triggers.map((r) => r.trigger)).toEqual(['domain_verified', 'connection_updated']);
  });

  it('finding 4 — a session whose user moved into an SSO-required domain is refused at refresh (403 SSO_REQUIRED, ended, audited)', async () => {
    const domain = `${uniq('move')}.example`;
    const conn = await ssoConnection(admin, domain, { sso_required: true });
    const user = await newUser(app, t.tenant.id, { email: `${uniq('mover')}@elsewhere.example` });
    const session = await login(app, t.tenant.id, user.email);
    const moved = await app.inject({
      method: 'PUT',
      url: `/api/v1/users/${user.id}`,
      headers: bearer(admin),
      payload: { email: `mover@${domain}` },
    });
    expect(moved.statusCode, moved.body).toBe(200);

    const r = await refresh(session);
    expect(r.statusCode, r.body).toBe(403);
    expect(r.json()).toMatchObject({ error: 'SSO_REQUIRED', details: { connection_id: conn.id } });
    expect((await me(replica, session)).json().error).toBe('SESSION_REVOKED');
    const audited = await rows<{ n: string }>(
      t.tenant.id,
      sql`select count(*)::text n from audit_log where tenant_id = ${t.tenant.id}
        and event_type = 'auth.refresh_refused' and success = false and metadata->>'reason' = 'sso_required'`,
    );
    expect(Number(audited[0]!.n)).toBe(1);
  });

  it('finding 4 — an SSO sign-in finished with the MFA step is a session of the connection (allowed after the switch, refreshable)', async () => {
    const domain = `${uniq('mfa')}.example`;
    const conn = await ssoConnection(admin, domain);
    const user = await newUser(app, t.tenant.id, { email: `mfa@${domain}` });
    const { secret } = await enrolTotp(app, t.tenant.id, user.email);
    expect((await patch(admin, conn.id, { sso_required: true })).statusCode).toBe(200);

    const first = await ssoSignIn(t.tenant.id, conn, account(conn.provider, user.email));
    expect(first.body).toMatchObject({ mfa_required: true });
    await safeTotpMoment();
    const step = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login/mfa',
      headers: { 'x-tenant-id': String(t.tenant.id) },
      payload: { mfa_session_token: first.body.mfa_session_token, totp_code: totpCode(secret, 1) },
    });
    expect(step.statusCode, step.body).toBe(200);
    const tokens = step.json() as Tokens;
    expect((await refresh(tokens)).statusCode).toBe(200);
    const [row] = await rows<{ sign_in_method: string; sso_connection_id: string }>(
      t.tenant.id,
      sql`select sign_in_method, sso_connection_id from sessions where tenant_id = ${t.tenant.id}
        and user_id = ${user.id} and revoked_at is null`,
    );
    expect(row).toEqual({ sign_in_method: 'sso', sso_connection_id: conn.id });
  });
});
