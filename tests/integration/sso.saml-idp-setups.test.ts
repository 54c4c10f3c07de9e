/**
 * Issue 19, SAML as identity providers really set it up, over HTTP: a connection configured from the IdP's metadata
 * (pasted, or fetched from a URL and refreshed after the IdP rotated its key), sign-in with the signature on the
 * Response, on the Assertion or both, and with an encrypted assertion, attribute names as Shibboleth sends them, a
 * missing email, and "test connection" (claims shown to the admin, nobody created). Each one over the real routes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant, type TestTenant, type Tokens, uniq } from '../helpers/factories.js';
import { acsOutcome, postAcs } from '../helpers/saml-acs.js';
import {
  buildEncryptedResponse,
  buildResponse,
  certBody,
  encryptionCertificateOf,
  idpMetadataXml,
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
let nextIdp: TestIdpKeys;
let attacker: TestIdpKeys;
let metadataServer: Server;
/** What the IdP's metadata URL serves (the test changes it to roll the IdP's key). */
let served = '';

const REDIRECT = 'https://app.example.com/sso/done';
const IDP_ENTITY = 'https://idp.uni.example/idp/shibboleth';
const IDP_SSO = 'https://idp.uni.example/idp/profile/SAML2/Redirect/SSO';
const acsUrl = () => `${app.ctx.config.publicUrl}/api/v1/sso/saml/acs`;
const audienceOf = (id: string) => `${app.ctx.config.publicUrl}/api/v1/sso/saml/${id}/metadata`;
const metadataUrl = () =>
  `http://127.0.0.1:${(metadataServer.address() as AddressInfo).port}/idp/metadata.xml`;

async function createConnection(
  admin: Tokens,
  saml: Record<string, unknown>,
  over: Record<string, unknown> = {},
) {
  return app.inject({
    method: 'POST',
    url: '/api/v1/sso/connections',
    headers: bearer(admin),
    payload: { type: 'saml', name: uniq('saml'), redirect_uris: [REDIRECT], saml, ...over },
  });
}

async function authorize(tenantId: number, connectionId: string) {
  const res = await app.inject({
    method: 'GET',
    url: `/api/v1/sso/connections/${connectionId}/authorize?redirect_uri=${encodeURIComponent(REDIRECT)}`,
    headers: { 'x-tenant-id': String(tenantId) },
  });
  expect(res.statusCode, res.body).toBe(200);
  const { auth_url, state } = res.json() as { auth_url: string; state: string };
  return { state, requestId: parseAuthnRequestUrl(auth_url).id };
}

const respond = (
  connectionId: string,
  requestId: string,
  o: Partial<ResponseOptions> = {},
): ResponseOptions => ({
  issuer: IDP_ENTITY,
  audience: audienceOf(connectionId),
  acsUrl: acsUrl(),
  inResponseTo: requestId,
  ...o,
});

async function count(tenantId: number, sql: string): Promise<number> {
  return app.ctx.database.withTenant(tenantId, async (tx) => {
    const r = await tx.execute<{ n: string }>(sql as never);
    return Number(r.rows[0]!.n);
  });
}
const usersWithEmail = (tenantId: number, email: string) =>
  count(
    tenantId,
    `select count(*)::text as n from users where tenant_id = ${tenantId} and email = '${email}'`,
  );
const auditCount = (tenantId: number, event: string, resourceId: string) =>
  count(
    tenantId,
    `select count(*)::text as n from audit_log where tenant_id = ${tenantId} and event_type = '${event}' and resource_id = '${resourceId}'`,
  );

beforeAll(async () => {
  app = await createTestApp();
  [idp, nextIdp, attacker] = await Promise.all([
    makeIdpKeys('idp.uni.example'),
    makeIdpKeys('next.idp.uni.example'),
    makeIdpKeys('evil.example'),
  ]);
  a = await newTenant(app);
  b = await newTenant(app);
  adminA = await login(app, a.tenant.id, a.admin.email);
  adminB = await login(app, b.tenant.id, b.admin.email);
  served = idpMetadataXml({ entityId: IDP_ENTITY, ssoUrl: IDP_SSO, certificates: [idp.certificate] });
  metadataServer = createServer((req, res) => {
    if (req.url !== '/idp/metadata.xml') return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(served);
  });
  await new Promise<void>((resolve) => metadataServer.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await new Promise((resolve) => metadataServer.close(resolve));
  await app.close();
});

describe('issue 19 SAML: connections from IdP metadata', () => {
  it('pasted metadata fills entity id, SSO URL and certificate; fields given beside it win', async () => {
    const xml = idpMetadataXml({ entityId: IDP_ENTITY, ssoUrl: IDP_SSO, certificates: [idp.certificate] });
    const res = await createConnection(adminA, { idp_metadata_xml: xml });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().saml).toMatchObject({
      idp_entity_id: IDP_ENTITY,
      idp_sso_url: IDP_SSO,
      idp_certificate: certBody(idp.certificate),
      idp_certificate_next: null,
      idp_metadata_url: null,
    });
    expect(res.json().saml).not.toHaveProperty('idp_metadata_xml');
    const overridden = await createConnection(adminA, {
      idp_metadata_xml: xml,
      idp_sso_url: 'https://idp.uni.example/custom/sso',
    });
    expect(overridden.json().saml.idp_sso_url).toBe('https://idp.uni.example/custom/sso');
  });

  it('bad metadata is a 422 naming its field; nothing is created', async () => {
    const name = uniq('bad-md');
    for (const saml of [
      { idp_metadata_xml: '<html>not metadata</html>' },
      {
        idp_metadata_xml: idpMetadataXml({
          entityId: IDP_ENTITY,
          ssoUrl: IDP_SSO,
          certificates: [],
          postOnly: true,
        }),
      },
      { idp_metadata_url: 'http://127.0.0.1:1/nothing-listens-here' },
      { idp_metadata_url: `${metadataUrl()}.missing` },
      { idp_metadata_url: 'ftp://idp.example/metadata' },
      { idp_metadata_url: metadataUrl(), idp_metadata_xml: served },
    ]) {
      const res = await createConnection(adminA, saml, { name });
      expect(res.statusCode, JSON.stringify(saml)).toBe(422);
      expect(JSON.stringify(res.json().details)).toMatch(/body\.saml\.idp_metadata_(xml|url)/);
    }
    // Neither metadata nor the fields: the missing field is named.
    const empty = await createConnection(adminA, {}, { name });
    expect(empty.statusCode).toBe(422);
    expect(JSON.stringify(empty.json().details)).toContain('body.saml.idp_entity_id');
    expect(
      await count(a.tenant.id, `select count(*)::text as n from sso_connections where name = '${name}'`),
    ).toBe(0);
  });

  it('a metadata URL is fetched, kept, and re-read by refresh after the IdP rolled its key (audited)', async () => {
    served = idpMetadataXml({ entityId: IDP_ENTITY, ssoUrl: IDP_SSO, certificates: [idp.certificate] });
    const created = await createConnection(adminA, { idp_metadata_url: metadataUrl() });
    expect(created.statusCode, created.body).toBe(201);
    const conn = created.json() as { id: string; saml: Record<string, unknown> };
    expect(conn.saml).toMatchObject({
      idp_metadata_url: metadataUrl(),
      idp_certificate: certBody(idp.certificate),
    });

    // The IdP publishes its next key beside the current one (Okta, Entra ID): both are pinned after a refresh.
    served = idpMetadataXml({
      entityId: IDP_ENTITY,
      ssoUrl: IDP_SSO,
      certificates: [idp.certificate, nextIdp.certificate],
    });
    const refresh = () =>
      app.inject({
        method: 'POST',
        url: `/api/v1/sso/connections/${conn.id}/metadata/refresh`,
        headers: bearer(adminA),
      });
    const refreshed = await refresh();
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    expect(refreshed.json().saml).toMatchObject({
      idp_certificate: certBody(idp.certificate),
      idp_certificate_next: certBody(nextIdp.certificate),
    });
    // Signed by the next key during the rollover: accepted.
    const during = await authorize(a.tenant.id, conn.id);
    const email = `${uniq('roll')}@uni.example`;
    const signedByNext = buildResponse(
      idp,
      respond(conn.id, during.requestId, { nameId: email, signWith: nextIdp }),
    );
    expect((await acsOutcome(app, await postAcs(app, signedByNext, during.state))).me?.email).toBe(email);

    // The rollover ends: the old key is gone from the metadata, and from the connection after a refresh.
    served = idpMetadataXml({ entityId: IDP_ENTITY, ssoUrl: IDP_SSO, certificates: [nextIdp.certificate] });
    expect((await refresh()).json().saml).toMatchObject({
      idp_certificate: certBody(nextIdp.certificate),
      idp_certificate_next: null,
    });
    const after = await authorize(a.tenant.id, conn.id);
    const signedByOld = buildResponse(idp, respond(conn.id, after.requestId, { nameId: email }));
    expect((await acsOutcome(app, await postAcs(app, signedByOld, after.state))).error).toBe(
      'SAML_SIGNATURE_INVALID',
    );
    expect(await auditCount(a.tenant.id, 'sso.connection_updated', conn.id)).toBe(2);

    // Refresh needs a URL; another tenant's admin gets 404.
    const pasted = await createConnection(adminA, { idp_metadata_xml: served });
    const noUrl = await app.inject({
      method: 'POST',
      url: `/api/v1/sso/connections/${pasted.json().id}/metadata/refresh`,
      headers: bearer(adminA),
    });
    expect(noUrl.statusCode).toBe(422);
    const cross = await app.inject({
      method: 'POST',
      url: `/api/v1/sso/connections/${conn.id}/metadata/refresh`,
      headers: bearer(adminB),
    });
    expect(cross.statusCode).toBe(404);
  });

  it('PATCH can pin a next certificate by hand, set an attribute map, and clear both', async () => {
    const created = await createConnection(adminA, {
      idp_entity_id: IDP_ENTITY,
      idp_sso_url: IDP_SSO,
      idp_certificate: idp.certificate,
    });
    const id = created.json().id as string;
    const patch = (saml: Record<string, unknown>) =>
      app.inject({
        method: 'PATCH',
        url: `/api/v1/sso/connections/${id}`,
        headers: bearer(adminA),
        payload: { saml },
      });
    const set = await patch({
      idp_certificate_next: nextIdp.certificate,
      // Attribute names are matched without case (like the body's email fields, `email` here is lower-cased).
      attribute_map: { email: 'corpmail' },
    });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json().saml).toMatchObject({
      idp_certificate_next: nextIdp.certificate,
      attribute_map: { email: 'corpmail' },
    });
    expect((await patch({ idp_certificate_next: 'not a certificate' })).statusCode).toBe(422);
    expect((await patch({ attribute_map: { mail: 'x' } })).statusCode).toBe(422); // unknown field
    const cleared = await patch({ idp_certificate_next: null, attribute_map: null });
    expect(cleared.json().saml).toMatchObject({ idp_certificate_next: null, attribute_map: null });
  });
});

describe('issue 19 SAML: sign-in with what IdPs send by default', () => {
  let conn: { id: string };
  let spCertificate: string;
  beforeAll(async () => {
    const res = await createConnection(adminA, {
      idp_metadata_xml: idpMetadataXml({
        entityId: IDP_ENTITY,
        ssoUrl: IDP_SSO,
        certificates: [idp.certificate],
      }),
    });
    conn = res.json();
    const md = await app.inject({ method: 'GET', url: `/api/v1/sso/saml/${conn.id}/metadata` });
    spCertificate = encryptionCertificateOf(md.body);
  });

  it.each<[string, Partial<ResponseOptions>, boolean]>([
    ['the Response only (Shibboleth)', { signResponseOnly: true }, false],
    ['the Assertion only (Entra ID)', {}, false],
    ['both (Okta)', { signBoth: true }, false],
    ['the Assertion, encrypted (Entra ID with token encryption)', {}, true],
    ['the Response, its assertion encrypted (Shibboleth default)', { signResponseOnly: true }, true],
  ])('signature on %s: signed in', async (_name, o, encrypted) => {
    const { state, requestId } = await authorize(a.tenant.id, conn.id);
    const email = `${uniq('u')}@uni.example`;
    const options = respond(conn.id, requestId, { nameId: email, ...o });
    const response = encrypted
      ? await buildEncryptedResponse(idp, { ...options, encryptFor: spCertificate })
      : buildResponse(idp, options);
    const result = await acsOutcome(app, await postAcs(app, response, state));
    expect(result.me).toMatchObject({ email, tenant_id: a.tenant.id });
  });

  it.each<[string, Partial<ResponseOptions>]>([
    ['the Response signed by another key', { signResponseOnly: true, signWith: undefined }],
    [
      'the signed Response changed afterwards',
      { signResponseOnly: true, tamperNameId: 'victim@uni.example' },
    ],
    [
      'a second assertion added to a signed Response',
      { signResponseOnly: true, injectAfterResponseSigned: 'victim@uni.example' },
    ],
    [
      'a signed Response wrapped in a forged one',
      { signResponseOnly: true, wrapSignedResponse: 'victim@uni.example' },
    ],
    ['a signed assertion wrapped in Extensions', { wrapInExtensions: 'victim@uni.example' }],
    ['no signature at all', { unsigned: true }],
  ])('refused: %s (nobody created, audited)', async (name, o) => {
    const { state, requestId } = await authorize(a.tenant.id, conn.id);
    const before = await auditCount(a.tenant.id, 'sso.login_failed', conn.id);
    const options = respond(conn.id, requestId, {
      ...o,
      ...(name.includes('another key') ? { signWith: attacker } : {}),
    });
    expect((await acsOutcome(app, await postAcs(app, buildResponse(idp, options), state))).error).toBe(
      'SAML_SIGNATURE_INVALID',
    );
    expect(await usersWithEmail(a.tenant.id, 'victim@uni.example')).toBe(0);
    expect(await auditCount(a.tenant.id, 'sso.login_failed', conn.id)).toBe(before + 1);
  });

  it('attributes as Shibboleth sends them (urn:oid names) give the email and names of a JIT user', async () => {
    const { state, requestId } = await authorize(a.tenant.id, conn.id);
    const email = `${uniq('oid')}@uni.example`;
    const response = buildResponse(
      idp,
      respond(conn.id, requestId, {
        nameId: 'AAdzZWNyZXQxpersistent',
        nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
        signResponseOnly: true,
        attributeList: [
          { name: 'urn:oid:0.9.2342.19200300.100.1.3', friendlyName: 'mail', values: [email] },
          { name: 'urn:oid:2.5.4.42', friendlyName: 'givenName', values: ['Chloé'] },
          { name: 'urn:oid:2.5.4.4', friendlyName: 'sn', values: ['Martin'] },
        ],
      }),
    );
    expect((await acsOutcome(app, await postAcs(app, response, state))).me?.email).toBe(email);
    expect(
      await count(
        a.tenant.id,
        `select count(*)::text as n from users where tenant_id = ${a.tenant.id} and email = '${email}' and first_name = 'Chloé' and last_name = 'Martin'`,
      ),
    ).toBe(1);
  });

  it('no email anywhere (persistent NameID, no mail attribute): SSO_EMAIL_MISSING, nobody created', async () => {
    const { state, requestId } = await authorize(a.tenant.id, conn.id);
    const response = buildResponse(
      idp,
      respond(conn.id, requestId, {
        nameId: 'opaque-persistent-without-mail',
        nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
        attributeList: [{ name: 'urn:oid:2.5.4.42', friendlyName: 'givenName', values: ['Nomail'] }],
      }),
    );
    expect((await acsOutcome(app, await postAcs(app, response, state))).error).toBe('SSO_EMAIL_MISSING');
    expect(
      await count(
        a.tenant.id,
        `select count(*)::text as n from external_identities where tenant_id = ${a.tenant.id} and subject = 'opaque-persistent-without-mail'`,
      ),
    ).toBe(0);
  });
});

describe('issue 19 SAML: test connection', () => {
  let conn: { id: string };
  beforeAll(async () => {
    const res = await createConnection(
      adminA,
      {
        idp_metadata_xml: idpMetadataXml({
          entityId: IDP_ENTITY,
          ssoUrl: IDP_SSO,
          certificates: [idp.certificate],
        }),
      },
      // Not enabled yet, and no redirect_uri: a test needs neither.
      { enabled: false, redirect_uris: [] },
    );
    expect(res.statusCode, res.body).toBe(201);
    conn = res.json();
  });

  const startTest = (admin: Tokens, id = conn.id) =>
    app.inject({ method: 'POST', url: `/api/v1/sso/connections/${id}/test`, headers: bearer(admin) });
  const readResult = (admin: Tokens, resultId: string, id = conn.id) =>
    app.inject({
      method: 'GET',
      url: `/api/v1/sso/connections/${id}/test-results/${resultId}`,
      headers: bearer(admin),
    });

  it('the IdP answer lands on the console page; the admin reads the claims; nobody is created or signed in; audited', async () => {
    const started = await startTest(adminA);
    expect(started.statusCode, started.body).toBe(200);
    const { auth_url, state } = started.json() as { auth_url: string; state: string };
    expect(auth_url.startsWith(`${IDP_SSO}?SAMLRequest=`)).toBe(true);
    const requestId = parseAuthnRequestUrl(auth_url).id;
    const email = `${uniq('tested')}@uni.example`;
    const res = await postAcs(
      app,
      buildResponse(
        idp,
        respond(conn.id, requestId, {
          nameId: email,
          attributeList: [{ name: 'urn:oid:2.5.4.42', friendlyName: 'givenName', values: ['Tess'] }],
        }),
      ),
      state,
    );
    expect(res.statusCode).toBe(302);
    const landing = new URL(res.headers.location as string);
    expect(`${landing.origin}${landing.pathname}`).toBe(
      `${app.ctx.config.publicUrl}/admin/sso/${conn.id}/test`,
    );
    expect(landing.searchParams.get('code')).toBeNull();
    const resultId = landing.searchParams.get('result')!;
    const result = await readResult(adminA, resultId);
    expect(result.statusCode, result.body).toBe(200);
    expect(result.json()).toMatchObject({
      ok: true,
      error: null,
      connection_id: conn.id,
      identity: { issuer: IDP_ENTITY, subject: email, email, given_name: 'Tess' },
      attributes: [{ name: 'urn:oid:2.5.4.42', friendly_name: 'givenName', values: ['Tess'] }],
    });
    expect(await usersWithEmail(a.tenant.id, email)).toBe(0);
    expect(await auditCount(a.tenant.id, 'sso.connection_test_started', conn.id)).toBeGreaterThanOrEqual(1);
    expect(await auditCount(a.tenant.id, 'sso.connection_tested', conn.id)).toBeGreaterThanOrEqual(1);
    // Another tenant's admin cannot read it, nor start a test of this connection.
    expect((await readResult(adminB, resultId)).statusCode).toBe(404);
    expect((await startTest(adminB)).statusCode).toBe(404);
    // The test's state cannot be replayed into a sign-in: the replay is answered on the console page, no code.
    const replay = await postAcs(
      app,
      buildResponse(idp, respond(conn.id, requestId, { nameId: email })),
      state,
    );
    const replayed = new URL(replay.headers.location as string).searchParams;
    expect(replayed.get('code')).toBeNull();
    expect(replayed.get('error')).toBe('SAML_REPLAY');
    expect(await usersWithEmail(a.tenant.id, email)).toBe(0);
  });

  it('a refused answer shows its error on the same page', async () => {
    const { auth_url, state } = (await startTest(adminA)).json() as { auth_url: string; state: string };
    const requestId = parseAuthnRequestUrl(auth_url).id;
    const res = await postAcs(
      app,
      buildResponse(idp, respond(conn.id, requestId, { signWith: attacker })),
      state,
    );
    const landing = new URL(res.headers.location as string);
    expect(landing.searchParams.get('error')).toBe('SAML_SIGNATURE_INVALID');
    const result = await readResult(adminA, landing.searchParams.get('result')!);
    expect(result.json()).toMatchObject({ ok: false, error: 'SAML_SIGNATURE_INVALID', identity: null });
  });

  it('needs sso.write: a member gets 403', async () => {
    const { newUser } = await import('../helpers/factories.js');
    const member = await newUser(app, a.tenant.id);
    const tokens = await login(app, a.tenant.id, member.email);
    expect((await startTest(tokens)).statusCode).toBe(403);
  });
});
