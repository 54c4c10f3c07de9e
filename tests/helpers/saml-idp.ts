/**
 * A SAML identity provider for tests: a key pair and self-signed certificate made in the test (`selfsigned`), and
 * Responses built the way Okta / Entra ID send them, with the assertion signed by xml-crypto's SignedXml
 * (enveloped signature, exc-c14n, RSA-SHA256). Options produce the hostile variants the SP must refuse.
 */
import { randomBytes } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { generate } from 'selfsigned';
import { SignedXml } from 'xml-crypto';
import xmlenc from 'xml-encryption';

export interface TestIdpKeys {
  privateKey: string;
  certificate: string;
}

export async function makeIdpKeys(commonName = 'test-idp.example'): Promise<TestIdpKeys> {
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keySize: 2048,
    algorithm: 'sha256',
  });
  return { privateKey: pems.private, certificate: pems.cert };
}

export interface ResponseOptions {
  issuer: string;
  audience: string;
  acsUrl: string;
  /** The AuthnRequest id; null: IdP-initiated (no InResponseTo anywhere). */
  inResponseTo: string | null;
  /** Put a different InResponseTo on the (unsigned) Response element than in the signed assertion. */
  envelopeInResponseTo?: string;
  nameId?: string;
  nameIdFormat?: string;
  attributes?: Record<string, string>;
  /** Attributes as Shibboleth and SimpleSAMLphp send them: a URI Name, a FriendlyName, several values. */
  attributeList?: { name: string; friendlyName?: string; values: string[] }[];
  assertionId?: string;
  /** Epoch ms the IdP believes it is. */
  now?: number;
  /** Lifetime of the assertion (Conditions and SubjectConfirmationData NotOnOrAfter), seconds. */
  lifetimeSeconds?: number;
  /** Sign with this key (default: the IdP's). */
  signWith?: TestIdpKeys;
  /** No signature at all. */
  unsigned?: boolean;
  /** Change the signed assertion's content after signing (the NameID). */
  tamperNameId?: string;
  /** Signature wrapping: add an unsigned assertion (for this NameID) next to the signed one. */
  injectUnsignedAssertion?: string;
  /** Signature wrapping: move the signed assertion into samlp:Extensions and put an unsigned copy (this NameID) in its place. */
  wrapInExtensions?: string;
  /** Sign the whole Response (enveloped, on the Response) and leave the assertion itself unsigned. */
  signResponseOnly?: boolean;
  /** Sign the assertion, then the whole Response too (Okta's default). */
  signBoth?: boolean;
  /**
   * Encrypt the (signed, unless signResponseOnly or unsigned) assertion for this SP certificate (PEM): an
   * EncryptedAssertion, AES-256-GCM under an RSA-OAEP key, as Entra ID and Okta send it.
   */
  encryptFor?: string;
  /** Response-level wrapping: after signing the Response, add an unsigned assertion (this NameID) to it. */
  injectAfterResponseSigned?: string;
  /**
   * Response-level wrapping (XSW): the genuine signed Response moved into the Extensions of a new, unsigned Response
   * that carries the genuine signature and an unsigned assertion for this NameID.
   */
  wrapSignedResponse?: string;
  /** The AuthnStatement's AuthnContextClassRef (default PasswordProtectedTransport: one factor). */
  authnContextClassRef?: string;
  /** An error Response without assertion: the top-level and the second-level status code (IdP refused). */
  statusError?: { top: string; second?: string; message?: string };
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const id = () => `_${randomBytes(16).toString('hex')}`;
const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function assertionXml(o: ResponseOptions, assertionId: string, nameId: string): string {
  const now = o.now ?? Date.now();
  const end = now + (o.lifetimeSeconds ?? 300) * 1000;
  const irt = o.inResponseTo ? ` InResponseTo="${esc(o.inResponseTo)}"` : '';
  const value = (v: string) =>
    `<saml:AttributeValue xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:string">${esc(v)}</saml:AttributeValue>`;
  const attrs = [
    ...Object.entries(o.attributes ?? {}).map(
      ([name, v]) => ({ name, values: [v] }) as NonNullable<ResponseOptions['attributeList']>[number],
    ),
    ...(o.attributeList ?? []),
  ]
    .map(
      (a) =>
        `<saml:Attribute Name="${esc(a.name)}"${a.friendlyName ? ` FriendlyName="${esc(a.friendlyName)}"` : ''} NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:${a.name.startsWith('urn:') ? 'uri' : 'unspecified'}">${a.values.map(value).join('')}</saml:Attribute>`,
    )
    .join('');
  return (
    `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${assertionId}" IssueInstant="${iso(now)}" Version="2.0">` +
    `<saml:Issuer>${esc(o.issuer)}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="${esc(o.nameIdFormat ?? 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress')}">${esc(nameId)}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData${irt} NotOnOrAfter="${iso(end)}" Recipient="${esc(o.acsUrl)}"/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${iso(now - 5000)}" NotOnOrAfter="${iso(end)}"><saml:AudienceRestriction><saml:Audience>${esc(o.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${iso(now)}" SessionIndex="${id()}"><saml:AuthnContext><saml:AuthnContextClassRef>${esc(o.authnContextClassRef ?? 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport')}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
    (attrs ? `<saml:AttributeStatement>${attrs}</saml:AttributeStatement>` : '') +
    '</saml:Assertion>'
  );
}

function sign(xml: string, keys: TestIdpKeys, element = 'Assertion'): string {
  const sig = new SignedXml({
    privateKey: keys.privateKey,
    publicCert: keys.certificate,
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  sig.addReference({
    xpath: `/*[local-name(.)='${element}'] | /*/*[local-name(.)='${element}']`,
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
    transforms: [
      'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
      'http://www.w3.org/2001/10/xml-exc-c14n#',
    ],
  });
  sig.computeSignature(xml, {
    prefix: 'ds',
    location: {
      reference: `(/*[local-name(.)='${element}'] | /*/*[local-name(.)='${element}'])/*[local-name(.)='Issuer']`,
      action: 'after',
    },
  });
  return sig.getSignedXml();
}

/** An assertion encrypted for an SP certificate, as the EncryptedAssertion element that replaces it. */
function encryptAssertion(assertion: string, spCertificate: string): Promise<string> {
  return new Promise((resolve, reject) =>
    xmlenc.encrypt(
      assertion,
      {
        rsa_pub: spCertificate,
        pem: spCertificate,
        encryptionAlgorithm: 'http://www.w3.org/2009/xmlenc11#aes256-gcm',
        keyEncryptionAlgorithm: 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
        disallowEncryptionWithInsecureAlgorithm: true,
      },
      (err: Error | null, encrypted: string) =>
        err
          ? reject(err)
          : resolve(
              `<saml:EncryptedAssertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">${encrypted}</saml:EncryptedAssertion>`,
            ),
    ),
  );
}

/** A base64 SAMLResponse whose assertion is encrypted for `o.encryptFor` (see ResponseOptions.encryptFor). */
export async function buildEncryptedResponse(
  idp: TestIdpKeys,
  o: ResponseOptions & { encryptFor: string },
): Promise<string> {
  const nameId = o.nameId ?? 'alice@example.com';
  let assertion = assertionXml(o, o.assertionId ?? id(), nameId);
  if (!o.unsigned && !o.signResponseOnly) assertion = sign(assertion, o.signWith ?? idp);
  return envelope(idp, o, await encryptAssertion(assertion, o.encryptFor), '');
}

/** A base64 SAMLResponse as the IdP would post it to the ACS. */
export function buildResponse(idp: TestIdpKeys, o: ResponseOptions): string {
  const nameId = o.nameId ?? 'alice@example.com';
  const assertionId = o.assertionId ?? id();
  let assertion = o.statusError ? '' : assertionXml(o, assertionId, nameId);
  if (!o.unsigned && !o.signResponseOnly && !o.statusError) assertion = sign(assertion, o.signWith ?? idp);
  // With a Response-level signature the change is made after that signature (see envelope).
  if (o.tamperNameId && !o.signResponseOnly)
    assertion = assertion.replace(`>${esc(nameId)}<`, `>${esc(o.tamperNameId)}<`);

  let extensions = '';
  if (o.wrapInExtensions) {
    extensions = `<samlp:Extensions>${assertion}</samlp:Extensions>`;
    assertion = assertionXml(o, id(), o.wrapInExtensions);
  }
  if (o.injectUnsignedAssertion) assertion += assertionXml(o, id(), o.injectUnsignedAssertion);
  return envelope(idp, o, assertion, extensions);
}

/** The Response around an assertion (signed, wrapped, as the options say), base64 as posted. */
function envelope(idp: TestIdpKeys, o: ResponseOptions, assertion: string, extensions: string): string {
  const now = o.now ?? Date.now();
  const envIrt = o.envelopeInResponseTo ?? o.inResponseTo;
  const irt = envIrt ? ` InResponseTo="${esc(envIrt)}"` : '';
  const status = o.statusError
    ? `<samlp:Status><samlp:StatusCode Value="${o.statusError.top}">${o.statusError.second ? `<samlp:StatusCode Value="${o.statusError.second}"/>` : ''}</samlp:StatusCode>${o.statusError.message ? `<samlp:StatusMessage>${esc(o.statusError.message)}</samlp:StatusMessage>` : ''}</samlp:Status>`
    : '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>';
  let xml =
    `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id()}" Version="2.0" IssueInstant="${iso(now)}" Destination="${esc(o.acsUrl)}"${irt}>` +
    `<saml:Issuer>${esc(o.issuer)}</saml:Issuer>${extensions}` +
    status +
    `${assertion}</samlp:Response>`;
  if (o.signResponseOnly || o.signBoth) xml = sign(xml, o.signWith ?? idp, 'Response');
  if (o.tamperNameId && o.signResponseOnly)
    xml = xml.replace(`>${esc(o.nameId ?? 'alice@example.com')}<`, `>${esc(o.tamperNameId)}<`);
  if (o.injectAfterResponseSigned)
    xml = xml.replace(
      '</samlp:Response>',
      `${assertionXml(o, id(), o.injectAfterResponseSigned)}</samlp:Response>`,
    );
  if (o.wrapSignedResponse) {
    const signature = /<ds:Signature[\s\S]*?<\/ds:Signature>/.exec(xml)?.[0] ?? '';
    xml =
      `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id()}" Version="2.0" IssueInstant="${iso(now)}" Destination="${esc(o.acsUrl)}"${irt}>` +
      `<saml:Issuer>${esc(o.issuer)}</saml:Issuer>${signature}<samlp:Extensions>${xml}</samlp:Extensions>${status}` +
      `${assertionXml(o, id(), o.wrapSignedResponse)}</samlp:Response>`;
  }
  return Buffer.from(xml, 'utf8').toString('base64');
}

/** The AuthnRequest inside an HTTP-Redirect binding URL: its id, RelayState and XML. */
export function parseAuthnRequestUrl(url: string): { id: string; relayState: string | null; xml: string } {
  const u = new URL(url);
  const request = u.searchParams.get('SAMLRequest');
  if (!request) throw new Error('no SAMLRequest in the URL');
  const xml = inflateRawSync(Buffer.from(request, 'base64')).toString('utf8');
  const match = /\sID="([^"]+)"/.exec(xml);
  if (!match?.[1]) throw new Error('no ID in the AuthnRequest');
  return { id: match[1], relayState: u.searchParams.get('RelayState'), xml };
}

/**
 * The signature of an HTTP-Redirect binding URL (SAML bindings §3.4.4.1): the signed octets are
 * `SAMLRequest=…&RelayState=…&SigAlg=…` exactly as URL-encoded in the query (RelayState only when present).
 */
export function redirectSignature(url: string): { signed: string; sigAlg: string; value: Buffer } {
  const parts = new URL(url).search.slice(1).split('&');
  const raw = (name: string) => parts.find((p) => p.startsWith(`${name}=`));
  const request = raw('SAMLRequest');
  const sigAlg = raw('SigAlg');
  const signature = raw('Signature');
  if (!request || !sigAlg || !signature) throw new Error('the redirect URL is not signed');
  const relay = raw('RelayState');
  const value = (part: string) => decodeURIComponent(part.slice(part.indexOf('=') + 1));
  return {
    signed: [request, ...(relay ? [relay] : []), sigAlg].join('&'),
    sigAlg: value(sigAlg),
    value: Buffer.from(value(signature), 'base64'),
  };
}

/** The base64 body of a PEM certificate, without armour or whitespace (as metadata carries it). */
export function certBody(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}

/** The certificate (PEM) an SP's metadata offers for encryption. */
export function encryptionCertificateOf(spMetadata: string): string {
  const descriptor = /<(?:\w+:)?KeyDescriptor use="encryption"[\s\S]*?<\/(?:\w+:)?KeyDescriptor>/.exec(
    spMetadata,
  )?.[0];
  const body = descriptor && /<(?:\w+:)?X509Certificate>([^<]+)</.exec(descriptor)?.[1];
  if (!body) throw new Error('the SP metadata offers no encryption certificate');
  return `-----BEGIN CERTIFICATE-----\n${body.replace(/\s+/g, '').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
}

/** An IdP's metadata, as SimpleSAMLphp, Keycloak or Shibboleth publish it (one or two signing certificates). */
export function idpMetadataXml(o: {
  entityId: string;
  ssoUrl: string;
  certificates: string[];
  /** Only the HTTP-POST binding (no HTTP-Redirect). */
  postOnly?: boolean;
}): string {
  const keys = o.certificates
    .map(
      (c) =>
        `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certBody(c)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
    )
    .join('');
  const bindings = [
    ...(o.postOnly ? [] : ['urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect']),
    'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
  ]
    .map((b) => `<md:SingleSignOnService Binding="${b}" Location="${esc(o.ssoUrl)}"/>`)
    .join('');
  return (
    `<?xml version="1.0"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${esc(o.entityId)}">` +
    `<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${keys}` +
    `<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>${bindings}` +
    '</md:IDPSSODescriptor></md:EntityDescriptor>'
  );
}
