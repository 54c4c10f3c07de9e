/**
 * The SAML service provider on its own (no HTTP): real Responses signed with a key and certificate made here,
 * validated against the shared store of the run (memory, or Redis when REDIS_URL is set).
 */
import { createPrivateKey, createVerify, randomUUID, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, testConfig } from '../../src/config.js';
import {
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
  buildResponse,
  certBody,
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
      idpCertificate: idp.certificate,
      spEntityId: null,
    };
  });
  afterAll(async () => {
    await store.close();
    if (store2 !== store) await store2.close();
  });

  const audience = () => `${PUBLIC_URL}/api/v1/sso/saml/${conn.id}/metadata`;

  async function start(relayState = `rs-${randomUUID()}`) {
    const { url, requestId } = await sp.startSignIn(conn, {
      redirectUri: 'https://app.example/sso/done',
      relayState,
    });
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

  async function post(samlResponse: string, relayState: string, provider = sp) {
    const pending = await provider.pendingFor(samlResponse);
    return provider.validate(conn, pending, samlResponse, relayState);
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

  it('the AuthnRequest goes to idp_sso_url with our ACS and entity id; its id is stored single use in the store', async () => {
    const { url, requestId, relayState } = await start();
    expect(url.startsWith('https://idp.example/app/sso/saml?')).toBe(true);
    const parsed = parseAuthnRequestUrl(url);
    expect(parsed.id).toBe(requestId);
    expect(parsed.relayState).toBe(relayState);
    expect(parsed.xml).toContain(`AssertionConsumerServiceURL="${ACS}"`);
    expect(parsed.xml).toContain(`Destination="https://idp.example/app/sso/saml"`);
    expect(parsed.xml).toContain(`>${audience()}</saml:Issuer>`);
    const stored = JSON.parse((await store.get(samlKeys.request(requestId))) ?? 'null');
    expect(stored).toMatchObject({
      connectionId: conn.id,
      tenantId: 1,
      redirectUri: 'https://app.example/sso/done',
    });
    expect(await store.ttl(samlKeys.request(requestId))).toBeGreaterThan(500);
  });

  it('the AuthnRequest is always signed (RSA-SHA256 over the redirect query) and the metadata publishes the certificate', async () => {
    const { url } = await sp.startSignIn(conn, {
      redirectUri: 'https://app.example/sso/done',
      relayState: 'rs-1',
    });
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
    const { requestId, relayState } = await start();
    const identity = await post(
      respond(requestId, {
        nameId: 'Alice@Example.com',
        attributes: { firstName: 'Alice', lastName: 'Martin' },
      }),
      relayState,
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
    expect(await store.get(samlKeys.request(requestId))).toBeNull();
  });

  it('email and name come from attributes when the NameID is persistent (Entra ID claim names)', async () => {
    const { requestId, relayState } = await start();
    const identity = await post(
      respond(requestId, {
        nameId: 'd3b07384-d9a0-4f5b-9c1d-persistent',
        nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
        attributes: {
          'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress': 'Bob@Contoso.com',
          'http://schemas.microsoft.com/identity/claims/displayname': 'Bob Contoso',
        },
      }),
      relayState,
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
    const { requestId, relayState } = await start();
    const options = _name === 'signed by another key' ? { signWith: attacker } : o;
    expect(await refusal(post(respond(requestId, options), relayState))).toBe(code);
  });

  it('a response signed at both levels (Okta default) is accepted', async () => {
    const { requestId, relayState } = await start();
    const response = respond(requestId, { signBoth: true });
    expect(
      Buffer.from(response, 'base64')
        .toString()
        .match(/<ds:Signature /g),
    ).toHaveLength(2);
    await expect(post(response, relayState)).resolves.toMatchObject({ subject: 'alice@example.com' });
  });

  it('a response signed only at the Response level (assertion unsigned) is refused: signed assertions are required', async () => {
    const { requestId, relayState } = await start();
    const response = respond(requestId, { signResponseOnly: true });
    const xml = Buffer.from(response, 'base64').toString();
    // The signature sits on the Response, not inside the assertion.
    expect(xml.indexOf('<ds:Signature')).toBeLessThan(xml.indexOf('<saml:Assertion'));
    expect(await refusal(post(response, relayState))).toBe('SAML_SIGNATURE_INVALID');
  });

  it("an IdP's error status (user not assigned) is SAML_IDP_ERROR", async () => {
    const { requestId, relayState } = await start();
    const response = respond(requestId, {
      statusError: {
        top: 'urn:oasis:names:tc:SAML:2.0:status:Responder',
        second: 'urn:oasis:names:tc:SAML:2.0:status:RequestDenied',
        message: 'User is not assigned to this application',
      },
    });
    expect(await refusal(post(response, relayState))).toBe('SAML_IDP_ERROR');
  });

  it('within the 2-minute skew a slightly fast IdP is accepted; past it the app clock ends the assertion', async () => {
    const a = await start();
    await expect(
      post(respond(a.requestId, { now: Date.now() + 60_000 }), a.relayState),
    ).resolves.toBeTruthy();
    const b = await start();
    const response = respond(b.requestId, { lifetimeSeconds: 60 });
    clock.advance(60 + 121);
    try {
      expect(await refusal(post(response, b.relayState))).toBe('SAML_ASSERTION_EXPIRED');
    } finally {
      clock.advance(-(60 + 121));
    }
  });

  it('refuses IdP-initiated responses, unknown request ids, a signed InResponseTo of another request, a wrong RelayState', async () => {
    expect(await refusal(post(respond(null), ''))).toBe('SAML_IN_RESPONSE_TO_MISSING');
    expect(await refusal(post(respond('_unknown0123456789'), ''))).toBe('SAML_UNKNOWN_REQUEST');
    const a = await start();
    const b = await start();
    // The envelope claims request b, the signed assertion answers request a.
    const crossed = respond(a.requestId, { envelopeInResponseTo: b.requestId });
    expect(await refusal(post(crossed, b.relayState))).toBe('SAML_IN_RESPONSE_TO_MISMATCH');
    const c = await start();
    expect(await refusal(post(respond(c.requestId), 'another-state'))).toBe('SAML_RELAY_STATE_MISMATCH');
    expect(await refusal(post('not base64 !!', ''))).toBe('SAML_RESPONSE_INVALID');
    expect(
      await refusal(post(Buffer.from('<!DOCTYPE x [<!ENTITY a "b">]><x/>').toString('base64'), '')),
    ).toBe('SAML_RESPONSE_INVALID');
  });

  it('a replayed response is refused, and the assertion id stays used until NotOnOrAfter', async () => {
    const { requestId, relayState } = await start();
    const assertionId = `_asr${randomUUID().replace(/-/g, '')}`;
    const response = respond(requestId, { assertionId, lifetimeSeconds: 300 });
    await post(response, relayState);
    expect(await refusal(post(response, relayState))).toBe('SAML_UNKNOWN_REQUEST');
    const ttl = await store.ttl(samlKeys.assertionUsed(IDP_ENTITY, assertionId));
    expect(ttl).toBeGreaterThan(300);
    expect(ttl).toBeLessThanOrEqual(300 + 120 + 1);
    // The same assertion id in a response to a fresh request (an IdP cannot legitimately do that): still refused.
    const again = await start();
    expect(await refusal(post(respond(again.requestId, { assertionId }), again.relayState))).toBe(
      'SAML_REPLAY',
    );
  });

  it('two replicas posting the same response at once: exactly one wins', async () => {
    for (let round = 0; round < 5; round++) {
      const { requestId, relayState } = await start();
      const response = respond(requestId);
      const results = await Promise.all([
        refusal(post(response, relayState, sp)),
        refusal(post(response, relayState, sp2)),
        refusal(post(response, relayState, sp2)),
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
    const { requestId, relayState } = await start();
    const forged = respond(requestId, { signWith: attacker });
    expect(Buffer.from(forged, 'base64').toString()).toContain('<ds:X509Certificate>');
    expect(await refusal(post(forged, relayState))).toBe('SAML_SIGNATURE_INVALID');
  });
});
