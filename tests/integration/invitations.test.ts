/**
 * Invitations (issue 20): invite with roles bounded by the inviter, a single-use link mailed through a real SMTP
 * server, accept with a password (a session, the email verified) or through the tenant's SSO connection (a real
 * in-process OpenID provider, a domain verified by real DNS TXT), resend, revoke, expiry, the public routes'
 * refusals, cross-tenant 404s and two concurrent accepts of one token.
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { bearer, newUser, uniq } from '../helpers/factories.js';
import { driveProvider, startProvider, type TestProvider } from '../helpers/oidc-provider.js';
import { type Caller, roleId, tenantOwner, userWith } from '../helpers/rbac.js';
import { startSmtp, type TestSmtp } from '../helpers/smtp.js';

const PUBLIC_URL = 'https://id.invite.test';
const CALLBACK = `${PUBLIC_URL}/api/v1/sso/oidc/callback`;
const REDIRECT = 'https://app.example.com/sso/done';
const SECRET = 'provider-secret-123';

let app: FastifyInstance;
let smtp: TestSmtp;
let dns: TestDnsServer;
let idp: TestProvider;

beforeAll(async () => {
  smtp = await startSmtp();
  dns = await startDnsServer();
  idp = await startProvider([{ client_id: 'massacorp', client_secret: SECRET, redirect_uri: CALLBACK }]);
  app = await createTestApp({ PUBLIC_URL, SMTP_URL: smtp.url, DNS_SERVERS: dns.address });
});
afterAll(async () => {
  await app?.close();
  await smtp?.close();
  await dns?.close();
  await idp?.close();
});

const invite = (by: Caller, payload: Record<string, unknown>) =>
  by.call('POST', '/api/v1/invitations', payload);
const preview = (token: string) =>
  app.inject({ method: 'GET', url: `/api/v1/invitations/accept/${encodeURIComponent(token)}` });
const accept = (token: string, password = 'Invited-Person-42-lake', extra: Record<string, unknown> = {}) =>
  app.inject({ method: 'POST', url: '/api/v1/invitations/accept', payload: { token, password, ...extra } });

/** The token of the (seen+1)-th invitation mail to `email`. */
async function tokenFromMail(email: string, seen = 0): Promise<string> {
  const isInvite = (m: { to: string[]; text: string }) =>
    m.to.includes(email) && m.text.includes('accept-invite?token=');
  await smtp.waitFor(email, () => smtp.mails.filter(isInvite).length > seen);
  const mail = smtp.mails.filter(isInvite)[seen]!;
  const m = /https:\/\/id\.invite\.test\/admin\/accept-invite\?token=(\S+)/.exec(mail.text);
  expect(m, mail.text).not.toBeNull();
  return decodeURIComponent(m![1]!);
}

async function auditCount(tenantId: number, eventType: string, resourceId: string): Promise<number> {
  return app.ctx.database.withTenant(tenantId, async (tx) => {
    const r = await tx.execute<{ n: string }>(sql`select count(*)::text as n from audit_log
      where tenant_id = ${tenantId} and event_type = ${eventType} and resource_id = ${resourceId}`);
    return Number(r.rows[0]!.n);
  });
}

describe('invitations: invite, accept with a password', () => {
  it('mails a single-use link; accepting makes a verified account with the invited roles and signs it in', async () => {
    const { owner, tenant } = await tenantOwner(app);
    const viewer = await roleId(owner, 'viewer');
    const email = `${uniq('inv')}@example.test`;
    const res = await invite(owner, { email: email.toUpperCase(), role_ids: [viewer] });
    expect(res.statusCode, res.body).toBe(201);
    const inv = res.json();
    expect(inv).toMatchObject({ email, role_ids: [viewer], status: 'pending', invited_by: owner.userId });
    // Seven days by default.
    const days = (Date.parse(inv.expires_at) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.99);
    expect(days).toBeLessThan(7.01);
    const token = await tokenFromMail(email);
    expect(token).toMatch(new RegExp(`^${tenant.id}\\.[A-Za-z0-9_-]{43}$`));
    // Stored hashed: the raw token is nowhere in the table.
    const stored = await app.ctx.database.withTenant(tenant.id, async (tx) => {
      const r = await tx.execute<{ token_hash: string }>(
        sql`select token_hash from invitations where tenant_id = ${tenant.id} and id = ${inv.id}`,
      );
      return r.rows[0]!.token_hash;
    });
    expect(stored).toMatch(/^[0-9a-f]{64}$/);
    expect(stored).not.toContain(token.split('.')[1]);

    expect((await preview(token)).json()).toEqual({ email, tenant_name: tenant.name, sso: false });

    // The tenant's password policy, with its reasons; a refused password does not spend the link.
    const weak = await accept(token, 'short');
    expect(weak.statusCode).toBe(422);
    expect(weak.json()).toMatchObject({
      error: 'PASSWORD_TOO_WEAK',
      details: { reasons: expect.any(Array) },
    });

    const ok = await accept(token, 'Invited-Person-42-lake', { first_name: 'Ines', last_name: 'Vitee' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ success: true, token_type: 'bearer', mfa_required: false });
    const me = await app.inject({
      method: 'GET',
      url: '/api/v1/users/me',
      headers: bearer(ok.json().access_token),
    });
    expect(me.statusCode).toBe(200);
    const meBody = me.json();
    expect(meBody).toMatchObject({ email, tenant_id: tenant.id, first_name: 'Ines', is_verified: true });
    const roles = await owner.call('GET', `/api/v1/users/${meBody.id}/roles`);
    expect(roles.json().roles.map((r: { code: string }) => r.code)).toEqual(['viewer']);

    // Single use.
    const again = await accept(token);
    expect(again.statusCode).toBe(400);
    expect(again.json().error).toBe('INVITATION_ALREADY_ACCEPTED');
    expect((await preview(token)).json().error).toBe('INVITATION_ALREADY_ACCEPTED');

    const listed = await owner.call('GET', '/api/v1/invitations?status=accepted');
    expect(listed.json().invitations).toEqual([
      expect.objectContaining({ id: inv.id, status: 'accepted', accepted_user_id: meBody.id }),
    ]);
    expect(await auditCount(tenant.id, 'invitation.created', inv.id)).toBe(1);
    expect(await auditCount(tenant.id, 'invitation.accepted', inv.id)).toBe(1);
  });

  it('refuses an address that has an account (409 USER_EXISTS), unknown roles (422) and out-of-range expiries', async () => {
    const { owner, tenant } = await tenantOwner(app);
    const existing = await newUser(app, tenant.id);
    const res = await invite(owner, { email: existing.email });
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toBe('USER_EXISTS');
    const unknown = await invite(owner, {
      email: `${uniq('x')}@example.test`,
      role_ids: ['00000000-0000-4000-8000-000000000000'],
    });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().details.errors[0].field).toBe('body.role_ids.0');
    for (const expires_in of [3599, 30 * 86_400 + 1]) {
      const r = await invite(owner, { email: `${uniq('x')}@example.test`, expires_in });
      expect(r.statusCode).toBe(422);
    }
    // An account made after the invitation: accepting answers USER_EXISTS and makes nothing.
    const email = `${uniq('late')}@example.test`;
    expect((await invite(owner, { email, expires_in: 3600 })).statusCode).toBe(201);
    const token = await tokenFromMail(email);
    await newUser(app, tenant.id, { email });
    const late = await accept(token);
    expect(late.statusCode).toBe(409);
    expect(late.json().error).toBe('USER_EXISTS');
  });

  it('bounds the invited roles by what the inviter may grant (403, audited) and needs users.write', async () => {
    const { owner, tenant } = await tenantOwner(app);
    const manager = await userWith(app, tenant.id, ['manager']);
    const adminRole = await roleId(owner, 'admin');
    const res = await invite(manager, { email: `${uniq('esc')}@example.test`, role_ids: [adminRole] });
    expect(res.statusCode).toBe(403);
    const refused = await app.ctx.database.withTenant(tenant.id, async (tx) => {
      const r = await tx.execute<{ n: string }>(sql`select count(*)::text as n from audit_log
        where tenant_id = ${tenant.id} and event_type = 'access.change_refused'
          and resource_id = 'invitation.create'`);
      return Number(r.rows[0]!.n);
    });
    expect(refused).toBe(1);
    expect((await manager.call('GET', '/api/v1/invitations')).statusCode).toBe(200);
    const member = await userWith(app, tenant.id, ['member']);
    expect((await invite(member, { email: `${uniq('m')}@example.test` })).statusCode).toBe(403);
    // A manager may invite with a role it holds everything of.
    const viewer = await roleId(owner, 'viewer');
    expect(
      (await invite(manager, { email: `${uniq('ok')}@example.test`, role_ids: [viewer] })).statusCode,
    ).toBe(201);
  });
});

describe('invitations: replace, resend, revoke, expiry', () => {
  it('a second invitation of an address replaces the first; resend kills the old link; revoke ends it', async () => {
    const { owner, tenant } = await tenantOwner(app);
    const email = `${uniq('re')}@example.test`;
    const first = (await invite(owner, { email })).json();
    const t1 = await tokenFromMail(email, 0);
    const second = (await invite(owner, { email, expires_in: 7200 })).json();
    const t2 = await tokenFromMail(email, 1);
    expect(second.id).not.toBe(first.id);
    expect((await preview(t1)).json().error).toBe('INVITATION_REVOKED');
    const pending = (await owner.call('GET', '/api/v1/invitations?status=pending')).json();
    expect(pending.invitations.map((i: { id: string }) => i.id)).toEqual([second.id]);
    const revokedList = (await owner.call('GET', '/api/v1/invitations?status=revoked')).json();
    expect(revokedList.invitations.map((i: { id: string }) => i.id)).toEqual([first.id]);

    const resent = await owner.call('POST', `/api/v1/invitations/${second.id}/resend`);
    expect(resent.statusCode, resent.body).toBe(200);
    expect(Date.parse(resent.json().expires_at)).toBeGreaterThan(Date.parse(second.expires_at));
    const t3 = await tokenFromMail(email, 2);
    expect(t3).not.toBe(t2);
    // The old link of a resent invitation matches nothing any more.
    const old = await preview(t2);
    expect(old.statusCode).toBe(404);
    expect(old.json().error).toBe('INVITATION_INVALID');
    expect((await preview(t3)).statusCode).toBe(200);
    expect(await auditCount(tenant.id, 'invitation.resent', second.id)).toBe(1);

    const del = await owner.call('DELETE', `/api/v1/invitations/${second.id}`);
    expect(del.statusCode).toBe(204);
    const gone = await accept(t3);
    expect(gone.statusCode).toBe(400);
    expect(gone.json().error).toBe('INVITATION_REVOKED');
    const twice = await owner.call('DELETE', `/api/v1/invitations/${second.id}`);
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error).toBe('INVITATION_NOT_PENDING');
    expect((await owner.call('POST', `/api/v1/invitations/${second.id}/resend`)).statusCode).toBe(409);
    expect(await auditCount(tenant.id, 'invitation.revoked', second.id)).toBe(1);
  });

  it('an expired link answers INVITATION_EXPIRED; resending revives it', async () => {
    const { owner, tenant } = await tenantOwner(app);
    const email = `${uniq('exp')}@example.test`;
    const inv = (await invite(owner, { email })).json();
    const token = await tokenFromMail(email);
    await app.ctx.database.withTenant(tenant.id, (tx) =>
      tx.execute(sql`update invitations set expires_at = now() - interval '1 second'
        where tenant_id = ${tenant.id} and id = ${inv.id}`),
    );
    const res = await accept(token);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('INVITATION_EXPIRED');
    const expired = (await owner.call('GET', '/api/v1/invitations?status=expired')).json();
    expect(expired.invitations.map((i: { id: string }) => i.id)).toEqual([inv.id]);
    expect((await owner.call('POST', `/api/v1/invitations/${inv.id}/resend`)).statusCode).toBe(200);
    expect((await accept(await tokenFromMail(email, 1))).statusCode).toBe(200);
  });

  it('malformed and unknown tokens: 404 INVITATION_INVALID', async () => {
    for (const t of ['nope', `1.${'A'.repeat(43)}`, `999999.${'b'.repeat(43)}`]) {
      const r = await preview(t);
      expect(r.statusCode).toBe(404);
      expect(r.json().error).toBe('INVITATION_INVALID');
      expect((await accept(t)).json().error).toBe('INVITATION_INVALID');
    }
  });

  it('lists newest first with a cursor', async () => {
    const { owner } = await tenantOwner(app);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await invite(owner, { email: `${uniq('p')}@example.test` })).json().id);
    const p1 = (await owner.call('GET', '/api/v1/invitations?limit=2')).json();
    expect(p1.total).toBe(3);
    expect(p1.invitations.map((i: { id: string }) => i.id)).toEqual([ids[2], ids[1]]);
    expect(p1.next_cursor).toEqual(expect.any(String));
    const p2 = (await owner.call('GET', `/api/v1/invitations?limit=2&cursor=${p1.next_cursor}`)).json();
    expect(p2.invitations.map((i: { id: string }) => i.id)).toEqual([ids[0]]);
    expect(p2.next_cursor).toBeNull();
  });
});

describe('invitations: GDPR', () => {
  it('erasing the person removes the invitation that carried their address; before that, their export shows it', async () => {
    const { owner, tenant } = await tenantOwner(app);
    const email = `${uniq('gdpr')}@example.test`;
    const inv = (await invite(owner, { email })).json();
    const accepted = await accept(await tokenFromMail(email));
    const userId = (
      await app.inject({
        method: 'GET',
        url: '/api/v1/users/me',
        headers: bearer(accepted.json().access_token),
      })
    ).json().id;
    const exported = await owner.call('GET', `/api/v1/gdpr/export/${userId}`);
    expect(exported.statusCode, exported.body).toBe(200);
    const mine = exported.json().invitations as { id: string; status: string; email: string }[];
    expect(mine.map((i) => [i.id, i.status, i.email])).toEqual([[inv.id, 'accepted', email]]);
    expect(Object.keys(mine[0]!).filter((k) => /token/.test(k))).toEqual([]);
    const res = await owner.call('DELETE', '/api/v1/gdpr/delete', {
      user_id: userId,
      reason: 'Art. 17 request',
      confirm: true,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data.modules).toContain('invitations');
    const left = await app.ctx.database.withTenant(tenant.id, async (tx) => {
      const r = await tx.execute<{ n: string }>(
        sql`select count(*)::text as n from invitations where tenant_id = ${tenant.id} and (id = ${inv.id} or email = ${email})`,
      );
      return Number(r.rows[0]!.n);
    });
    expect(left).toBe(0);
  });
});

describe('invitations: tenancy and races', () => {
  it("another tenant's invitation is 404 to resend and revoke, and absent from its list", async () => {
    const a = await tenantOwner(app);
    const b = await tenantOwner(app);
    const inv = (await invite(a.owner, { email: `${uniq('x')}@example.test` })).json();
    expect((await b.owner.call('POST', `/api/v1/invitations/${inv.id}/resend`)).statusCode).toBe(404);
    expect((await b.owner.call('DELETE', `/api/v1/invitations/${inv.id}`)).statusCode).toBe(404);
    expect((await b.owner.call('GET', '/api/v1/invitations')).json().invitations).toEqual([]);
    const roleOfA = await roleId(a.owner, 'viewer');
    // A role of another tenant is unknown here.
    const r = await invite(b.owner, { email: `${uniq('x')}@example.test`, role_ids: [roleOfA] });
    expect(r.statusCode).toBe(422);
  });

  it('eight concurrent accepts of one token: exactly one account, one success, one acceptance record', async () => {
    const { owner, tenant } = await tenantOwner(app);
    const email = `${uniq('race')}@example.test`;
    const inv = (await invite(owner, { email })).json();
    const token = await tokenFromMail(email);
    const answers = await Promise.all(Array.from({ length: 8 }, () => accept(token)));
    const codes = answers.map((r) => r.statusCode).sort();
    expect(codes.filter((c) => c === 200)).toHaveLength(1);
    for (const r of answers.filter((x) => x.statusCode !== 200))
      expect(['INVITATION_ALREADY_ACCEPTED', 'USER_EXISTS']).toContain(r.json().error);
    const users = await app.ctx.database.withTenant(tenant.id, async (tx) => {
      const r = await tx.execute<{ n: string }>(
        sql`select count(*)::text as n from users where tenant_id = ${tenant.id} and email = ${email}`,
      );
      return Number(r.rows[0]!.n);
    });
    expect(users).toBe(1);
    expect(await auditCount(tenant.id, 'invitation.accepted', inv.id)).toBe(1);
  });
});

describe('invitations: accepted by the first SSO sign-in', () => {
  it('with just-in-time provisioning off, the invited address signs in through the verified domain and gets its roles', async () => {
    const { owner, tenant } = await tenantOwner(app);
    const domain = `${uniq('corp')}.example`;
    const conn = await owner.call('POST', '/api/v1/sso/connections', {
      type: 'oidc',
      name: uniq('conn'),
      redirect_uris: [REDIRECT],
      jit_provisioning: false,
      oidc: { issuer: idp.issuer, client_id: 'massacorp', client_secret: SECRET },
    });
    expect(conn.statusCode, conn.body).toBe(201);
    const c = conn.json();
    idp.allowRedirectUri('massacorp', c.oidc.callback_url);
    expect((await owner.call('POST', `/api/v1/sso/connections/${c.id}/domains`, { domain })).statusCode).toBe(
      201,
    );
    dns.txt.set(`_massacorp-verify.${domain}`, [c.domain_token]);
    const verified = await owner.call('POST', `/api/v1/sso/connections/${c.id}/domains/${domain}/verify`);
    expect(verified.statusCode, verified.body).toBe(200);

    const signIn = async (email: string) => {
      const acct = uniq('acct');
      idp.accounts.set(acct, { email, email_verified: true, given_name: 'Sso', family_name: 'Invitee' });
      const auth = await app.inject({
        method: 'GET',
        url: `/api/v1/sso/connections/${c.id}/authorize?redirect_uri=${encodeURIComponent(REDIRECT)}`,
        headers: { 'x-tenant-id': String(tenant.id) },
      });
      const cb = await driveProvider(auth.json().auth_url, acct, CALLBACK);
      const res = await app.inject({ method: 'GET', url: cb.pathname + cb.search });
      return new URL(String(res.headers.location)).searchParams;
    };

    // Not invited, JIT off: refused.
    expect((await signIn(`${uniq('stranger')}@${domain}`)).get('error')).toBe('SSO_USER_NOT_PROVISIONED');

    const email = `${uniq('inv')}@${domain}`;
    const viewer = await roleId(owner, 'viewer');
    const inv = (await invite(owner, { email, role_ids: [viewer] })).json();
    const mail = await smtp.waitFor(email, (m) => m.text.includes('accept-invite'));
    expect(mail.text).toContain('single sign-on');
    expect((await preview(await tokenFromMail(email))).json()).toMatchObject({ email, sso: true });

    const params = await signIn(email);
    expect(params.get('error')).toBeNull();
    const tokens = await app.inject({
      method: 'POST',
      url: '/api/v1/sso/token',
      payload: { code: params.get('code') },
    });
    expect(tokens.statusCode, tokens.body).toBe(200);
    const me = (
      await app.inject({
        method: 'GET',
        url: '/api/v1/users/me',
        headers: bearer(tokens.json().access_token),
      })
    ).json();
    const roles = (await owner.call('GET', `/api/v1/users/${me.id}/roles`)).json();
    expect(roles.roles.map((r: { code: string }) => r.code)).toContain('viewer');
    const listed = (await owner.call('GET', '/api/v1/invitations?status=accepted')).json();
    expect(listed.invitations).toEqual([expect.objectContaining({ id: inv.id, accepted_user_id: me.id })]);
    expect(await auditCount(tenant.id, 'invitation.accepted', inv.id)).toBe(1);
    // The link is spent too.
    expect((await accept(await tokenFromMail(email))).json().error).toBe('INVITATION_ALREADY_ACCEPTED');
  });
});
