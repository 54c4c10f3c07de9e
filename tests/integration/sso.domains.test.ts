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
  PASSWORD,
  type TestTenant,
  type Tokens,
  uniq,
} from '../helpers/factories.js';

let app: FastifyInstance;
let dns: TestDnsServer;
let a: TestTenant;
let b: TestTenant;
let adminA: Tokens;
let adminB: Tokens;

async function connection(tokens: Tokens, over: Record<string, unknown> = {}) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/sso/connections',
    headers: bearer(tokens),
    payload: {
      type: 'oidc',
      name: uniq('c'),
      redirect_uris: ['https://app.example.com/cb'],
      oidc: { issuer: 'https://idp.example.com', client_id: 'c', client_secret: 's' },
      ...over,
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; domain_token: string };
}

const verify = (tokens: Tokens, id: string, domain: string) =>
  app.inject({
    method: 'POST',
    url: `/api/v1/sso/connections/${id}/domains/${domain}/verify`,
    headers: bearer(tokens),
  });
const discover = (email: string, tenant?: number) =>
  app.inject({
    method: 'POST',
    url: '/api/v1/sso/discover',
    payload: { email },
    headers: tenant ? { 'x-tenant-id': String(tenant) } : {},
  });

beforeAll(async () => {
  dns = await startDnsServer();
  app = await createTestApp({ DNS_SERVERS: dns.address });
  a = await newTenant(app);
  b = await newTenant(app);
  adminA = await login(app, a.tenant.id, a.admin.email);
  adminB = await login(app, b.tenant.id, b.admin.email);
});
afterAll(async () => {
  await app.close();
  await dns.close();
});

describe('issue 13 sso: domains, DNS TXT verification and discovery', () => {
  it('verifies a domain through the TXT record _massacorp-verify.<domain> (real DNS over a loopback server)', async () => {
    const domain = `${uniq('acme')}.example`;
    const c = await connection(adminA);
    const added = await app.inject({
      method: 'POST',
      url: `/api/v1/sso/connections/${c.id}/domains`,
      headers: bearer(adminA),
      payload: { domain: domain.toUpperCase() },
    });
    expect(added.statusCode).toBe(201);
    expect(added.json()).toMatchObject({
      domain,
      verified: false,
      txt_record_name: `_massacorp-verify.${domain}`,
    });

    // no record yet: 400 and an audit record
    const missing = await verify(adminA, c.id, domain);
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error).toBe('SSO_DOMAIN_VERIFICATION_FAILED');
    expect(dns.queries).toContain(`_massacorp-verify.${domain}`);
    // a wrong value
    dns.txt.set(`_massacorp-verify.${domain}`, ['massacorp-verify=somebody-else']);
    expect((await verify(adminA, c.id, domain)).statusCode).toBe(400);
    // discovery ignores unverified domains
    expect((await discover(`x@${domain}`)).statusCode).toBe(404);
    expect((await discover(`x@${domain}`)).json().error).toBe('SSO_CONNECTION_NOT_FOUND');

    dns.txt.set(`_massacorp-verify.${domain}`, ['v=spf1 -all', c.domain_token]);
    const ok = await verify(adminA, c.id, domain);
    expect(ok.statusCode).toBe(200);
    expect(ok.json().verified).toBe(true);
    const audits = await app.ctx.database.withTenant(
      a.tenant.id,
      async (tx) =>
        (
          await tx.execute<{ event_type: string; success: boolean }>(
            sql`select event_type, success from audit_log where tenant_id = ${a.tenant.id} and event_type like 'sso.domain%' order by seq`,
          )
        ).rows,
    );
    expect(audits.map((r) => `${r.event_type}:${r.success}`)).toEqual([
      'sso.domain_added:true',
      'sso.domain_verification_failed:false',
      'sso.domain_verification_failed:false',
      'sso.domain_verified:true',
    ]);

    // discovery: by email domain, only the id and type
    const found = await discover(`Someone@${domain.toUpperCase()}`);
    expect(found.statusCode).toBe(200);
    expect(found.json()).toEqual({ connection_id: c.id, type: 'oidc' });
    expect((await discover(`x@${domain}`, a.tenant.id)).statusCode).toBe(200);
    expect((await discover(`x@${domain}`, b.tenant.id)).statusCode).toBe(404);
    expect((await discover('not-an-email')).statusCode).toBe(422);

    // a domain belongs to one tenant: B may claim it, but never verify it once A did
    const cb = await connection(adminB);
    expect(
      (
        await app.inject({
          method: 'POST',
          url: `/api/v1/sso/connections/${cb.id}/domains`,
          headers: bearer(adminB),
          payload: { domain },
        })
      ).statusCode,
    ).toBe(201);
    dns.txt.set(`_massacorp-verify.${domain}`, [cb.domain_token]);
    const taken = await verify(adminB, cb.id, domain);
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error).toBe('SSO_DOMAIN_TAKEN');
    expect((await discover(`x@${domain}`)).json().connection_id).toBe(c.id);

    // disabled connection: no discovery
    await app.inject({
      method: 'PATCH',
      url: `/api/v1/sso/connections/${c.id}`,
      headers: bearer(adminA),
      payload: { enabled: false },
    });
    expect((await discover(`x@${domain}`)).statusCode).toBe(404);

    // removal
    expect(
      (
        await app.inject({
          method: 'DELETE',
          url: `/api/v1/sso/connections/${c.id}/domains/${domain}`,
          headers: bearer(adminA),
        })
      ).statusCode,
    ).toBe(200);
    expect(
      (
        await app.inject({
          method: 'DELETE',
          url: `/api/v1/sso/connections/${c.id}/domains/${domain}`,
          headers: bearer(adminA),
        })
      ).statusCode,
    ).toBe(404);
  });

  it('only platform operators may mark a domain verified directly', async () => {
    const domain = `${uniq('op')}.example`;
    const c = await connection(adminA, { domains: [domain] });
    const url = `/api/v1/sso/platform/connections/${c.id}/domains/${domain}/verify`;
    expect((await app.inject({ method: 'POST', url, headers: bearer(adminA) })).statusCode).toBe(403);
    const platform = await newTenant(app);
    await app.ctx.database.withSystem((tx) =>
      tx.execute(sql`update tenants set is_platform = true where id = ${platform.tenant.id}`),
    );
    try {
      const op = await login(app, platform.tenant.id, platform.admin.email);
      const res = await app.inject({ method: 'POST', url, headers: bearer(op) });
      expect(res.statusCode).toBe(200);
      expect(res.json().verified).toBe(true);
      expect(
        (
          await app.inject({
            method: 'POST',
            url: `/api/v1/sso/platform/connections/${c.id}/domains/other.example/verify`,
            headers: bearer(op),
          })
        ).statusCode,
      ).toBe(404);
    } finally {
      await app.ctx.database.withSystem((tx) =>
        tx.execute(sql`update tenants set is_platform = false where id = ${platform.tenant.id}`),
      );
    }
  });

  it('a verified domain of an sso_required connection refuses password sign-in (other domains and platform tenants unaffected)', async () => {
    const domain = `${uniq('req')}.example`;
    const c = await connection(adminA, { domains: [domain], sso_required: true });
    dns.txt.set(`_massacorp-verify.${domain}`, [c.domain_token]);
    const user = await newUser(app, a.tenant.id, { email: `eve@${domain}` });
    // before verification the password still works
    await login(app, a.tenant.id, user.email);
    expect((await verify(adminA, c.id, domain)).statusCode).toBe(200);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'x-tenant-id': String(a.tenant.id) },
      payload: { email: user.email, password: PASSWORD },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toBe('SSO_REQUIRED');
    // same answer for an unknown address of the domain, and with a wrong password: nothing to learn
    const ghost = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'x-tenant-id': String(a.tenant.id) },
      payload: { email: `nobody@${domain}`, password: 'wrong' },
    });
    expect(ghost.json().error).toBe('SSO_REQUIRED');
    const failed = await app.ctx.database.withTenant(
      a.tenant.id,
      async (tx) =>
        (
          await tx.execute<{ n: string }>(
            sql`select count(*)::text n from audit_log where tenant_id = ${a.tenant.id} and event_type = 'auth.login_failed' and metadata->>'reason' = 'sso_required'`,
          )
        ).rows[0]!.n,
    );
    expect(Number(failed)).toBeGreaterThanOrEqual(2);
    // the admin of another domain still signs in
    await login(app, a.tenant.id, a.admin.email);
    // turning the flag off restores password sign-in
    await app.inject({
      method: 'PATCH',
      url: `/api/v1/sso/connections/${c.id}`,
      headers: bearer(adminA),
      payload: { sso_required: false },
    });
    await login(app, a.tenant.id, user.email);
    // the platform tenant is never locked out by SSO
    await app.inject({
      method: 'PATCH',
      url: `/api/v1/sso/connections/${c.id}`,
      headers: bearer(adminA),
      payload: { sso_required: true },
    });
    await app.ctx.database.withSystem((tx) =>
      tx.execute(sql`update tenants set is_platform = true where id = ${a.tenant.id}`),
    );
    try {
      await login(app, a.tenant.id, user.email);
    } finally {
      await app.ctx.database.withSystem((tx) =>
        tx.execute(sql`update tenants set is_platform = false where id = ${a.tenant.id}`),
      );
    }
  });
  it('a verified domain of an sso_required connection refuses self-registration too (403 SSO_REQUIRED, audited, nothing created)', async () => {
    const open = await newTenant(app, { settings: { self_registration: true } });
    const other = await newTenant(app, { settings: { self_registration: true } });
    const admin = await login(app, open.tenant.id, open.admin.email);
    const domain = `${uniq('reg')}.example`;
    const register = (tenantId: number, email: string) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        headers: { 'x-tenant-id': String(tenantId) },
        payload: { email, password: PASSWORD, first_name: 'Jean', last_name: 'Dupont' },
      });
    const usersOf = (tenantId: number) =>
      app.ctx.database.withTenant(tenantId, async (tx) =>
        (
          await tx.execute<{ email: string }>(
            sql`select email from users where tenant_id = ${tenantId} and email like ${`%@${domain}`}`,
          )
        ).rows.map((r) => r.email),
      );

    const c = await connection(admin, { domains: [domain], sso_required: true });
    dns.txt.set(`_massacorp-verify.${domain}`, [c.domain_token]);
    // Not verified yet: the domain is not the tenant's, registration is open.
    expect((await register(open.tenant.id, `early@${domain}`)).statusCode).toBe(201);
    expect((await verify(admin, c.id, domain)).statusCode).toBe(200);

    for (const email of [`new@${domain}`, `NEW2@${domain.toUpperCase()}`, `early@${domain}`]) {
      const res = await register(open.tenant.id, email);
      // An existing address gets the same answer as a new one (not 409): nothing to learn about accounts.
      expect(res.statusCode, email).toBe(403);
      expect(res.json()).toMatchObject({ error: 'SSO_REQUIRED', details: { connection_id: c.id } });
    }
    expect(await usersOf(open.tenant.id)).toEqual([`early@${domain}`]);
    const audited = await app.ctx.database.withTenant(
      open.tenant.id,
      async (tx) =>
        (
          await tx.execute<{ n: string }>(
            sql`select count(*)::text n from audit_log where tenant_id = ${open.tenant.id} and event_type = 'auth.register_failed' and metadata->>'reason' = 'sso_required' and success = false`,
          )
        ).rows[0]!.n,
    );
    expect(Number(audited)).toBe(3);

    // Another domain of the same tenant, and the same domain in another tenant, still register.
    expect((await register(open.tenant.id, `${uniq('u')}@elsewhere.example`)).statusCode).toBe(201);
    expect((await register(other.tenant.id, `new@${domain}`)).statusCode).toBe(201);
    // Turning sso_required off (or disabling the connection) reopens registration.
    const patch = (payload: Record<string, unknown>) =>
      app.inject({
        method: 'PATCH',
        url: `/api/v1/sso/connections/${c.id}`,
        headers: bearer(admin),
        payload,
      });
    expect((await patch({ enabled: false })).statusCode).toBe(200);
    expect((await register(open.tenant.id, `late@${domain}`)).statusCode).toBe(201);
    expect((await patch({ enabled: true })).statusCode).toBe(200);
    expect((await register(open.tenant.id, `later@${domain}`)).statusCode).toBe(403);
    expect((await patch({ sso_required: false })).statusCode).toBe(200);
    expect((await register(open.tenant.id, `later@${domain}`)).statusCode).toBe(201);
  });
});
