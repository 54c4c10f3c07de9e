/**
 * The SAML service provider on its own (no HTTP): real Responses signed with a key and certificate made here,
 * validated against the shared store of the run (memory, or Redis when REDIS_URL is set).
 */
import { createPrivateKey, createVerify, randomUUID, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, testConfig } from '../../src/config.js';
import {
  readSamlResponse,
  type SamlConnection,
  SamlServiceProvider,
  samlKeys,
} from '../../src/modules/sso/saml/service-provider.js';
import { generateSpKey, type SpSigningKey } from '../../src/modules/sso/saml/sp-key.js';
import { createStore } from '../../src/platform/store/index.js';
import type { KeyValueStore } from '../../src/platform/store/types.js';
import { testEnv, usingRedis } from '../helpers/app.js';
import { MovableClock } from '../helpers/clock.js';
import {
  buildEncryptedResponse,
  buildResponse,
  certBody,
  encryptionCertificateOf,
  makeIdpKeys,
  parseAuthnRequestUrl,
  type ResponseOptions,
  redirectSignature,
  type TestIdpKeys,
} from '../helpers/saml-idp.js';

const PUBLIC_URL = 'https://api.massacorp.test';
const ACS = `${PUBLIC_URL}/api/v1/sso/saml/acs`;
const IDP_ENTITY = 'http://www.okta.com/exk1test';

describe('issue 13 sso: SAML service provider (signed responses, pinned certificate, replay)', () => {
  let idp: TestIdpKeys;
  let attacker: TestIdpKeys;
  let store: KeyValueStore;
  let store2: KeyValueStore;
  const clock = new MovableClock();
  let sp: SamlServiceProvider;
  let sp2: SamlServiceProvider;
  let spKey: SpSigningKey;
  let conn: SamlConnection;

  beforeAll(async () => {
    [idp, attacker] = await Promise.all([makeIdpKeys(), makeIdpKeys('attacker.example')]);
    const config = testEnv();
    store = createStore(config, undefined, clock);
    // A second replica: its own Redis connection (same server), or the same process-local store.
    store2 = usingRedis ? createStore(config, undefined, clock) : store;
    spKey = await generateSpKey(PUBLIC_URL, clock.now());
    const signingKey = async () => spKey;
    sp = new SamlServiceProvider({ store, clock, publicUrl: PUBLIC_URL, signingKey });
    sp2 = new SamlServiceProvider({ store: store2, clock, publicUrl: PUBLIC_URL, signingKey });
    conn = {
      id: randomUUID(),
      tenantId: 1,
      idpEntityId: IDP_ENTITY,
      idpSsoUrl: 'https://idp.example/app/sso/saml',
      idpCertificates: [idp.certificate],
      attributeMap: null,
      spEntityId: null,
    };
  });
  afterAll(async () => {
    await store.close();
    if (store2 !== store) await store2.close();
  });

  const audience = () => `${PUBLIC_URL}/api/v1/sso/saml/${conn.id}/metadata`;

  async function start(relayState = `rs-${randomUUID()}`) {
    const { url, requestId } = await sp.startSignIn(conn, { relayState });
    return { url, requestId, relayState };
  }

  function respond(requestId: string | null, o: Partial<ResponseOptions> = {}) {
    return buildResponse(idp, {
      issuer: IDP_ENTITY,
      audience: audience(),
      acsUrl: ACS,
      inResponseTo: requestId,
      ...o,
    });
  }

  /** The ACS's part for a response to the request `requestId` (the flow state, kept by the sso module). */
  async function post(samlResponse: string, requestId: string, provider = sp) {
    return provider.validate(conn, { requestId }, readSamlResponse(samlResponse));
  }

  async function refusal(promise: Promise<unknown>): Promise<string> {
    try {
      await promise;
    } catch (err) {
      return (err as { code?: string }).code ?? String(err);
    }
    return 'ACCEPTED';
  }

  it('metadata names the entity id, the ACS (HTTP-POST), signed assertions and the email NameID format', async () => {
    const xml = await sp.metadata(conn);
    expect(xml).toContain(`entityID="${audience()}"`);
    expect(xml).toContain(`Location="${ACS}"`);
    expect(xml).toContain('urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST');
    expect(xml).toContain('WantAssertionsSigned="true"');
    expect(xml).toContain('urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress');
    expect(await sp.metadata({ ...conn, spEntityId: 'urn:massacorp:acme' })).toContain(
      'entityID="urn:massacorp:acme"',
    );
  });

  it("the AuthnRequest goes to idp_sso_url with our ACS and entity id, under the caller's request id; nothing is stored", async () => {
    const requestId = `_${'ab'.repeat(32)}`;
    const relayState = `rs-${randomUUID()}`;
    const { url } = await sp.startSignIn(conn, { relayState, requestId });
    expect(url.startsWith('https://idp.example/app/sso/saml?')).toBe(true);
    const parsed = parseAuthnRequestUrl(url);
    expect(parsed.id).toBe(requestId);
    expect(parsed.relayState).toBe(relayState);
    expect(parsed.xml).toContain(`AssertionConsumerServiceURL="${ACS}"`);
    expect(parsed.xml).toContain(`Destination="https://idp.example/app/sso/saml"`);
    expect(parsed.xml).toContain(`>${audience()}</saml:Issuer>`);
    // The flow state is the sign-in's only record: the service provider keeps nothing of an unanswered request.
    expect(await store.get(samlKeys.requestUsed(requestId))).toBeNull();
    // Without a caller's id, a fresh random one.
    const other = await sp.startSignIn(conn, { relayState });
    expect(other.requestId).toMatch(/^_[0-9a-f]{40}$/);
  });

  it('the AuthnRequest is always signed (RSA-SHA256 over the redirect query) and the metadata publishes the certificate', async () => {
    const { url } = await sp.startSignIn(conn, { relayState: 'rs-1' });
    const signature = redirectSignature(url);
    expect(signature.sigAlg).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    expect(
      createVerify('RSA-SHA256').update(signature.signed).verify(spKey.certificate, signature.value),
    ).toBe(true);
    expect(
      createVerify('RSA-SHA256').update(`${signature.signed}x`).verify(spKey.certificate, signature.value),
    ).toBe(false);
    // Another key's certificate does not verify it.
    const other = await generateSpKey(PUBLIC_URL, clock.now());
    expect(
      createVerify('RSA-SHA256').update(signature.signed).verify(other.certificate, signature.value),
    ).toBe(false);
    const metadata = await sp.metadata(conn);
    expect(metadata).toContain('AuthnRequestsSigned="true"');
    expect(metadata).toContain('use="signing"');
    expect(metadata.replace(/\s+/g, '')).toContain(certBody(spKey.certificate));
  });

  it('the generated SP certificate: RSA-2048, self-signed, valid ten years, the private key matches it', async () => {
    const cert = new X509Certificate(spKey.certificate);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(cert.checkPrivateKey(createPrivateKey(spKey.privateKey))).toBe(true);
    expect(cert.subject).toContain('api.massacorp.test');
    const years = (Date.parse(cert.validTo) - clock.now()) / (365.25 * 86_400_000);
    expect(years).toBeGreaterThan(9.9);
    expect(Date.parse(cert.validFrom)).toBeLessThanOrEqual(clock.now());
  });

  it('with SAML_SP_* configured the config carries that pair (the app signs with it instead of its own)', async () => {
    const spKeys = await makeIdpKeys('sp.massacorp.test');
    const signing = testConfig({
      SAML_SP_PRIVATE_KEY: spKeys.privateKey.replace(/\n/g, '\\n'),
      SAML_SP_CERTIFICATE: spKeys.certificate,
    }).samlSpSigning;
    expect(signing).toEqual({ privateKey: spKeys.privateKey.trim(), certificate: spKeys.certificate.trim() });
    expect(testConfig({}).samlSpSigning).toBeNull();
  });

  it('SAML_SP_PRIVATE_KEY and SAML_SP_CERTIFICATE: both or neither, and a matching pair', async () => {
    const [one, other] = await Promise.all([makeIdpKeys('one.test'), makeIdpKeys('other.test')]);
    expect(() => testConfig({ SAML_SP_PRIVATE_KEY: one.privateKey })).toThrow(ConfigError);
    expect(() =>
      testConfig({ SAML_SP_PRIVATE_KEY: one.privateKey, SAML_SP_CERTIFICATE: other.certificate }),
    ).toThrow(/must be the certificate of SAML_SP_PRIVATE_KEY/);
    expect(() => testConfig({ SAML_SP_PRIVATE_KEY: 'junk', SAML_SP_CERTIFICATE: 'junk' })).toThrow(
      ConfigError,
    );
    expect(testConfig({}).samlSpSigning).toBeNull();
  });

  it('a valid signed response is accepted once: subject, issuer, email and name are extracted', async () => {
    const { requestId } = await start();
    const identity = await post(
      respond(requestId, {
        nameId: 'Alice@Example.com',
        attributes: { firstName: 'Alice', lastName: 'Martin' },
      }),
      requestId,
    );
    expect(identity).toMatchObject({
      connectionId: conn.id,
      tenantId: 1,
      issuer: IDP_ENTITY,
      subject: 'Alice@Example.com',
      email: 'alice@example.com',
      name: 'Alice Martin',
      emailVerified: false,
    });
    expect(await store.get(samlKeys.requestUsed(requestId))).toBe('1');
  });

  it('email and name come from attributes when the NameID is persistent (Entra ID claim names)', async () => {
    const { requestId } = await start();
    const identity = await post(
      respond(requestId, {
        nameId: 'd3b07384-d9a0-4f5b-9c1d-persistent',
        nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
        attributes: {
          'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress': 'Bob@Contoso.com',
          'http://schemas.microsoft.com/identity/claims/displayname': 'Bob Contoso',
        },
      }),
      requestId,
    );
    expect(identity).toMatchObject({
      subject: 'd3b07384-d9a0-4f5b-9c1d-persistent',
      email: 'bob@contoso.com',
      name: 'Bob Contoso',
    });
  });

  it.each<[string, Partial<ResponseOptions>, string]>([
    [
      'tampered (NameID changed after signing)',
      { tamperNameId: 'mallory@example.com' },
      'SAML_SIGNATURE_INVALID',
    ],
    ['unsigned', { unsigned: true }, 'SAML_SIGNATURE_INVALID'],
    ['signed by another key', { signWith: undefined }, 'SAML_SIGNATURE_INVALID'],
    ['wrong audience', { audience: 'https://other-sp.example/metadata' }, 'SAML_AUDIENCE_MISMATCH'],
    ['wrong issuer', { issuer: 'https://evil-idp.example' }, 'SAML_ISSUER_MISMATCH'],
    [
      'expired (ended 10 minutes ago)',
      { now: Date.now() - 15 * 60_000, lifetimeSeconds: 300 },
      'SAML_ASSERTION_EXPIRED',
    ],
    ['not yet valid (5 minutes ahead)', { now: Date.now() + 5 * 60_000 }, 'SAML_ASSERTION_NOT_YET_VALID'],
    ['wrong recipient', { acsUrl: 'https://evil.example/acs' }, 'SAML_RECIPIENT_MISMATCH'],
    [
      'transient NameID',
      { nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient' },
      'SAML_SUBJECT_INVALID',
    ],
    [
      'wrapping: unsigned assertion next to the signed one',
      { injectUnsignedAssertion: 'mallory@example.com' },
      'SAML_SIGNATURE_INVALID',
    ],
    [
      'wrapping: signed assertion moved into Extensions',
      { wrapInExtensions: 'mallory@example.com' },
      'SAML_SIGNATURE_INVALID',
    ],
  ])('refuses a response that is %s', async (_name, o, code) => {
    const { requestId } = await start();
    const options = _name === 'signed by another key' ? { signWith: attacker } : o;
    expect(await refusal(post(respond(requestId, options), requestId))).toBe(code);
  });

  it('a response signed at both levels (Okta default) is accepted', async () => {
    const { requestId } = await start();
    const response = respond(requestId, { signBoth: true });
    expect(
      Buffer.from(response, 'base64')
        .toString()
        .match(/<ds:Signature /g),
    ).toHaveLength(2);
    await expect(post(response, requestId)).resolves.toMatchObject({ subject: 'alice@example.com' });
  });

  it('a response signed only at the Response level (Shibboleth default; assertion unsigned) is accepted', async () => {
    const { requestId } = await start();
    const response = respond(requestId, { signResponseOnly: true, nameId: 'shib@example.com' });
    const xml = Buffer.from(response, 'base64').toString();
    // The signature sits on the Response, not inside the assertion.
    expect(xml.indexOf('<ds:Signature')).toBeLessThan(xml.indexOf('<saml:Assertion'));
    expect(xml.match(/<ds:Signature /g)).toHaveLength(1);
    await expect(post(response, requestId)).resolves.toMatchObject({ subject: 'shib@example.com' });
  });

  it.each<[string, Partial<ResponseOptions>]>([
    ['signed by another key', {}],
    ['tampered after signing (NameID changed)', { tamperNameId: 'mallory@example.com' }],
    [
      'given a second, unsigned assertion after signing',
      { injectAfterResponseSigned: 'mallory@example.com' },
    ],
    ['signed over two assertions (one of them unsigned)', { injectUnsignedAssertion: 'mallory@example.com' }],
    ['wrapped (XSW): the signed Response inside a forged one', { wrapSignedResponse: 'mallory@example.com' }],
  ])('a Response-level signature: refuses a response %s', async (name, o) => {
    const { requestId } = await start();
    const options: Partial<ResponseOptions> = {
      signResponseOnly: true,
      ...o,
      ...(name === 'signed by another key' ? { signWith: attacker } : {}),
    };
    expect(await refusal(post(respond(requestId, options), requestId))).toBe('SAML_SIGNATURE_INVALID');
  });

  it("an IdP's error status (user not assigned) is SAML_IDP_ERROR", async () => {
    const { requestId } = await start();
    const response = respond(requestId, {
      statusError: {
        top: 'urn:oasis:names:tc:SAML:2.0:status:Responder',
        second: 'urn:oasis:names:tc:SAML:2.0:status:RequestDenied',
        message: 'User is not assigned to this application',
      },
    });
    expect(await refusal(post(response, requestId))).toBe('SAML_IDP_ERROR');
  });

  it('within the 2-minute skew a slightly fast IdP is accepted; past it the app clock ends the assertion', async () => {
    const a = await start();
    await expect(post(respond(a.requestId, { now: Date.now() + 60_000 }), a.requestId)).resolves.toBeTruthy();
    const b = await start();
    const response = respond(b.requestId, { lifetimeSeconds: 60 });
    clock.advance(60 + 121);
    try {
      expect(await refusal(post(response, b.requestId))).toBe('SAML_ASSERTION_EXPIRED');
    } finally {
      clock.advance(-(60 + 121));
    }
  });

  it('refuses IdP-initiated responses, a response to another request, a signed InResponseTo of another request', async () => {
    const expected = await start();
    expect(await refusal(post(respond(null), expected.requestId))).toBe('SAML_IN_RESPONSE_TO_MISSING');
    expect(await refusal(post(respond('_unknown0123456789'), expected.requestId))).toBe(
      'SAML_IN_RESPONSE_TO_MISMATCH',
    );
    const a = await start();
    const b = await start();
    // The envelope claims request b, the signed assertion answers request a.
    const crossed = respond(a.requestId, { envelopeInResponseTo: b.requestId });
    expect(await refusal(post(crossed, b.requestId))).toBe('SAML_IN_RESPONSE_TO_MISMATCH');
    expect(await refusal(post('not base64 !!', ''))).toBe('SAML_RESPONSE_INVALID');
    expect(
      await refusal(post(Buffer.from('<!DOCTYPE x [<!ENTITY a "b">]><x/>').toString('base64'), '')),
    ).toBe('SAML_RESPONSE_INVALID');
  });

  it('a replayed response is refused, and the assertion id stays used until NotOnOrAfter', async () => {
    const { requestId } = await start();
    const assertionId = `_asr${randomUUID().replace(/-/g, '')}`;
    const response = respond(requestId, { assertionId, lifetimeSeconds: 300 });
    await post(response, requestId);
    expect(await refusal(post(response, requestId))).toBe('SAML_REPLAY');
    // Another assertion answering the same request: the request was answered already.
    expect(await refusal(post(respond(requestId), requestId))).toBe('SAML_REPLAY');
    const ttl = await store.ttl(samlKeys.assertionUsed(IDP_ENTITY, assertionId));
    expect(ttl).toBeGreaterThan(300);
    expect(ttl).toBeLessThanOrEqual(300 + 120 + 1);
    // The same assertion id in a response to a fresh request (an IdP cannot legitimately do that): still refused.
    const again = await start();
    expect(await refusal(post(respond(again.requestId, { assertionId }), again.requestId))).toBe(
      'SAML_REPLAY',
    );
  });

  it('two replicas posting the same response at once: exactly one wins', async () => {
    for (let round = 0; round < 5; round++) {
      const { requestId } = await start();
      const response = respond(requestId);
      const results = await Promise.all([
        refusal(post(response, requestId, sp)),
        refusal(post(response, requestId, sp2)),
        refusal(post(response, requestId, sp2)),
      ]);
      expect(results.filter((r) => r === 'ACCEPTED')).toHaveLength(1);
      expect(
        results
          .filter((r) => r !== 'ACCEPTED')
          .every((r) => r === 'SAML_REPLAY' || r === 'SAML_UNKNOWN_REQUEST'),
      ).toBe(true);
    }
  });

  it('the KeyInfo certificate is never trusted: a response signed by another key carrying its own certificate fails', async () => {
    // xml-crypto embeds the signer's certificate in KeyInfo when publicCert is given (the helper does): the
    // attacker's certificate travels with the response, and is ignored in favour of the pinned one.
    const { requestId } = await start();
    const forged = respond(requestId, { signWith: attacker });
    expect(Buffer.from(forged, 'base64').toString()).toContain('<ds:X509Certificate>');
    expect(await refusal(post(forged, requestId))).toBe('SAML_SIGNATURE_INVALID');
  });
});

describe('issue 19 SAML: encrypted assertions, key rollover, attribute names', () => {
  let idp: TestIdpKeys;
  let nextIdp: TestIdpKeys;
  let attacker: TestIdpKeys;
  let store: KeyValueStore;
  const clock = new MovableClock();
  let sp: SamlServiceProvider;
  let spKey: SpSigningKey;
  let otherSpKey: SpSigningKey;
  let conn: SamlConnection;

  beforeAll(async () => {
    [idp, nextIdp, attacker] = await Promise.all([
      makeIdpKeys(),
      makeIdpKeys('next.idp.example'),
      makeIdpKeys('attacker.example'),
    ]);
    store = createStore(testEnv(), undefined, clock);
    [spKey, otherSpKey] = await Promise.all([
      generateSpKey(PUBLIC_URL, clock.now()),
      generateSpKey('https://other-sp.example', clock.now()),
    ]);
    sp = new SamlServiceProvider({ store, clock, publicUrl: PUBLIC_URL, signingKey: async () => spKey });
    conn = {
      id: randomUUID(),
      tenantId: 1,
      idpEntityId: IDP_ENTITY,
      idpSsoUrl: 'https://idp.example/app/sso/saml',
      idpCertificates: [idp.certificate, nextIdp.certificate],
      attributeMap: null,
      spEntityId: null,
    };
  });
  afterAll(async () => {
    await store.close();
  });

  const base = (requestId: string, connection = conn): ResponseOptions => ({
    issuer: IDP_ENTITY,
    audience: `${PUBLIC_URL}/api/v1/sso/saml/${connection.id}/metadata`,
    acsUrl: ACS,
    inResponseTo: requestId,
  });
  async function validate(samlResponse: string, requestId: string, connection = conn) {
    return sp.validate(connection, { requestId }, readSamlResponse(samlResponse));
  }
  async function refusal(promise: Promise<unknown>): Promise<string> {
    try {
      await promise;
    } catch (err) {
      return (err as { code?: string }).code ?? String(err);
    }
    return 'ACCEPTED';
  }
  const newRequest = async () => (await sp.startSignIn(conn, { relayState: randomUUID() })).requestId;

  it('the SP metadata offers its certificate for encryption too, and still asks for signed assertions', async () => {
    const xml = await sp.metadata(conn);
    expect(xml).toContain('use="encryption"');
    expect(xml).toContain('use="signing"');
    expect(xml).toContain('WantAssertionsSigned="true"');
    expect(certBody(encryptionCertificateOf(xml))).toBe(certBody(spKey.certificate));
  });

  it.each<[string, Partial<ResponseOptions>]>([
    ['signed assertion, then encrypted (Entra ID, Okta)', {}],
    ['encrypted assertion in a signed Response', { signResponseOnly: true }],
    ['signed, encrypted, and the Response signed too', { signBoth: true }],
  ])('an encrypted assertion is decrypted with the SP key: %s', async (_name, o) => {
    const requestId = await newRequest();
    const response = await buildEncryptedResponse(idp, {
      ...base(requestId),
      ...o,
      nameId: 'enc@example.com',
      encryptFor: spKey.certificate,
    });
    const xml = Buffer.from(response, 'base64').toString();
    expect(xml).toContain('EncryptedAssertion');
    expect(xml).not.toContain('enc@example.com');
    await expect(validate(response, requestId)).resolves.toMatchObject({
      subject: 'enc@example.com',
      email: 'enc@example.com',
    });
  });

  it.each<[string, Partial<ResponseOptions> & { encryptFor?: 'other' }]>([
    ['signed nowhere', { unsigned: true }],
    ['signed by another key', { signWith: undefined }],
    ['encrypted for another SP', { encryptFor: 'other' }],
  ])('an encrypted assertion %s is refused', async (name, o) => {
    const requestId = await newRequest();
    const response = await buildEncryptedResponse(idp, {
      ...base(requestId),
      ...o,
      ...(name === 'signed by another key' ? { signWith: attacker } : {}),
      encryptFor: o.encryptFor === 'other' ? otherSpKey.certificate : spKey.certificate,
    });
    expect(await refusal(validate(response, requestId))).toMatch(/^SAML_(SIGNATURE|RESPONSE)_INVALID$/);
  });

  it('IdP key rollover: signatures by either pinned certificate verify, by a third one they do not', async () => {
    for (const signer of [idp, nextIdp]) {
      const requestId = await newRequest();
      await expect(
        validate(buildResponse(idp, { ...base(requestId), signWith: signer }), requestId),
      ).resolves.toBeTruthy();
    }
    const requestId = await newRequest();
    expect(
      await refusal(validate(buildResponse(idp, { ...base(requestId), signWith: attacker }), requestId)),
    ).toBe('SAML_SIGNATURE_INVALID');
    // Once the old certificate is unpinned, its signatures stop verifying.
    const rolled = { ...conn, idpCertificates: [nextIdp.certificate] };
    const r2 = (await sp.startSignIn(rolled, { relayState: randomUUID() })).requestId;
    expect(await refusal(validate(buildResponse(idp, base(r2, rolled)), r2, rolled))).toBe(
      'SAML_SIGNATURE_INVALID',
    );
  });

  it.each<[string, NonNullable<ResponseOptions['attributeList']>]>([
    [
      'LDAP OIDs with friendly names (Shibboleth, SimpleSAMLphp uri format)',
      [
        { name: 'urn:oid:0.9.2342.19200300.100.1.3', friendlyName: 'mail', values: ['Carol@Uni.example'] },
        { name: 'urn:oid:2.5.4.42', friendlyName: 'givenName', values: ['Carol'] },
        { name: 'urn:oid:2.5.4.4', friendlyName: 'sn', values: ['Dupont'] },
      ],
    ],
    [
      'urn:mace:dir:attribute-def names',
      [
        { name: 'urn:mace:dir:attribute-def:mail', values: ['carol@uni.example'] },
        { name: 'urn:mace:dir:attribute-def:givenName', values: ['Carol'] },
        { name: 'urn:mace:dir:attribute-def:sn', values: ['Dupont'] },
      ],
    ],
    [
      'friendly names only, in another case, several values',
      [
        { name: 'urn:example:custom:1', friendlyName: 'EMAIL', values: ['', 'carol@uni.example'] },
        { name: 'urn:example:custom:2', friendlyName: 'GivenName', values: ['Carol'] },
        { name: 'urn:example:custom:3', friendlyName: 'Surname', values: ['Dupont'] },
      ],
    ],
  ])('attribute names as IdPs send them: %s', async (_name, attributeList) => {
    const requestId = await newRequest();
    const identity = await validate(
      buildResponse(idp, {
        ...base(requestId),
        nameId: '7f3e-opaque-persistent-id',
        nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
        attributeList,
      }),
      requestId,
    );
    expect(identity).toMatchObject({
      subject: '7f3e-opaque-persistent-id',
      email: 'carol@uni.example',
      givenName: 'Carol',
      familyName: 'Dupont',
      name: 'Carol Dupont',
    });
    expect(identity.attributes.map((a) => a.name)).toEqual(attributeList.map((a) => a.name));
  });

  it("a connection's attribute_map overrides the usual names, and a mapped email wins over an email NameID", async () => {
    const mapped: SamlConnection = {
      ...conn,
      attributeMap: { email: 'corpMail', name: 'urn:example:fullName' },
    };
    const requestId = (await sp.startSignIn(mapped, { relayState: randomUUID() })).requestId;
    const identity = await validate(
      buildResponse(idp, {
        ...base(requestId, mapped),
        nameId: 'old-address@example.com',
        attributeList: [
          { name: 'mail', values: ['ignored@example.com'] },
          { name: 'corpMail', values: ['Dan@Corp.example'] },
          { name: 'urn:example:fullName', values: ['Dan The Admin'] },
          { name: 'displayName', values: ['ignored'] },
        ],
      }),
      requestId,
      mapped,
    );
    expect(identity).toMatchObject({ email: 'dan@corp.example', name: 'Dan The Admin' });
    // Mapped but absent: no email (the sign-in then answers SSO_EMAIL_MISSING), never the unmapped fallbacks.
    const r2 = (await sp.startSignIn(mapped, { relayState: randomUUID() })).requestId;
    const none = await validate(
      buildResponse(idp, {
        ...base(r2, mapped),
        nameId: 'persistent-1',
        nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
        attributeList: [{ name: 'mail', values: ['ignored@example.com'] }],
      }),
      r2,
      mapped,
    );
    expect(none.email).toBeNull();
  });
});
