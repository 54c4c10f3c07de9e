/**
 * Issue 18 item 3 (API.md §17 rules) and link mode, tried as the review did: an admin holding `sso.write`
 * creates a connection to an identity provider they control (a real in-process OpenID provider, or SAML responses
 * signed with their own key), with trust_mfa, and asserts someone else's verified address. Real HTTP, real DNS
 * TXT verification (a loopback DNS server), real SMTP for the security mails.
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { bearer, login, newUser, type Tokens, uniq } from '../helpers/factories.js';
import { driveProvider, startProvider, type TestProvider } from '../helpers/oidc-provider.js';
import { type Caller, client, tenantOwner, userWith } from '../helpers/rbac.js';
import { buildResponse, makeIdpKeys, parseAuthnRequestUrl, type TestIdpKeys } from '../helpers/saml-idp.js';
import { startSmtp, type TestSmtp } from '../helpers/smtp.js';
import { enrolTotp } from '../helpers/totp.js';

const PUBLIC_URL = 'https://api.takeover.test';
const CALLBACK = `${PUBLIC_URL}/api/v1/sso/oidc/callback`;
const SOCIAL_CALLBACK = `${PUBLIC_URL}/api/v1/oauth/oidc/callback`;
const REDIRECT = 'https://app.example.com/sso/done';
const SECRET = 'provider-secret-123';
const MEMBERISH = ['sso.read', 'sso.write', 'users.read', 'features.read'];

let app: FastifyInstance;
let idp: TestProvider;
let social: TestProvider;
let dns: TestDnsServer;
let smtp: TestSmtp;
let samlKeys: TestIdpKeys;

beforeAll(async () => {
  idp = await startProvider([{ client_id: 'massacorp', client_secret: SECRET, redirect_uri: CALLBACK }]);
  social = await startProvider([
    { client_id: 'mc-social', client_secret: SECRET, redirect_uri: SOCIAL_CALLBACK },
  ]);
  dns = await startDnsServer();
  smtp = await startSmtp();
  samlKeys = await makeIdpKeys('attacker-idp.example');
  app = await createTestApp({
    PUBLIC_URL,
    DNS_SERVERS: dns.address,
    SMTP_URL: smtp.url,
    OAUTH_OIDC_ISSUER: social.issuer,
    OAUTH_OIDC_CLIENT_ID: 'mc-social',
    OAUTH_OIDC_CLIENT_SECRET: SECRET,
    OAUTH_OIDC_NAME: 'Corp ID',
  });
});
afterAll(async () => {
  await app?.close();
  await idp?.close();
  await social?.close();
  await dns?.close();
  await smtp?.close();
});

// ---- helpers ----

/** A user of the tenant holding one custom role with exactly these permissions, signed in. */
async function withRole(
  owner: Caller,
  permissions: string[],
  opts: { mfaRequired?: boolean; email?: string } = {},
) {
  const code = `r_${uniq('role').replace(/-/g, '_')}`;
  const role = await owner.call('POST', '/api/v1/roles', {
    code,
    name: code,
    permissions,
    ...(opts.mfaRequired ? { mfa_required: true } : {}),
  });
  expect(role.statusCode, role.body).toBe(201);
  const u = await newUser(app, owner.tenantId, opts.email ? { email: opts.email } : {});
  const assigned = await owner.call('POST', `/api/v1/users/${u.id}/roles`, { role_id: role.json().id });
  expect(assigned.statusCode, assigned.body).toBe(201);
  const tokens = await login(app, owner.tenantId, u.email);
  return {
    userId: u.id,
    tenantId: owner.tenantId,
    email: u.email,
    tokens,
    call: client(app, tokens),
    roleId: role.json().id as string,
  };
}

interface Conn {
  id: string;
  domain_token: string;
}

async function oidcConnection(by: Caller, over: Record<string, unknown> = {}): Promise<Conn> {
  const res = await by.call('POST', '/api/v1/sso/connections', {
    type: 'oidc',
    name: uniq('conn'),
    redirect_uris: [REDIRECT],
    oidc: { issuer: idp.issuer, client_id: 'massacorp', client_secret: SECRET },
    ...over,
  });
  expect(res.statusCode, res.body).toBe(201);
  // Each connection has its own callback (finding 1): the provider accepts exactly that redirect URI.
  idp.allowRedirectUri('massacorp', res.json().oidc.callback_url);
  return res.json();
}

/** Publishes the TXT record (the attacker controls this DNS) and verifies the domain through the API. */
async function verifyDomain(by: Caller, conn: Conn, domain: string) {
  dns.txt.set(`_massacorp-verify.${domain}`.toLowerCase(), [conn.domain_token]);
  const res = await by.call('POST', `/api/v1/sso/connections/${conn.id}/domains/${domain}/verify`);
  expect(res.statusCode, res.body).toBe(200);
}

function account(email: string, verified = true): string {
  const id = uniq('acct');
  idp.accounts.set(id, { email, email_verified: verified, given_name: 'Ida', family_name: 'Provider' });
  return id;
}

/** authorize (sign-in, or link mode with a bearer) → the provider → our callback's answer. */
async function viaIdp(
  tenantId: number,
  connId: string,
  accountId: string,
  opts: { link?: Tokens; json?: boolean } = {},
): Promise<LightMyRequestResponse> {
  const res = await app.inject({
    method: 'GET',
    url: `/api/v1/sso/connections/${connId}/authorize?redirect_uri=${encodeURIComponent(REDIRECT)}${opts.link ? '&mode=link' : ''}`,
    headers: opts.link ? bearer(opts.link) : { 'x-tenant-id': String(tenantId) },
  });
  expect(res.statusCode, res.body).toBe(200);
  const cb = await driveProvider(res.json().auth_url, accountId, `${CALLBACK}/${connId}`);
  return app.inject({
    method: 'GET',
    url: cb.pathname + cb.search,
    headers: opts.json ? { accept: 'application/json' } : {},
  });
}

function params(res: LightMyRequestResponse) {
  expect(res.statusCode, res.body).toBe(302);
  const loc = new URL(String(res.headers.location));
  expect(loc.origin + loc.pathname).toBe(REDIRECT);
  return loc.searchParams;
}

const exchange = (code: string) =>
  app.inject({ method: 'POST', url: '/api/v1/sso/token', payload: { code } });

async function meOf(accessToken: string) {
  const res = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(accessToken) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { user_id: number; tenant_id: number };
}

async function count(tenantId: number, query: ReturnType<typeof sql>): Promise<number> {
  return app.ctx.database.withTenant(tenantId, async (tx) => {
    const r = await tx.execute<{ n: string }>(query);
    return Number(r.rows[0]!.n);
  });
}
const identitiesOf = (tenantId: number, userId: number) =>
  count(
    tenantId,
    sql`select count(*)::text as n from external_identities where tenant_id = ${tenantId} and user_id = ${userId}`,
  );
const audits = (tenantId: number, eventType: string, error?: string) =>
  count(
    tenantId,
    sql`select count(*)::text as n from audit_log where tenant_id = ${tenantId} and event_type = ${eventType}
          and (${error ?? null}::text is null or metadata->>'error' = ${error ?? null})`,
  );

const domainOf = (email: string) => email.slice(email.indexOf('@') + 1);

// ---- finding 3 ----

describe('issue 18 finding 3: an SSO admin cannot sign in as anyone', () => {
  it('finding 3 — an sso.write admin cannot take over the owner by linking', async () => {
    const t = await tenantOwner(app);
    const domain = domainOf(t.admin.email);
    // The owner has MFA: the attack also wanted to skip it through trust_mfa.
    await enrolTotp(app, t.tenant.id, t.admin.email);
    const admin = await withRole(t.owner, MEMBERISH);
    const conn = await oidcConnection(admin, { trust_mfa: true, domains: [domain] });
    await verifyDomain(admin, conn, domain);
    idp.tamper = (c) => ({ ...c, amr: ['pwd', 'mfa'] });
    try {
      const acct = account(t.admin.email, true);
      const p = params(await viaIdp(t.tenant.id, conn.id, acct));
      expect(p.get('code')).toBeNull();
      expect(p.get('error')).toBe('SSO_LINK_REFUSED');
      const json = await viaIdp(t.tenant.id, conn.id, acct, { json: true });
      expect(json.statusCode).toBe(403);
      expect(json.json().error).toBe('SSO_LINK_REFUSED');
      expect(json.json().details.reasons).toEqual(
        expect.arrayContaining(['privileged_account', 'grant_ceiling']),
      );
    } finally {
      idp.tamper = null;
    }
    expect(await identitiesOf(t.tenant.id, t.admin.id)).toBe(0);
    expect(await audits(t.tenant.id, 'sso.login_failed', 'SSO_LINK_REFUSED')).toBe(2);
  });

  it('finding 3 — even a full admin cannot take over a superuser by linking (a member of the domain still links)', async () => {
    const t = await tenantOwner(app);
    const domain = `${uniq('corp')}.example`;
    const boss = await newUser(app, t.tenant.id, { email: `boss@${domain}`, isSuperuser: true });
    const member = await newUser(app, t.tenant.id, { email: `mel@${domain}`, roles: ['member'] });
    // An administrator holds every tenant permission, so only the privileged-account rule stands in the way.
    const admin = await userWith(app, t.tenant.id, ['admin']);
    const conn = await oidcConnection(admin, { trust_mfa: true, domains: [domain] });
    await verifyDomain(admin, conn, domain);
    idp.tamper = (c) => ({ ...c, amr: ['pwd', 'mfa'] });
    try {
      const refused = await viaIdp(t.tenant.id, conn.id, account(boss.email), { json: true });
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toMatchObject({
        error: 'SSO_LINK_REFUSED',
        details: { reasons: ['privileged_account'] },
      });
      expect(await identitiesOf(t.tenant.id, boss.id)).toBe(0);
      const ok = params(await viaIdp(t.tenant.id, conn.id, account(member.email)));
      const tokens = (await exchange(ok.get('code')!)).json();
      expect((await meOf(tokens.access_token)).user_id).toBe(member.id);
    } finally {
      idp.tamper = null;
    }
  });

  it('finding 3 — social login never links an owner by email either (they use link mode)', async () => {
    const t = await tenantOwner(app);
    const id = uniq('soc');
    social.accounts.set(id, { email: t.admin.email, email_verified: true });
    const start = await app.inject({
      method: 'GET',
      url: '/api/v1/oauth/oidc/authorize',
      headers: { 'x-tenant-id': String(t.tenant.id) },
    });
    const cb = await driveProvider(start.json().auth_url, id, SOCIAL_CALLBACK);
    const res = await app.inject({ method: 'GET', url: cb.pathname + cb.search });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({
      error: 'SSO_LINK_REFUSED',
      details: { reasons: ['privileged_account'] },
    });
    expect(res.json().access_token).toBeUndefined();
    expect(await identitiesOf(t.tenant.id, t.admin.id)).toBe(0);
  });

  it('finding 3 — a link on an unverified domain is refused even with email_verified=true', async () => {
    const t = await tenantOwner(app);
    const domain = `${uniq('unv')}.example`;
    const member = await newUser(app, t.tenant.id, { email: `mia@${domain}`, roles: ['member'] });
    const conn = await oidcConnection(t.owner, { domains: [domain] });
    const acct = account(member.email, true);
    const refused = await viaIdp(t.tenant.id, conn.id, acct, { json: true });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({
      error: 'SSO_LINK_REFUSED',
      details: { reasons: ['domain_not_verified'], idp_email_verified: true, domain_verified: false },
    });
    expect(await identitiesOf(t.tenant.id, member.id)).toBe(0);
    // Once the domain is verified for this connection, the same assertion links.
    await verifyDomain(t.owner, conn, domain);
    const p = params(await viaIdp(t.tenant.id, conn.id, acct));
    expect((await meOf((await exchange(p.get('code')!)).json().access_token)).user_id).toBe(member.id);
    expect(await audits(t.tenant.id, 'sso.identity_linked')).toBe(1);
  });

  it('finding 3 — a connection never links nor signs in more than its last editor could grant (demoted editor: at once)', async () => {
    const t = await tenantOwner(app);
    const domain = `${uniq('ceil')}.example`;
    const manager = await newUser(app, t.tenant.id, { email: `max@${domain}`, roles: ['manager'] });
    const member = await newUser(app, t.tenant.id, { email: `meg@${domain}`, roles: ['member'] });
    const admin = await withRole(t.owner, MEMBERISH);
    const conn = await oidcConnection(admin, { domains: [domain] });
    await verifyDomain(admin, conn, domain);
    const refused = await viaIdp(t.tenant.id, conn.id, account(manager.email), { json: true });
    expect(refused.json()).toMatchObject({
      error: 'SSO_LINK_REFUSED',
      details: { reasons: ['grant_ceiling'] },
    });
    expect(refused.json().details.missing).toContain('users.write');
    const memberAcct = account(member.email);
    const linked = params(await viaIdp(t.tenant.id, conn.id, memberAcct));
    expect((await meOf((await exchange(linked.get('code')!)).json().access_token)).user_id).toBe(member.id);
    // The editor loses the role: the connection's power goes with it, even for an identity linked before.
    const removed = await t.owner.call('DELETE', `/api/v1/users/${admin.userId}/roles/${admin.roleId}`);
    expect(removed.statusCode, removed.body).toBe(204);
    const after = await viaIdp(t.tenant.id, conn.id, memberAcct, { json: true });
    expect(after.statusCode).toBe(403);
    expect(after.json().error).toBe('SSO_GRANT_CEILING_EXCEEDED');
  });

  it("finding 3 — a JIT creation whose default_role now exceeds the editor's ceiling is refused", async () => {
    const t = await tenantOwner(app);
    const staff = await t.owner.call('POST', '/api/v1/roles', {
      code: `staff_${uniq('s').replace(/-/g, '_')}`,
      name: 'Staff',
      permissions: ['users.read'],
    });
    expect(staff.statusCode, staff.body).toBe(201);
    const admin = await withRole(t.owner, MEMBERISH);
    const conn = await oidcConnection(admin, { default_role: staff.json().code, jit_provisioning: true });
    const first = params(await viaIdp(t.tenant.id, conn.id, account(`${uniq('jit')}@new.example`)));
    expect(first.get('code')).toBeTruthy();
    // The owner widens the role after the connection was saved: the connection cannot hand it out any more.
    const edited = await t.owner.call('PUT', `/api/v1/roles/${staff.json().id}`, {
      permissions: ['users.read', 'users.write'],
    });
    expect(edited.statusCode, edited.body).toBe(200);
    const email = `${uniq('jit')}@new.example`;
    const refused = await viaIdp(t.tenant.id, conn.id, account(email), { json: true });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({
      error: 'SSO_GRANT_CEILING_EXCEEDED',
      details: { default_role: staff.json().code, missing: ['users.write'] },
    });
    expect(
      await count(
        t.tenant.id,
        sql`select count(*)::text as n from users where tenant_id = ${t.tenant.id} and email = ${email}`,
      ),
    ).toBe(0);
  });

  it('finding 3 — trust_mfa without amr goes through the MFA step (with amr it does not)', async () => {
    const t = await tenantOwner(app);
    const domain = `${uniq('amr')}.example`;
    const member = await newUser(app, t.tenant.id, { email: `amy@${domain}`, roles: ['member'] });
    await enrolTotp(app, t.tenant.id, member.email);
    const conn = await oidcConnection(t.owner, { trust_mfa: true, domains: [domain] });
    await verifyDomain(t.owner, conn, domain);
    const acct = account(member.email);
    const plain = (await exchange(params(await viaIdp(t.tenant.id, conn.id, acct)).get('code')!)).json();
    expect(plain).toMatchObject({ mfa_required: true, access_token: null });
    idp.tamper = (c) => ({ ...c, amr: ['pwd', 'otp'] });
    try {
      const asserted = (await exchange(params(await viaIdp(t.tenant.id, conn.id, acct)).get('code')!)).json();
      expect(asserted).toMatchObject({ mfa_required: false });
      expect((await meOf(asserted.access_token)).user_id).toBe(member.id);
    } finally {
      idp.tamper = null;
    }
  });

  it('finding 3 — trust_mfa with amr still asks for MFA when a role requires it', async () => {
    const t = await tenantOwner(app);
    const domain = `${uniq('req')}.example`;
    const secure = await withRole(t.owner, ['users.read'], { mfaRequired: true, email: `sam@${domain}` });
    await enrolTotp(app, t.tenant.id, secure.email);
    const conn = await oidcConnection(t.owner, { trust_mfa: true, domains: [domain] });
    await verifyDomain(t.owner, conn, domain);
    idp.tamper = (c) => ({ ...c, amr: ['pwd', 'mfa', 'hwk'] });
    try {
      const r = (
        await exchange(params(await viaIdp(t.tenant.id, conn.id, account(secure.email))).get('code')!)
      ).json();
      expect(r).toMatchObject({ mfa_required: true, access_token: null });
      expect(r.mfa_session_token).toBeTruthy();
    } finally {
      idp.tamper = null;
    }
  });

  it('finding 3 — SAML trust_mfa needs a multi-factor AuthnContextClassRef', async () => {
    const t = await tenantOwner(app);
    const domain = `${uniq('saml')}.example`;
    const member = await newUser(app, t.tenant.id, { email: `sue@${domain}`, roles: ['member'] });
    await enrolTotp(app, t.tenant.id, member.email);
    const entity = `https://idp.${domain}/saml`;
    const created = await t.owner.call('POST', '/api/v1/sso/connections', {
      type: 'saml',
      name: uniq('saml'),
      redirect_uris: [REDIRECT],
      trust_mfa: true,
      domains: [domain],
      saml: {
        idp_entity_id: entity,
        idp_sso_url: 'https://idp.example.com/sso',
        idp_certificate: samlKeys.certificate,
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const conn = created.json() as Conn;
    await verifyDomain(t.owner, conn, domain);
    const signIn = async (classRef?: string) => {
      const res = await app.inject({
        method: 'GET',
        url: `/api/v1/sso/connections/${conn.id}/authorize?redirect_uri=${encodeURIComponent(REDIRECT)}`,
        headers: { 'x-tenant-id': String(t.tenant.id) },
      });
      const { id, relayState } = parseAuthnRequestUrl(res.json().auth_url);
      const saml = buildResponse(samlKeys, {
        issuer: entity,
        audience: `${PUBLIC_URL}/api/v1/sso/saml/${conn.id}/metadata`,
        acsUrl: `${PUBLIC_URL}/api/v1/sso/saml/acs`,
        inResponseTo: id,
        nameId: member.email,
        ...(classRef ? { authnContextClassRef: classRef } : {}),
      });
      const acs = await app.inject({
        method: 'POST',
        url: '/api/v1/sso/saml/acs',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ SAMLResponse: saml, RelayState: relayState! }).toString(),
      });
      return (await exchange(params(acs).get('code')!)).json();
    };
    expect(await signIn()).toMatchObject({ mfa_required: true, access_token: null });
    for (const mfa of [
      'urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken',
      'http://schemas.microsoft.com/claims/multipleauthn',
    ]) {
      const r = await signIn(mfa);
      expect(r, mfa).toMatchObject({ mfa_required: false });
      expect((await meOf(r.access_token)).user_id).toBe(member.id);
    }
  });
});

// ---- link mode ----

describe('issue 18 link mode: a signed-in user links an identity to their own account', () => {
  it("link mode — the owner links a connection's identity (no tokens, audited, mailed), signs in with it, and loses it when an admin edits the connection", async () => {
    const t = await tenantOwner(app);
    const conn = await oidcConnection(t.owner);
    // An address the tenant never verified: link mode needs none, the caller proves both sides.
    const acct = account(`ada.${uniq('x')}@elsewhere.example`, false);
    const res = await viaIdp(t.tenant.id, conn.id, acct, { link: t.owner.tokens });
    const p = params(res);
    expect(p.get('linked')).toBe('1');
    expect(p.get('code')).toBeNull();
    expect(await identitiesOf(t.tenant.id, t.admin.id)).toBe(1);
    const linkedAudit = await app.ctx.database.withTenant(t.tenant.id, (tx) =>
      tx.execute<{ actor_id: string; metadata: Record<string, unknown> }>(
        sql`select actor_id, metadata from audit_log where tenant_id = ${t.tenant.id} and event_type = 'sso.identity_linked'`,
      ),
    );
    expect(linkedAudit.rows).toHaveLength(1);
    expect(linkedAudit.rows[0]).toMatchObject({ actor_id: String(t.admin.id), metadata: { method: 'link' } });
    const mail = await smtp.waitFor(t.admin.email, (m) => m.subject.includes('new sign-in method'));
    expect(mail.text).toContain('SSO ');
    // GET /sso/identities lists it.
    const list = await t.owner.call('GET', '/api/v1/sso/identities');
    expect(list.statusCode).toBe(200);
    expect(list.json()).toMatchObject({
      total: 1,
      identities: [{ connection_id: conn.id, provider: 'sso' }],
    });
    // Signing in through it now opens the owner's account (the owner is the connection's last editor).
    const signIn = params(await viaIdp(t.tenant.id, conn.id, acct));
    expect((await meOf((await exchange(signIn.get('code')!)).json().access_token)).user_id).toBe(t.admin.id);
    // An administrator edits the connection: an admin's connection never signs in an owner.
    const admin = await userWith(app, t.tenant.id, ['admin']);
    expect(
      (await admin.call('PATCH', `/api/v1/sso/connections/${conn.id}`, { trust_mfa: true })).statusCode,
    ).toBe(200);
    const after = await viaIdp(t.tenant.id, conn.id, acct, { json: true });
    expect(after.statusCode).toBe(403);
    expect(after.json()).toMatchObject({
      error: 'SSO_GRANT_CEILING_EXCEEDED',
      details: { privileged_account: true },
    });
  });

  it('link mode — refused without a user token (401), with an API key (401); an identity of someone else is 409', async () => {
    const t = await tenantOwner(app);
    const conn = await oidcConnection(t.owner);
    const url = `/api/v1/sso/connections/${conn.id}/authorize?mode=link&redirect_uri=${encodeURIComponent(REDIRECT)}`;
    const none = await app.inject({ method: 'GET', url, headers: { 'x-tenant-id': String(t.tenant.id) } });
    expect([none.statusCode, none.json().error]).toEqual([401, 'UNAUTHORIZED']);
    const bad = await app.inject({ method: 'GET', url, headers: bearer('not-a-token') });
    expect(bad.statusCode).toBe(401);
    const unknownMode = await app.inject({
      method: 'GET',
      url: url.replace('mode=link', 'mode=merge'),
      headers: bearer(t.owner.tokens),
    });
    expect(unknownMode.statusCode).toBe(422);
    const key = await t.owner.call('POST', '/api/v1/api-keys', { name: 'k', scopes: ['users.read'] });
    expect(key.statusCode, key.body).toBe(201);
    const viaKey = await app.inject({ method: 'GET', url, headers: { 'x-api-key': key.json().raw_key } });
    expect(viaKey.statusCode).toBe(401);
    // Another tenant's token: the connection is not in its tenant.
    const other = await tenantOwner(app);
    const foreign = await app.inject({ method: 'GET', url, headers: bearer(other.owner.tokens) });
    expect(foreign.statusCode).toBe(404);
    // The identity first signs in (JIT) as someone; a member then tries to link it to themselves.
    const acct = account(`${uniq('jit')}@new.example`);
    expect(params(await viaIdp(t.tenant.id, conn.id, acct)).get('code')).toBeTruthy();
    const member = await userWith(app, t.tenant.id, ['member']);
    const taken = params(await viaIdp(t.tenant.id, conn.id, acct, { link: member.tokens }));
    expect(taken.get('error')).toBe('SSO_IDENTITY_ALREADY_LINKED');
    const json = await viaIdp(t.tenant.id, conn.id, acct, { link: member.tokens, json: true });
    expect([json.statusCode, json.json().error]).toEqual([409, 'SSO_IDENTITY_ALREADY_LINKED']);
    expect(await identitiesOf(t.tenant.id, member.userId)).toBe(0);
  });

  it('link mode — SAML connections too: the ACS links the asserted NameID to the caller, no code', async () => {
    const t = await tenantOwner(app);
    const entity = `https://idp.${uniq('lk')}.example/saml`;
    const created = await t.owner.call('POST', '/api/v1/sso/connections', {
      type: 'saml',
      name: uniq('saml'),
      redirect_uris: [REDIRECT],
      saml: {
        idp_entity_id: entity,
        idp_sso_url: 'https://idp.example.com/sso',
        idp_certificate: samlKeys.certificate,
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const conn = created.json() as Conn;
    const res = await t.owner.call(
      'GET',
      `/api/v1/sso/connections/${conn.id}/authorize?mode=link&redirect_uri=${encodeURIComponent(REDIRECT)}`,
    );
    expect(res.statusCode, res.body).toBe(200);
    const { id, relayState } = parseAuthnRequestUrl(res.json().auth_url);
    const saml = buildResponse(samlKeys, {
      issuer: entity,
      audience: `${PUBLIC_URL}/api/v1/sso/saml/${conn.id}/metadata`,
      acsUrl: `${PUBLIC_URL}/api/v1/sso/saml/acs`,
      inResponseTo: id,
      nameId: `owner.${uniq('n')}@idp.example`,
    });
    const acs = await app.inject({
      method: 'POST',
      url: '/api/v1/sso/saml/acs',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ SAMLResponse: saml, RelayState: relayState! }).toString(),
    });
    const p = params(acs);
    expect(p.get('linked')).toBe('1');
    expect(p.get('code')).toBeNull();
    const list = (await t.owner.call('GET', '/api/v1/sso/identities')).json();
    expect(list).toMatchObject({ total: 1, identities: [{ connection_id: conn.id, issuer: entity }] });
  });

  it('link mode — a session ended while at the identity provider links nothing', async () => {
    const t = await tenantOwner(app);
    const conn = await oidcConnection(t.owner);
    const member = await userWith(app, t.tenant.id, ['member']);
    const res = await app.inject({
      method: 'GET',
      url: `/api/v1/sso/connections/${conn.id}/authorize?mode=link&redirect_uri=${encodeURIComponent(REDIRECT)}`,
      headers: bearer(member.tokens),
    });
    const cb = await driveProvider(
      res.json().auth_url,
      account(`${uniq('l')}@x.example`),
      `${CALLBACK}/${conn.id}`,
    );
    expect((await member.call('POST', '/api/v1/auth/logout')).statusCode).toBe(200);
    const after = await app.inject({ method: 'GET', url: cb.pathname + cb.search });
    expect(params(after).get('error')).toBe('SSO_LINK_REFUSED');
    expect(await identitiesOf(t.tenant.id, member.userId)).toBe(0);
  });

  it('link mode — social providers: authorize ?mode=link with a bearer links the provider identity instead of signing in', async () => {
    const t = await tenantOwner(app);
    const member = await userWith(app, t.tenant.id, ['member']);
    const noToken = await app.inject({
      method: 'GET',
      url: '/api/v1/oauth/oidc/authorize?mode=link',
      headers: { 'x-tenant-id': String(t.tenant.id) },
    });
    expect(noToken.statusCode).toBe(401);
    const start = await member.call('GET', '/api/v1/oauth/oidc/authorize?mode=link');
    expect(start.statusCode, start.body).toBe(200);
    const id = uniq('soc');
    social.accounts.set(id, { email: `${uniq('other')}@gmail.example`, email_verified: true });
    const cb = await driveProvider(start.json().auth_url, id, SOCIAL_CALLBACK);
    const res = await app.inject({ method: 'GET', url: cb.pathname + cb.search });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ success: true, linked: true, access_token: null, provider: 'oidc' });
    const accounts = await member.call('GET', '/api/v1/oauth/accounts');
    expect(accounts.json().accounts).toMatchObject([{ provider: 'oidc' }]);
    await smtp.waitFor(member.email, (m) => m.subject.includes('new sign-in method'));
    // The provider now signs the member in.
    const again = await app.inject({
      method: 'GET',
      url: '/api/v1/oauth/oidc/authorize',
      headers: { 'x-tenant-id': String(t.tenant.id) },
    });
    const cb2 = await driveProvider(again.json().auth_url, id, SOCIAL_CALLBACK);
    const signedIn = await app.inject({ method: 'GET', url: cb2.pathname + cb2.search });
    expect((await meOf(signedIn.json().access_token)).user_id).toBe(member.userId);
  });
});

describe('issue 18 /sso/identities: the caller’s own identities', () => {
  it('lists and removes only the caller’s identities: another user’s or tenant’s is 404, the last way in 409, keys refused', async () => {
    const t = await tenantOwner(app);
    const conn = await oidcConnection(t.owner, { jit_provisioning: true });
    // A JIT user has no password: their identity is their only way in.
    const signIn = params(await viaIdp(t.tenant.id, conn.id, account(`${uniq('only')}@new.example`)));
    const jit = (await exchange(signIn.get('code')!)).json().access_token as string;
    const jitCall = client(app, jit);
    const mine = await jitCall('GET', '/api/v1/sso/identities');
    expect(mine.statusCode).toBe(200);
    expect(mine.json().total).toBe(1);
    const identity = mine.json().identities[0];
    expect(Object.keys(identity).sort()).toEqual(
      ['connection_id', 'created_at', 'email', 'id', 'issuer', 'last_login_at', 'provider', 'subject'].sort(),
    );
    const last = await jitCall('DELETE', `/api/v1/sso/identities/${identity.id}`);
    expect([last.statusCode, last.json().error]).toEqual([409, 'OAUTH_LAST_SIGN_IN_METHOD']);
    expect(await audits(t.tenant.id, 'sso.identity_unlink_refused')).toBe(1);
    // Someone else's identity, in this tenant or another: 404, nothing removed.
    const member = await userWith(app, t.tenant.id, ['member']);
    expect((await member.call('DELETE', `/api/v1/sso/identities/${identity.id}`)).statusCode).toBe(404);
    const other = await tenantOwner(app);
    expect((await other.owner.call('DELETE', `/api/v1/sso/identities/${identity.id}`)).statusCode).toBe(404);
    expect((await other.owner.call('GET', '/api/v1/sso/identities')).json().total).toBe(0);
    expect((await member.call('DELETE', '/api/v1/sso/identities/not-a-uuid')).statusCode).toBe(422);
    // API keys never reach these routes.
    const key = await t.owner.call('POST', '/api/v1/api-keys', { name: 'k', scopes: ['users.read'] });
    const viaKey = await app.inject({
      method: 'GET',
      url: '/api/v1/sso/identities',
      headers: { 'x-api-key': key.json().raw_key },
    });
    expect([viaKey.statusCode, viaKey.json().error]).toEqual([403, 'API_KEY_SCOPE_INSUFFICIENT']);
    // The owner (a password) links an identity, then removes it: audited and mailed.
    const acct = account(`${uniq('own')}@elsewhere.example`);
    expect(params(await viaIdp(t.tenant.id, conn.id, acct, { link: t.owner.tokens })).get('linked')).toBe(
      '1',
    );
    const ownList = (await t.owner.call('GET', '/api/v1/sso/identities')).json();
    expect(ownList.total).toBe(1);
    const removed = await t.owner.call('DELETE', `/api/v1/sso/identities/${ownList.identities[0].id}`);
    expect(removed.statusCode, removed.body).toBe(200);
    expect(await audits(t.tenant.id, 'sso.identity_unlinked')).toBe(1);
    await smtp.waitFor(t.admin.email, (m) => m.subject.includes('sign-in method removed'));
    expect((await t.owner.call('GET', '/api/v1/sso/identities')).json().total).toBe(0);
  });
});
