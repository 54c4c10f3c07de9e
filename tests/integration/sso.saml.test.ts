/**
 * SAML sign-in over HTTP (API.md §17): authorize → (the test signs the IdP's Response, InResponseTo = the id of
 * the AuthnRequest in auth_url) → POST /sso/saml/acs → redirect with ?code= → POST /sso/token → /auth/me; and
 * every refusal at the HTTP level: 4xx (or ?error= on the redirect), nothing written, an audit record.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import {
  bearer,
  login,
  newTenant,
  newUser,
  type TestTenant,
  type Tokens,
  uniq,
} from '../helpers/factories.js';
import { postAcs } from '../helpers/saml-acs.js';
import {
  buildResponse,
  makeIdpKeys,
  parseAuthnRequestUrl,
  type ResponseOptions,
  type TestIdpKeys,
} from '../helpers/saml-idp.js';

let app: FastifyInstance;
let a: TestTenant;
let b: TestTenant;
let adminA: Tokens;
let adminB: Tokens;
let idp: TestIdpKeys;
let idpB: TestIdpKeys;
let attacker: TestIdpKeys;
let connA: { id: string };
let connB: { id: string };

const REDIRECT = 'https://app.example.com/sso/done';
const IDP_ENTITY = 'http://www.okta.com/exk-test-a';
const IDP_SSO = 'https://idp.example.com/app/sso/saml';
const acsUrl = () => `${app.ctx.config.publicUrl}/api/v1/sso/saml/acs`;
const metadataUrl = (id: string) => `${app.ctx.config.publicUrl}/api/v1/sso/saml/${id}/metadata`;

async function createSamlConnection(admin: Tokens, cert: string, over: Record<string, unknown> = {}) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/sso/connections',
    headers: bearer(admin),
    payload: {
      type: 'saml',
      name: uniq('saml'),
      redirect_uris: [REDIRECT],
      saml: { idp_entity_id: IDP_ENTITY, idp_sso_url: IDP_SSO, idp_certificate: cert },
      ...over,
    },
  });
  if (res.statusCode !== 201) throw new Error(`connection: ${res.statusCode} ${res.body}`);
  return res.json() as { id: string };
}

async function authorize(tenantId: number, connectionId: string) {
  const res = await app.inject({
    method: 'GET',
    url: `/api/v1/sso/connections/${connectionId}/authorize?redirect_uri=${encodeURIComponent(REDIRECT)}`,
    headers: { 'x-tenant-id': String(tenantId) },
  });
  expect(res.statusCode, res.body).toBe(200);
  const { auth_url, state } = res.json() as { auth_url: string; state: string };
  const request = parseAuthnRequestUrl(auth_url);
  expect(request.relayState).toBe(state);
  return { authUrl: auth_url, state, requestId: request.id, request };
}

function idpResponse(connectionId: string, requestId: string | null, o: Partial<ResponseOptions> = {}) {
  return buildResponse(idp, {
    issuer: IDP_ENTITY,
    audience: metadataUrl(connectionId),
    acsUrl: acsUrl(),
    inResponseTo: requestId,
    ...o,
  });
}

function redirectParams(location: string | undefined) {
  expect(location).toBeDefined();
  const url = new URL(location!);
  expect(`${url.origin}${url.pathname}`).toBe(REDIRECT);
  return url.searchParams;
}

async function exchange(code: string) {
  return app.inject({ method: 'POST', url: '/api/v1/sso/token', payload: { code } });
}

async function auditRows(tenantId: number, eventType: string) {
  return app.ctx.database.withTenant(tenantId, async (tx) => {
    const r = await tx.execute<{
      metadata: Record<string, unknown>;
      success: boolean;
      resource_id: string | null;
    }>(
      `select metadata, success, resource_id from audit_log where tenant_id = ${tenantId} and event_type = '${eventType}' order by seq` as never,
    );
    return r.rows;
  });
}

async function usersWithEmail(tenantId: number, email: string): Promise<number> {
  return app.ctx.database.withTenant(tenantId, async (tx) => {
    const r = await tx.execute<{ n: string }>(
      `select count(*)::text as n from users where tenant_id = ${tenantId} and email = '${email}'` as never,
    );
    return Number(r.rows[0]!.n);
  });
}

async function identitiesOf(tenantId: number, subject: string): Promise<number> {
  return app.ctx.database.withTenant(tenantId, async (tx) => {
    const r = await tx.execute<{ n: string }>(
      `select count(*)::text as n from external_identities where tenant_id = ${tenantId} and subject = '${subject}'` as never,
    );
    return Number(r.rows[0]!.n);
  });
}

beforeAll(async () => {
  app = await createTestApp();
  [idp, idpB, attacker] = await Promise.all([
    makeIdpKeys(),
    makeIdpKeys('idp-b.example'),
    makeIdpKeys('evil.example'),
  ]);
  a = await newTenant(app);
  b = await newTenant(app);
  adminA = await login(app, a.tenant.id, a.admin.email);
  adminB = await login(app, b.tenant.id, b.admin.email);
  connA = await createSamlConnection(adminA, idp.certificate);
  // Tenant B uses the same IdP entity id (another Okta org can't, but a tenant admin may type anything).
  connB = await createSamlConnection(adminB, idpB.certificate);
});
afterAll(async () => {
  await app.close();
});

describe('issue 13 sso: SAML SP metadata and connection checks', () => {
  it('serves the SP metadata of a SAML connection publicly, as XML', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/sso/saml/${connA.id}/metadata` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('xml');
    expect(res.body).toContain(`entityID="${metadataUrl(connA.id)}"`);
    expect(res.body).toContain(`Location="${acsUrl()}"`);
    expect(res.body).toContain('urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST');
    expect(res.body).toContain('WantAssertionsSigned="true"');
  });

  it('metadata: unknown id 404, malformed id 422, an OIDC connection 404', async () => {
    expect(
      (
        await app.inject({
          method: 'GET',
          url: '/api/v1/sso/saml/00000000-0000-4000-8000-000000000000/metadata',
        })
      ).statusCode,
    ).toBe(404);
    const bad = await app.inject({ method: 'GET', url: '/api/v1/sso/saml/not-a-uuid/metadata' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error).toBe('VALIDATION_ERROR');
    const oidc = await app.inject({
      method: 'POST',
      url: '/api/v1/sso/connections',
      headers: bearer(adminA),
      payload: {
        type: 'oidc',
        name: uniq('oidc'),
        redirect_uris: [REDIRECT],
        oidc: { issuer: 'https://idp.example.com', client_id: 'c', client_secret: 'a-secret-of-some-length' },
      },
    });
    expect(oidc.statusCode).toBe(201);
    expect(
      (await app.inject({ method: 'GET', url: `/api/v1/sso/saml/${oidc.json().id}/metadata` })).statusCode,
    ).toBe(404);
  });

  it('idp_sso_url must be https (a javascript: or plain http URL is a 422)', async () => {
    for (const url of ['javascript:alert(1)', 'http://idp.example.com/sso', 'ftp://idp.example.com/sso']) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/sso/connections',
        headers: bearer(adminA),
        payload: {
          type: 'saml',
          name: uniq('saml'),
          redirect_uris: [REDIRECT],
          saml: { idp_entity_id: IDP_ENTITY, idp_sso_url: url, idp_certificate: idp.certificate },
        },
      });
      expect(res.statusCode, url).toBe(422);
      expect(JSON.stringify(res.json().details), url).toContain('idp_sso_url');
    }
    const patch = await app.inject({
      method: 'PATCH',
      url: `/api/v1/sso/connections/${connA.id}`,
      headers: bearer(adminA),
      payload: { saml: { idp_sso_url: 'javascript:alert(1)' } },
    });
    expect(patch.statusCode).toBe(422);
  });

  it('a connection whose idp_certificate is not an X.509 certificate is a 422', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/sso/connections',
      headers: bearer(adminA),
      payload: {
        type: 'saml',
        name: uniq('saml'),
        redirect_uris: [REDIRECT],
        saml: { idp_entity_id: IDP_ENTITY, idp_sso_url: IDP_SSO, idp_certificate: 'not a certificate' },
      },
    });
    expect(res.statusCode).toBe(422);
    expect(JSON.stringify(res.json().details)).toContain('idp_certificate');
  });
});

describe('issue 13 sso: SAML SP-initiated sign-in over HTTP', () => {
  it('authorize → signed Response → ACS → ?code= → /sso/token → /auth/me (JIT user in the tenant)', async () => {
    const { authUrl, state, requestId, request } = await authorize(a.tenant.id, connA.id);
    expect(authUrl.startsWith(`${IDP_SSO}?SAMLRequest=`)).toBe(true);
    expect(request.xml).toContain(`AssertionConsumerServiceURL="${acsUrl()}"`);
    const email = `${uniq('jit')}@corp.example`;
    const res = await postAcs(
      app,
      idpResponse(connA.id, requestId, { nameId: email, attributes: { firstName: 'Jit', lastName: 'User' } }),
      state,
    );
    expect(res.statusCode, res.body).toBe(302);
    const params = redirectParams(res.headers.location as string);
    expect(params.get('error')).toBeNull();
    const code = params.get('code')!;
    expect(code).toBeTruthy();

    const tokens = await exchange(code);
    expect(tokens.statusCode, tokens.body).toBe(200);
    const me = await app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: bearer(tokens.json().access_token),
    });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ email, tenant_id: a.tenant.id });
    const names = await app.ctx.database.withTenant(
      a.tenant.id,
      async (tx) =>
        (
          await tx.execute<{ f: string; l: string }>(
            `select first_name as f, last_name as l from users where tenant_id = ${a.tenant.id} and email = '${email}'` as never,
          )
        ).rows,
    );
    expect(names).toEqual([{ f: 'Jit', l: 'User' }]);
    expect((await exchange(code)).statusCode).toBe(400); // the code is single use

    const ok = await auditRows(a.tenant.id, 'sso.login_succeeded');
    expect(ok.some((r) => r.resource_id === connA.id && r.metadata.subject === email)).toBe(true);

    // The same person again: the same user, found by (connection, issuer, subject).
    const again = await authorize(a.tenant.id, connA.id);
    const second = await postAcs(app, idpResponse(connA.id, again.requestId, { nameId: email }), again.state);
    const t2 = await exchange(redirectParams(second.headers.location as string).get('code')!);
    const me2 = await app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: bearer(t2.json().access_token),
    });
    expect(me2.json().id).toBe(me.json().id);
    expect(await usersWithEmail(a.tenant.id, email)).toBe(1);
  });

  type Variant = [string, (connId: string, requestId: string) => string, string];
  const variants: Variant[] = [
    [
      'tampered',
      (c, r) => idpResponse(c, r, { tamperNameId: 'victim@corp.example' }),
      'SAML_SIGNATURE_INVALID',
    ],
    ['unsigned', (c, r) => idpResponse(c, r, { unsigned: true }), 'SAML_SIGNATURE_INVALID'],
    ['signed by another key', (c, r) => idpResponse(c, r, { signWith: attacker }), 'SAML_SIGNATURE_INVALID'],
    [
      'wrong audience',
      (c, r) => idpResponse(c, r, { audience: 'https://other-sp.example' }),
      'SAML_AUDIENCE_MISMATCH',
    ],
    [
      'wrong issuer',
      (c, r) => idpResponse(c, r, { issuer: 'https://evil-idp.example' }),
      'SAML_ISSUER_MISMATCH',
    ],
    [
      'expired',
      (c, r) => idpResponse(c, r, { now: Date.now() - 20 * 60_000, lifetimeSeconds: 300 }),
      'SAML_ASSERTION_EXPIRED',
    ],
    ['IdP-initiated (no InResponseTo)', (c) => idpResponse(c, null), 'SAML_IN_RESPONSE_TO_MISSING'],
    [
      'an unknown InResponseTo',
      (c) => idpResponse(c, '_0123456789abcdef0123456789abcdef01234567'),
      'SAML_UNKNOWN_REQUEST',
    ],
    [
      'wrapping: an unsigned assertion next to the signed one',
      (c, r) => idpResponse(c, r, { injectUnsignedAssertion: 'victim@corp.example' }),
      'SAML_SIGNATURE_INVALID',
    ],
    [
      'wrapping: the signed assertion moved into Extensions',
      (c, r) => idpResponse(c, r, { wrapInExtensions: 'victim@corp.example' }),
      'SAML_SIGNATURE_INVALID',
    ],
  ];

  it.each(variants)(
    'refuses a response that is %s: ?error=, no code, nothing written, audited',
    async (_name, make, code) => {
      const { state, requestId } = await authorize(a.tenant.id, connA.id);
      const before = (await auditRows(a.tenant.id, 'sso.login_failed')).length;
      const res = await postAcs(app, make(connA.id, requestId), state);
      expect(res.statusCode, res.body).toBe(302);
      const params = redirectParams(res.headers.location as string);
      expect(params.get('code')).toBeNull();
      expect(params.get('error')).toBe(code);
      expect(await usersWithEmail(a.tenant.id, 'victim@corp.example')).toBe(0);
      expect(await usersWithEmail(a.tenant.id, 'alice@example.com')).toBe(0);
      const failed = await auditRows(a.tenant.id, 'sso.login_failed');
      expect(failed.length).toBe(before + 1);
      expect(failed.at(-1)).toMatchObject({ success: false, resource_id: connA.id });
      expect(failed.at(-1)!.metadata.error).toBe(code);
    },
  );

  it.each(variants)(
    'as JSON, a response that is %s is a 4xx envelope, audited, nothing written',
    async (_name, make, code) => {
      const { state, requestId } = await authorize(a.tenant.id, connA.id);
      const before = (await auditRows(a.tenant.id, 'sso.login_failed')).length;
      const res = await postAcs(app, make(connA.id, requestId), state, { accept: 'application/json' });
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      expect(res.json()).toMatchObject({ error: code });
      expect(res.headers.location).toBeUndefined();
      expect(await usersWithEmail(a.tenant.id, 'victim@corp.example')).toBe(0);
      const failed = await auditRows(a.tenant.id, 'sso.login_failed');
      expect(failed.length).toBe(before + 1);
      expect(failed.at(-1)!.metadata.error).toBe(code);
    },
  );

  it('a JSON client gets the error envelope (4xx) instead of the redirect', async () => {
    const { state, requestId } = await authorize(a.tenant.id, connA.id);
    const res = await postAcs(app, idpResponse(connA.id, requestId, { signWith: attacker }), state, {
      accept: 'application/json',
    });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: 'SAML_SIGNATURE_INVALID' });
    expect(res.json().request_id).toBeTruthy();
  });

  it('a replayed response is refused (sequentially and as parallel posts: exactly one code)', async () => {
    const email = `${uniq('replay')}@corp.example`;
    const first = await authorize(a.tenant.id, connA.id);
    const response = idpResponse(connA.id, first.requestId, { nameId: email });
    const ok = await postAcs(app, response, first.state);
    expect(redirectParams(ok.headers.location as string).get('code')).toBeTruthy();
    const replay = await postAcs(app, response, first.state);
    expect(replay.statusCode).toBe(302);
    expect(redirectParams(replay.headers.location as string).get('error')).toBe('SAML_REPLAY');

    const race = await authorize(a.tenant.id, connA.id);
    const raced = idpResponse(connA.id, race.requestId, { nameId: email });
    const results = await Promise.all([1, 2, 3, 4].map(() => postAcs(app, raced, race.state)));
    const codes = results.map((r) =>
      r.statusCode === 302 ? redirectParams(r.headers.location as string).get('code') : null,
    );
    expect(codes.filter(Boolean)).toHaveLength(1);
    expect(await usersWithEmail(a.tenant.id, email)).toBe(1);
  });

  it('two replicas (one database, one store) receiving the same response at once: exactly one code', async () => {
    const replica = await createTestApp({}, app);
    try {
      for (let round = 0; round < 3; round++) {
        const flow = await authorize(a.tenant.id, connA.id);
        const response = idpResponse(connA.id, flow.requestId, { nameId: `${uniq('rep')}@corp.example` });
        const form = new URLSearchParams({ SAMLResponse: response, RelayState: flow.state }).toString();
        const post = (target: FastifyInstance) =>
          target.inject({
            method: 'POST',
            url: '/api/v1/sso/saml/acs',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            payload: form,
          });
        const results = await Promise.all([post(app), post(replica), post(app), post(replica)]);
        const codes = results.map((r) =>
          r.statusCode === 302 ? new URL(r.headers.location as string).searchParams.get('code') : null,
        );
        expect(codes.filter(Boolean)).toHaveLength(1);
        for (const r of results) expect(r.statusCode).toBeLessThan(500);
      }
    } finally {
      await replica.close();
    }
  });

  it('an unknown RelayState is a 4xx envelope (no flow, no redirect target), audited nowhere it could leak', async () => {
    const res = await postAcs(app, idpResponse(connA.id, '_x'), 'no-such-state');
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('SAML_UNKNOWN_REQUEST');
    expect(res.headers.location).toBeUndefined();
  });

  it('malformed bodies: missing SAMLResponse 422, not base64 → ?error=SAML_RESPONSE_INVALID, too large 413', async () => {
    const missing = await app.inject({
      method: 'POST',
      url: '/api/v1/sso/saml/acs',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'RelayState=x',
    });
    expect(missing.statusCode).toBe(422);
    const { state } = await authorize(a.tenant.id, connA.id);
    const junk = await postAcs(app, '%%%not-base64%%%', state);
    expect(redirectParams(junk.headers.location as string).get('error')).toBe('SAML_RESPONSE_INVALID');
    const huge = await postAcs(app, 'A'.repeat(700 * 1024), 'x');
    expect(huge.statusCode).toBe(413);
  });
});

describe('issue 13 sso: SAML and tenants', () => {
  it('an IdP email does not link to an existing local account without a verified domain (SAML has no verified claim)', async () => {
    const email = `${uniq('local')}@corp.example`;
    const local = await newUser(app, a.tenant.id, { email });
    const { state, requestId } = await authorize(a.tenant.id, connA.id);
    const res = await postAcs(app, idpResponse(connA.id, requestId, { nameId: email }), state);
    const params = redirectParams(res.headers.location as string);
    expect(params.get('code')).toBeNull();
    expect(params.get('error')).toBe('SSO_LINK_REFUSED');
    expect(await identitiesOf(a.tenant.id, email)).toBe(0);
    expect(await usersWithEmail(a.tenant.id, email)).toBe(1);
    const failed = await auditRows(a.tenant.id, 'sso.login_failed');
    expect(failed.at(-1)!.metadata.error).toBe('SSO_LINK_REFUSED');
    expect(local.id).toBeGreaterThan(0);
  });

  it('a connection of tenant A never signs in a user of tenant B', async () => {
    // B has a (verified) user with this address; A's IdP asserts it.
    const shared = `${uniq('shared')}@corp.example`;
    const userB = await newUser(app, b.tenant.id, { email: shared });
    const { state, requestId } = await authorize(a.tenant.id, connA.id);
    const res = await postAcs(app, idpResponse(connA.id, requestId, { nameId: shared }), state);
    const tokens = await exchange(redirectParams(res.headers.location as string).get('code')!);
    const me = await app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: bearer(tokens.json().access_token),
    });
    expect(me.json().tenant_id).toBe(a.tenant.id);
    expect(me.json().id).not.toBe(userB.id);
    expect(await identitiesOf(b.tenant.id, shared)).toBe(0);
    // B's admin cannot use B's header to run A's connection, nor read its metadata as B's.
    const cross = await app.inject({
      method: 'GET',
      url: `/api/v1/sso/connections/${connA.id}/authorize?redirect_uri=${encodeURIComponent(REDIRECT)}`,
      headers: { 'x-tenant-id': String(b.tenant.id) },
    });
    expect(cross.statusCode).toBe(404);
    expect(
      (
        await app.inject({
          method: 'GET',
          url: `/api/v1/sso/connections/${connA.id}`,
          headers: bearer(adminB),
        })
      ).statusCode,
    ).toBe(404);
  });

  it("a response for tenant B's flow signed by A's IdP (same issuer) is refused: the certificate is pinned per connection", async () => {
    const { state, requestId } = await authorize(b.tenant.id, connB.id);
    const res = await postAcs(app, idpResponse(connB.id, requestId), state); // signed with A's key
    expect(redirectParams(res.headers.location as string).get('error')).toBe('SAML_SIGNATURE_INVALID');
    const failed = await auditRows(b.tenant.id, 'sso.login_failed');
    expect(failed.at(-1)).toMatchObject({ resource_id: connB.id });
  });

  it("A's signed response posted with B's RelayState is refused (it answers another request)", async () => {
    const flowA = await authorize(a.tenant.id, connA.id);
    const flowB = await authorize(b.tenant.id, connB.id);
    const res = await postAcs(app, idpResponse(connA.id, flowA.requestId), flowB.state);
    expect(redirectParams(res.headers.location as string).get('error')).toBe('SAML_IN_RESPONSE_TO_MISMATCH');
  });
});

describe('issue 13 sso: SAML ACS rate limit', () => {
  it('the ACS is in the login bucket: past the limit an address gets 429 before any validation', async () => {
    const limited = await createTestApp({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_LOGIN: '2' }, app);
    try {
      const codes: number[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await limited.inject({
          method: 'POST',
          url: '/api/v1/sso/saml/acs',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          payload: 'SAMLResponse=bm90LXNhbWw%3D&RelayState=unknown',
          remoteAddress: '192.0.2.91',
        });
        codes.push(res.statusCode);
      }
      expect(codes[0]).toBeGreaterThanOrEqual(400);
      expect(codes[0]).toBeLessThan(429);
      expect(codes[2]).toBe(429);
    } finally {
      await limited.close();
    }
  });
});
