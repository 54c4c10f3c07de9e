import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant, newUser, type TestTenant, type Tokens } from '../helpers/factories.js';
import { makeIdpKeys } from '../helpers/saml-idp.js';

let app: FastifyInstance;
let a: TestTenant;
let b: TestTenant;
let adminA: Tokens;
let adminB: Tokens;

const oidcBody = (over: Record<string, unknown> = {}) => ({
  type: 'oidc',
  name: `Okta ${Math.random().toString(36).slice(2, 8)}`,
  redirect_uris: ['https://app.example.com/sso/done'],
  oidc: { issuer: 'https://idp.example.com', client_id: 'client-1', client_secret: 'super-secret-value-123' },
  ...over,
});

async function audits(tenantId: number, eventType: string) {
  return app.ctx.database.withTenant(tenantId, async (tx) => {
    const r = await tx.execute<{ event_type: string; metadata: unknown; success: boolean }>(
      `select event_type, metadata, success from audit_log where tenant_id = ${tenantId} and event_type = '${eventType}' order by seq` as never,
    );
    return r.rows;
  });
}

beforeAll(async () => {
  app = await createTestApp();
  a = await newTenant(app);
  b = await newTenant(app);
  adminA = await login(app, a.tenant.id, a.admin.email);
  adminB = await login(app, b.tenant.id, b.admin.email);
});
afterAll(async () => {
  await app.close();
});

describe('issue 13 sso: connections CRUD', () => {
  it('creates, reads, lists, patches and deletes a connection; the secret is never returned; each change audited', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/sso/connections',
      headers: bearer(adminA),
      payload: oidcBody({ domains: ['Example.COM'] }),
    });
    expect(created.statusCode).toBe(201);
    const c = created.json();
    expect(c.oidc).toMatchObject({
      issuer: 'https://idp.example.com',
      client_id: 'client-1',
      has_client_secret: true,
    });
    // One callback per connection (issue 18 finding 1): PUBLIC_URL/api/v1/sso/oidc/callback/{id}.
    expect(c.oidc.callback_url).toBe(`${app.ctx.config.publicUrl}/api/v1/sso/oidc/callback/${c.id}`);
    expect(created.body).not.toContain('super-secret-value-123');
    expect(c.domains).toEqual([expect.objectContaining({ domain: 'example.com', verified: false })]);
    expect(c.domain_token).toMatch(/^massacorp-verify=/);

    const stored = await app.ctx.database.withTenant(
      a.tenant.id,
      async (tx) =>
        (
          await tx.execute<{ s: string }>(
            `select oidc_client_secret_sealed as s from sso_connections where id = '${c.id}'` as never,
          )
        ).rows[0]!.s,
    );
    expect(stored).toMatch(/^enc:v1:/);
    expect(stored).not.toContain('super-secret');

    const got = await app.inject({
      method: 'GET',
      url: `/api/v1/sso/connections/${c.id}`,
      headers: bearer(adminA),
    });
    expect(got.statusCode).toBe(200);
    expect(got.body).not.toContain('super-secret-value-123');
    const list = await app.inject({ method: 'GET', url: '/api/v1/sso/connections', headers: bearer(adminA) });
    expect(list.json().connections.map((x: { id: string }) => x.id)).toContain(c.id);

    const patched = await app.inject({
      method: 'PATCH',
      url: `/api/v1/sso/connections/${c.id}`,
      headers: bearer(adminA),
      payload: { enabled: false, oidc: { client_secret: 'another-secret-456' } },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json().enabled).toBe(false);
    expect(patched.body).not.toContain('another-secret-456');

    const del = await app.inject({
      method: 'DELETE',
      url: `/api/v1/sso/connections/${c.id}`,
      headers: bearer(adminA),
    });
    expect(del.statusCode).toBe(200);
    expect(
      (await app.inject({ method: 'GET', url: `/api/v1/sso/connections/${c.id}`, headers: bearer(adminA) }))
        .statusCode,
    ).toBe(404);

    for (const e of ['sso.connection_created', 'sso.connection_updated', 'sso.connection_deleted']) {
      const rows = await audits(a.tenant.id, e);
      expect(rows.length, e).toBeGreaterThan(0);
      expect(JSON.stringify(rows)).not.toContain('secret-');
    }
  });

  it('a SAML connection tells the URLs to register at the IdP: ACS and its own SP metadata (console copies them)', async () => {
    const idp = await makeIdpKeys();
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/sso/connections',
      headers: bearer(adminA),
      payload: {
        type: 'saml',
        name: `Entra ${Math.random().toString(36).slice(2, 8)}`,
        saml: {
          idp_entity_id: 'https://sts.example.net/abc/',
          idp_sso_url: 'https://login.example.net/abc/saml2',
          idp_certificate: idp.certificate,
        },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const c = created.json();
    const base = app.ctx.config.publicUrl;
    expect(c.oidc).toBeNull();
    expect(c.saml).toMatchObject({
      acs_url: `${base}/api/v1/sso/saml/acs`,
      metadata_url: `${base}/api/v1/sso/saml/${c.id}/metadata`,
      sp_entity_id: null,
    });
    const listed = (
      await app.inject({ method: 'GET', url: '/api/v1/sso/connections', headers: bearer(adminA) })
    ).json();
    expect(listed.connections.find((x: { id: string }) => x.id === c.id).saml.metadata_url).toBe(
      c.saml.metadata_url,
    );
  });

  it("another tenant's connection is a 404 for every route", async () => {
    const c = (
      await app.inject({
        method: 'POST',
        url: '/api/v1/sso/connections',
        headers: bearer(adminA),
        payload: oidcBody(),
      })
    ).json();
    for (const [method, url, payload] of [
      ['GET', `/api/v1/sso/connections/${c.id}`, undefined],
      ['PATCH', `/api/v1/sso/connections/${c.id}`, { enabled: false }],
      ['DELETE', `/api/v1/sso/connections/${c.id}`, undefined],
      ['GET', `/api/v1/sso/connections/${c.id}/domains`, undefined],
      ['POST', `/api/v1/sso/connections/${c.id}/domains`, { domain: 'b-steals.example' }],
      ['POST', `/api/v1/sso/connections/${c.id}/domains/b-steals.example/verify`, undefined],
      ['DELETE', `/api/v1/sso/connections/${c.id}/domains/b-steals.example`, undefined],
    ] as const) {
      const res = await app.inject({ method, url, headers: bearer(adminB), payload });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().error).toBe('NOT_FOUND');
    }
    const listB = await app.inject({
      method: 'GET',
      url: '/api/v1/sso/connections',
      headers: bearer(adminB),
    });
    expect(listB.json().connections.map((x: { id: string }) => x.id)).not.toContain(c.id);
    // and with the header of tenant B, authorize does not find it either
    const auth = await app.inject({
      method: 'GET',
      url: `/api/v1/sso/connections/${c.id}/authorize?redirect_uri=${encodeURIComponent('https://app.example.com/sso/done')}`,
      headers: { 'x-tenant-id': String(b.tenant.id) },
    });
    expect(auth.statusCode).toBe(404);
  });

  it('validates input: 422 for bad fields, unknown fields, malformed ids; 400/401/403 as usual', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [oidcBody({ oidc: undefined }), 'body.oidc'],
      [oidcBody({ redirect_uris: ['javascript:alert(1)'] }), 'body.redirect_uris'],
      [oidcBody({ redirect_uris: ['http://evil.example/cb'] }), 'body.redirect_uris.0'],
      [
        oidcBody({ oidc: { issuer: 'http://idp.example.com', client_id: 'x', client_secret: 'y' } }),
        'body.oidc.issuer',
      ],
      [oidcBody({ extra: 1 }), 'body'],
      [oidcBody({ default_role: 'no-such-role' }), 'body.default_role'],
      [
        oidcBody({ saml: { idp_entity_id: 'x', idp_sso_url: 'https://x.example', idp_certificate: 'x' } }),
        'body.saml',
      ],
      [oidcBody({ domains: ['not a domain'] }), 'body.domains'],
    ];
    for (const [payload, field] of cases) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/sso/connections',
        headers: bearer(adminA),
        payload,
      });
      expect(res.statusCode, JSON.stringify(payload)).toBe(422);
      expect(res.json().error).toBe('VALIDATION_ERROR');
      expect(JSON.stringify(res.json().details), field).toContain(field.split('.').slice(0, 2).join('.'));
    }
    expect(
      (
        await app.inject({
          method: 'GET',
          url: '/api/v1/sso/connections/not-a-uuid',
          headers: bearer(adminA),
        })
      ).statusCode,
    ).toBe(422);
    expect(
      (await app.inject({ method: 'POST', url: '/api/v1/sso/connections', payload: { bad: 1 } })).statusCode,
    ).toBe(401);
    const member = await newUser(app, a.tenant.id, { roles: ['member'] });
    const mt = await login(app, a.tenant.id, member.email);
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/sso/connections', headers: bearer(mt) })).statusCode,
    ).toBe(403);
    const dup = oidcBody();
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/api/v1/sso/connections',
          headers: bearer(adminA),
          payload: dup,
        })
      ).statusCode,
    ).toBe(201);
    const again = await app.inject({
      method: 'POST',
      url: '/api/v1/sso/connections',
      headers: bearer(adminA),
      payload: dup,
    });
    expect(again.statusCode).toBe(409);
  });

  it('a manager (sso.read only) cannot write, and owner is never a default role', async () => {
    const mgr = await newUser(app, a.tenant.id, { roles: ['manager'] });
    const t = await login(app, a.tenant.id, mgr.email);
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/sso/connections', headers: bearer(t) })).statusCode,
    ).toBe(200);
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/api/v1/sso/connections',
          headers: bearer(t),
          payload: oidcBody(),
        })
      ).statusCode,
    ).toBe(403);
    const adm = await newUser(app, a.tenant.id, { roles: ['admin'] });
    const at = await login(app, a.tenant.id, adm.email);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/sso/connections',
      headers: bearer(at),
      payload: oidcBody({ default_role: 'owner' }),
    });
    expect(res.statusCode).toBe(422);
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/api/v1/sso/connections',
          headers: bearer(at),
          payload: oidcBody({ default_role: 'viewer' }),
        })
      ).statusCode,
    ).toBe(201);
  });
});
