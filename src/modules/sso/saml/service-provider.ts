/**
 * SAML 2.0 service provider (API.md §17) over @node-saml/node-saml, with the checks that library leaves to us:
 *
 * - The AuthnRequest id is the caller's (the sso module derives it from the flow's state and keeps it in the flow
 *   state, its single record of the sign-in: see ../callback.ts), and REQUIRED: a response without InResponseTo
 *   (IdP-initiated) is refused, and the envelope's and the signed assertion's InResponseTo must both be the
 *   expected id. node-saml's own InResponseTo cache is not used: it reads then removes, which two replicas racing
 *   with the same response both pass.
 * - A signature is required, on the Response or on the Assertion (at least one; Okta and Entra ID sign the
 *   assertion, Shibboleth only the Response, some IdPs both), made by one of the connection's pinned certificates
 *   (the current one and, during the IdP's key rollover, the next; node-saml hands xml-crypto those as publicCert,
 *   KeyInfo is never trusted). node-saml takes the assertion out of the bytes that signature covers (a signed
 *   Response covers its one assertion), and refuses a second assertion anywhere in the Response. Everything below is
 *   read from that signed assertion (profile.getAssertion()), never from the unsigned envelope.
 * - Encrypted assertions (EncryptedAssertion, as Entra ID, Okta and AD FS offer) are decrypted with the SP key
 *   pair; the metadata publishes its certificate for encryption too. A plain assertion is accepted as well.
 * - The assertion's Issuer must be the connection's idp_entity_id (node-saml checks issuers only on logout).
 * - Audience = the SP entity id; the bearer SubjectConfirmationData must name our ACS URL as Recipient, answer
 *   this very request (InResponseTo, signed) and not be past NotOnOrAfter.
 * - Time windows are checked twice with at most 2 minutes of skew: by node-saml against the system time (it reads
 *   `new Date()` and offers no clock option) and here against ctx.clock (the app's clock, which tests move).
 * - Used assertion ids are kept in the shared store until their NotOnOrAfter (plus skew) with an atomic
 *   set-if-absent, and the request id is consumed the same way: of two replicas posting the same assertion,
 *   exactly one wins.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  type CacheProvider,
  type Profile,
  SAML,
  SamlStatusError,
  ValidateInResponseTo,
} from '@node-saml/node-saml';
import { DOMParser } from '@xmldom/xmldom';
import type { Clock } from '../../../platform/clock.js';
import type { KeyValueStore } from '../../../platform/store/types.js';
import type { SamlAttributeMap } from '../tables.js';
import { samlError } from './errors.js';
import type { SpSigningKey } from './sp-key.js';

/** The SAML fields of an SSO connection (the sso module's connection row, reduced to what SAML needs). */
export interface SamlConnection {
  id: string;
  tenantId: number;
  idpEntityId: string;
  idpSsoUrl: string;
  /**
   * PEM or bare base64 DER of the IdP's signing certificates: the current one, and the next during a rollover.
   * Only signatures by these are accepted.
   */
  idpCertificates: string[];
  /** Which attribute carries the email and names, overriding the usual names (null: the usual names). */
  attributeMap: SamlAttributeMap | null;
  /** null: the default, derived from PUBLIC_URL (see spEntityIdOf). */
  spEntityId: string | null;
}

/** A posted SAMLResponse, decoded and read once: what the ACS routes on, then validates. */
export interface SamlResponse {
  /** The SAMLResponse as posted (base64): node-saml validates this form. */
  encoded: string;
  /** The envelope's InResponseTo (unsigned: a lookup key only; the signed one must match it), null if absent. */
  inResponseTo: string | null;
}

/** A verified SAML sign-in: what the shared SSO completion needs. */
export interface SamlIdentity {
  connectionId: string;
  tenantId: number;
  /** The assertion's Issuer (= the connection's idp_entity_id). */
  issuer: string;
  /** NameID: with the connection and issuer, the external identity's key. */
  subject: string;
  nameIdFormat: string | null;
  email: string | null;
  /** Display name, or given and family names joined. */
  name: string | null;
  givenName: string | null;
  familyName: string | null;
  assertionId: string;
  sessionIndex: string | null;
  /** SAML carries no "email verified" claim: linking by email needs a domain the tenant verified (§17). */
  emailVerified: false;
  /** The signed assertion says the IdP used a second factor (MFA_AUTHN_CONTEXTS, or Entra ID's authnmethodsreferences). */
  mfaAsserted: boolean;
  /** Every attribute of the signed assertion (what a connection test shows the admin). */
  attributes: SamlAttribute[];
}

export interface SamlAttribute {
  name: string;
  friendlyName: string | null;
  values: string[];
}

export const SAML_ACS_PATH = '/api/v1/sso/saml/acs';
/** Largest accepted clock difference with the IdP (API.md §17: at most 2 minutes). */
export const SAML_CLOCK_SKEW_MS = 120_000;
/** How long a request id is remembered as answered (the flow that sent it lives at most as long). */
export const SAML_REQUEST_TTL_SECONDS = 600;
/** Upper bound on how long a used assertion id is kept, whatever NotOnOrAfter says (request ids guard beyond). */
const MAX_REPLAY_TTL_SECONDS = 24 * 3600;
/** Largest SAMLResponse (base64 characters) read at all. */
export const SAML_RESPONSE_MAX_CHARS = 512 * 1024;

const NAMEID_EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
const NAMEID_UNSPECIFIED = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';
const NAMEID_TRANSIENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';
const PROTOCOL_NS = 'urn:oasis:names:tc:SAML:2.0:protocol';
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';

/** Attribute names IdPs use for the email address (Entra ID claim URIs, Okta/Google custom names, LDAP OIDs). */
/**
 * The names IdPs give each field, tried in this order, against each attribute's Name and FriendlyName (compared
 * without case): friendly names (Okta, Google, SimpleSAMLphp's `name` format), LDAP OIDs (`urn:oid:`, what
 * Shibboleth and SimpleSAMLphp send in the URI format), the older `urn:mace:dir:attribute-def:` names, and the
 * WS-Federation claim URIs of Entra ID and AD FS. Entra's `.../claims/name` is the UPN, not a display name: not
 * used. A connection's attribute_map replaces the list of a field it maps.
 */
export const DEFAULT_ATTRIBUTE_NAMES = {
  email: [
    'email',
    'emailAddress',
    'mail',
    'user.email',
    'urn:oid:0.9.2342.19200300.100.1.3',
    'urn:mace:dir:attribute-def:mail',
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
    'http://schemas.xmlsoap.org/claims/EmailAddress',
  ],
  name: [
    'displayName',
    'name',
    'urn:oid:2.16.840.1.113730.3.1.241',
    'urn:mace:dir:attribute-def:displayName',
    'http://schemas.microsoft.com/identity/claims/displayname',
    'cn',
    'urn:oid:2.5.4.3',
    'urn:mace:dir:attribute-def:cn',
    'http://schemas.xmlsoap.org/claims/CommonName',
  ],
  given_name: [
    'firstName',
    'givenName',
    'given_name',
    'urn:oid:2.5.4.42',
    'urn:mace:dir:attribute-def:givenName',
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname',
  ],
  family_name: [
    'lastName',
    'surname',
    'sn',
    'family_name',
    'urn:oid:2.5.4.4',
    'urn:mace:dir:attribute-def:sn',
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname',
  ],
} as const satisfies Record<keyof SamlAttributeMap, readonly string[]>;

/**
 * AuthnContextClassRef values that mean a second factor was used (trust_mfa skips the MFA step only then, issue 18):
 * the SAML 2.0 classes that involve two factors by definition (Authentication Context for SAML 2.0, §3.4), the
 * REFEDS MFA profile, and Microsoft's (Entra ID / AD FS) multiple-authentication claim. PasswordProtectedTransport,
 * X509, Kerberos and the other single-factor classes are not in it. Compared exactly.
 */
export const MFA_AUTHN_CONTEXTS: ReadonlySet<string> = new Set([
  'urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:MultiFactor',
  'https://refeds.org/profile/mfa',
  'http://schemas.microsoft.com/claims/multipleauthn',
]);
/** Entra ID states the methods used in this (signed) attribute; `multipleauthn` among them means MFA. */
const AUTHN_METHODS_ATTRIBUTE = 'http://schemas.microsoft.com/claims/authnmethodsreferences';

/** Store keys of the SAML SP (kept here with their lifetimes; see platform/store/keys.ts for the others). */
export const samlKeys = {
  /** Present once a response to that request was accepted: a second one loses. TTL: SAML_REQUEST_TTL_SECONDS. */
  requestUsed: (requestId: string) => `sso:saml:req:used:${requestId}`,
  /** A used assertion (hash of issuer and ID), until its NotOnOrAfter plus skew (at most a day). */
  assertionUsed: (issuer: string, assertionId: string) =>
    `sso:saml:asr:${createHash('sha256').update(`${issuer}\n${assertionId}`).digest('base64url')}`,
};

export const acsUrlOf = (publicUrl: string) => `${trimSlash(publicUrl)}${SAML_ACS_PATH}`;
export const metadataUrlOf = (publicUrl: string, connectionId: string) =>
  `${trimSlash(publicUrl)}/api/v1/sso/saml/${connectionId}/metadata`;
/** The SP entity id: the connection's own, or by default the URL of its metadata (unique per connection). */
export const spEntityIdOf = (publicUrl: string, conn: Pick<SamlConnection, 'id' | 'spEntityId'>) =>
  conn.spEntityId?.trim() || metadataUrlOf(publicUrl, conn.id);

/** The SHA-256 of a certificate's DER (PEM or bare base64 body), as IdP consoles show it: how the audit names one. */
export function certificateFingerprint(certificate: string): string {
  const der = Buffer.from(
    certificate.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, ''),
    'base64',
  );
  return createHash('sha256').update(der).digest('hex');
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** node-saml wants a cache provider; ours keeps nothing (request ids live in the caller's flow, see above). */
const noCache: CacheProvider = {
  saveAsync: async () => null,
  getAsync: async () => null,
  removeAsync: async () => null,
};

export interface SamlServiceProviderDeps {
  store: KeyValueStore;
  clock: Clock;
  publicUrl: string;
  /**
   * The SP's RSA key and certificate: SAML_SP_* when configured, else the generated one kept in the database
   * (./sp-key.ts). Every AuthnRequest is signed with it and the metadata publishes the certificate.
   */
  signingKey: () => Promise<SpSigningKey>;
}

export class SamlServiceProvider {
  constructor(private readonly deps: SamlServiceProviderDeps) {}

  get acsUrl(): string {
    return acsUrlOf(this.deps.publicUrl);
  }

  private saml(
    conn: SamlConnection,
    extra: {
      requestId?: string;
      identifierFormat?: string;
      signing?: SpSigningKey;
      /** The SP key pair that decrypts EncryptedAssertions (and whose certificate the metadata offers for it). */
      decryption?: SpSigningKey;
      /** Metadata asks IdPs to sign assertions (the safest default to request); validation takes either placement. */
      forMetadata?: boolean;
    } = {},
  ): SAML {
    const entityId = spEntityIdOf(this.deps.publicUrl, conn);
    return new SAML({
      callbackUrl: this.acsUrl,
      entryPoint: conn.idpSsoUrl,
      issuer: entityId,
      audience: entityId,
      idpIssuer: conn.idpEntityId,
      idpCert: conn.idpCertificates,
      // Neither placement is required on its own; node-saml then requires at least one valid signature, on the
      // Response or on the Assertion, by a pinned certificate (see the top of this file).
      wantAssertionsSigned: extra.forMetadata === true,
      wantAuthnResponseSigned: false,
      acceptedClockSkewMs: SAML_CLOCK_SKEW_MS,
      validateInResponseTo: ValidateInResponseTo.never,
      cacheProvider: noCache,
      identifierFormat: extra.identifierFormat ?? NAMEID_UNSPECIFIED,
      // Requesting PasswordProtectedTransport makes Entra ID and Okta fail users who signed in without a password.
      disableRequestedAuthnContext: true,
      generateUniqueId: () => extra.requestId ?? newRequestId(),
      // The HTTP-Redirect binding's query is signed (SigAlg + Signature, RSA-SHA256).
      ...(extra.signing
        ? { privateKey: extra.signing.privateKey, signatureAlgorithm: 'sha256' as const }
        : {}),
      ...(extra.decryption ? { decryptionPvk: extra.decryption.privateKey } : {}),
    });
  }

  /**
   * SP metadata: entity id, the ACS (HTTP-POST), signed assertions wanted, NameID format email, signed
   * AuthnRequests, and the SP certificate for signing and for encryption (one key pair, kept sealed).
   */
  async metadata(conn: SamlConnection): Promise<string> {
    const key = await this.deps.signingKey();
    return this.saml(conn, {
      identifierFormat: NAMEID_EMAIL,
      signing: key,
      decryption: key,
      forMetadata: true,
    }).generateServiceProviderMetadata(key.certificate, key.certificate);
  }

  /**
   * Starts a SP-initiated sign-in: an AuthnRequest for the HTTP-Redirect binding to the connection's
   * idp_sso_url, with this request id (the caller keeps it; nothing is stored here). `relayState` is the flow's
   * opaque state.
   */
  async startSignIn(
    conn: SamlConnection,
    flow: { relayState: string; requestId?: string },
  ): Promise<{ url: string; requestId: string }> {
    const requestId = flow.requestId ?? newRequestId();
    const signing = await this.deps.signingKey();
    const url = await this.saml(conn, { requestId, signing }).getAuthorizeUrlAsync(
      flow.relayState,
      undefined,
      {},
    );
    return { url, requestId };
  }

  /**
   * Validates a response (read once by readSamlResponse) that must answer `expected.requestId`, against the
   * connection of its flow, and consumes both the assertion id and the request id. Throws a SAML_* AppError on
   * any failure.
   */
  async validate(
    conn: SamlConnection,
    expected: { requestId: string },
    response: SamlResponse,
  ): Promise<SamlIdentity> {
    if (response.inResponseTo === null) throw samlError('SAML_IN_RESPONSE_TO_MISSING');
    if (response.inResponseTo !== expected.requestId) throw samlError('SAML_IN_RESPONSE_TO_MISMATCH');

    const decryption = await this.deps.signingKey();
    let profile: Profile | null;
    try {
      ({ profile } = await this.saml(conn, { decryption }).validatePostResponseAsync({
        SAMLResponse: response.encoded,
      }));
    } catch (err) {
      throw mapLibraryError(err);
    }
    const assertion = (profile?.getAssertion?.() as { Assertion?: XmlNode } | undefined)?.Assertion;
    if (!profile || !assertion) throw samlError('SAML_RESPONSE_INVALID');

    const now = this.deps.clock.now();
    const issuer = text(assertion.Issuer?.[0]);
    if (issuer !== conn.idpEntityId) throw samlError('SAML_ISSUER_MISMATCH');
    const assertionId = assertion.$?.ID;
    if (!assertionId) throw samlError('SAML_RESPONSE_INVALID');

    // Conditions (node-saml checked them against system time; again against the app clock).
    const conditions = assertion.Conditions?.[0];
    const notBefore = time(conditions?.$?.NotBefore);
    const conditionsEnd = time(conditions?.$?.NotOnOrAfter);
    if (notBefore !== null && now + SAML_CLOCK_SKEW_MS < notBefore) {
      throw samlError('SAML_ASSERTION_NOT_YET_VALID');
    }
    if (conditionsEnd !== null && now - SAML_CLOCK_SKEW_MS >= conditionsEnd) {
      throw samlError('SAML_ASSERTION_EXPIRED');
    }

    // Bearer confirmation: answers this request, for our ACS, still valid (SAML Web SSO profile §4.1.4.2).
    const subject = assertion.Subject?.[0];
    const bearer = (subject?.SubjectConfirmation ?? []).filter((c) => c.$?.Method === BEARER);
    const data = bearer.map((c) => c.SubjectConfirmationData?.[0]).filter((d): d is XmlNode => !!d);
    if (data.length === 0) throw samlError('SAML_IN_RESPONSE_TO_MISMATCH');
    const answering = data.filter((d) => d.$?.InResponseTo === expected.requestId);
    if (answering.length === 0) throw samlError('SAML_IN_RESPONSE_TO_MISMATCH');
    const forUs = answering.filter((d) => d.$?.Recipient === this.acsUrl);
    if (forUs.length === 0) throw samlError('SAML_RECIPIENT_MISMATCH');
    const live = forUs.filter((d) => {
      const end = time(d.$?.NotOnOrAfter);
      const start = time(d.$?.NotBefore);
      return (
        end !== null &&
        now - SAML_CLOCK_SKEW_MS < end &&
        (start === null || now + SAML_CLOCK_SKEW_MS >= start)
      );
    });
    if (live.length === 0) throw samlError('SAML_ASSERTION_EXPIRED');
    const confirmationEnd = Math.max(...live.map((d) => time(d.$?.NotOnOrAfter) ?? 0));

    // Subject: a stable NameID.
    const nameId = subject?.NameID?.[0];
    const subjectValue = text(nameId)?.trim();
    const nameIdFormat = nameId?.$?.Format ?? null;
    if (!subjectValue || nameIdFormat === NAMEID_TRANSIENT) throw samlError('SAML_SUBJECT_INVALID');

    // Single use, across replicas: the assertion id until it can no longer validate, then the request id.
    const validUntil = Math.max(confirmationEnd, conditionsEnd ?? 0) + SAML_CLOCK_SKEW_MS;
    const replayTtl = Math.min(MAX_REPLAY_TTL_SECONDS, Math.max(1, Math.ceil((validUntil - now) / 1000)));
    if (!(await this.deps.store.setIfAbsent(samlKeys.assertionUsed(issuer, assertionId), '1', replayTtl))) {
      throw samlError('SAML_REPLAY');
    }
    if (
      !(await this.deps.store.setIfAbsent(
        samlKeys.requestUsed(expected.requestId),
        '1',
        SAML_REQUEST_TTL_SECONDS,
      ))
    ) {
      throw samlError('SAML_REPLAY');
    }

    const attributes = attributesOf(assertion);
    const field = (name: keyof SamlAttributeMap) =>
      firstValue(
        attributes,
        conn.attributeMap?.[name] ? [conn.attributeMap[name]] : DEFAULT_ATTRIBUTE_NAMES[name],
      );
    // A mapped email attribute wins over an email NameID; otherwise an email NameID is the address.
    const email =
      nameIdFormat === NAMEID_EMAIL && looksLikeEmail(subjectValue) && !conn.attributeMap?.email
        ? subjectValue.toLowerCase()
        : (field('email')?.toLowerCase() ?? null);
    // Read from the signed assertion only (never from the unsigned envelope), like everything above.
    const classRefs = nodes(assertion, 'AuthnStatement')
      .flatMap((st) => nodes(st, 'AuthnContext'))
      .flatMap((c) => nodes(c, 'AuthnContextClassRef'))
      .map((n) => text(n)?.trim() ?? '');
    const methods = attributes.find((a) => a.name === AUTHN_METHODS_ATTRIBUTE)?.values ?? [];
    const mfaAsserted =
      classRefs.some((c) => MFA_AUTHN_CONTEXTS.has(c)) ||
      methods.includes('http://schemas.microsoft.com/claims/multipleauthn');
    const givenName = field('given_name');
    const familyName = field('family_name');
    const fullName = field('name') ?? ([givenName, familyName].filter(Boolean).join(' ') || null);
    return {
      connectionId: conn.id,
      tenantId: conn.tenantId,
      issuer,
      subject: subjectValue,
      nameIdFormat,
      email: email && looksLikeEmail(email) ? email : null,
      name: fullName,
      givenName,
      familyName,
      assertionId,
      sessionIndex: typeof profile.sessionIndex === 'string' ? profile.sessionIndex : null,
      emailVerified: false,
      mfaAsserted,
      attributes,
    };
  }
}

/**
 * Reads a posted SAMLResponse once: the size and DOCTYPE guards (before any library parses it), then its
 * (unsigned) InResponseTo, or null when it has none (an IdP-initiated response): a lookup key only, never
 * trusted (the signed one must match it). SAML_RESPONSE_INVALID when unreadable.
 */
export function readSamlResponse(samlResponse: string): SamlResponse {
  const xml = decodeResponse(samlResponse);
  let root: Element | null = null;
  try {
    const doc = new DOMParser({ onError: () => {} }).parseFromString(xml, 'text/xml');
    root = doc.documentElement as unknown as Element | null;
  } catch {
    root = null;
  }
  if (root?.localName !== 'Response' || root?.namespaceURI !== PROTOCOL_NS) {
    throw samlError('SAML_RESPONSE_INVALID');
  }
  return { encoded: samlResponse, inResponseTo: root.getAttribute('InResponseTo')?.trim() || null };
}

/** node-saml style ids: an NCName ('_' then hex), 160 random bits. */
function newRequestId(): string {
  return `_${randomBytes(20).toString('hex')}`;
}

/** The posted SAMLResponse as XML, or SAML_RESPONSE_INVALID (too large, not base64, a DOCTYPE). */
function decodeResponse(samlResponse: string): string {
  if (
    typeof samlResponse !== 'string' ||
    samlResponse.length === 0 ||
    samlResponse.length > SAML_RESPONSE_MAX_CHARS
  ) {
    throw samlError('SAML_RESPONSE_INVALID');
  }
  if (!/^[A-Za-z0-9+/=\s]+$/.test(samlResponse)) throw samlError('SAML_RESPONSE_INVALID');
  const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
  // SAML messages never carry a DTD; refusing one up front rules out entity expansion tricks.
  if (!xml.includes('<') || /<!DOCTYPE|<!ENTITY/i.test(xml)) throw samlError('SAML_RESPONSE_INVALID');
  return xml;
}

/** The library's errors are plain Errors with English texts: each becomes our code. */
function mapLibraryError(err: unknown) {
  if (err instanceof SamlStatusError) return samlError('SAML_IDP_ERROR');
  const message = err instanceof Error ? err.message : String(err);
  if (/signature|signed|ID cannot refer|Referenced node|multiple assertions/i.test(message)) {
    return samlError('SAML_SIGNATURE_INVALID');
  }
  if (/not yet valid/i.test(message)) return samlError('SAML_ASSERTION_NOT_YET_VALID');
  if (/expired/i.test(message)) return samlError('SAML_ASSERTION_EXPIRED');
  if (/audience/i.test(message)) return samlError('SAML_AUDIENCE_MISMATCH');
  return samlError('SAML_RESPONSE_INVALID');
}

/** xml2js nodes as node-saml parses them (explicitCharkey: text in `_`, attributes in `$`, prefixes stripped). */
interface XmlNode {
  _?: string;
  $?: Record<string, string>;
  [child: string]: XmlNode[] | string | Record<string, string> | undefined;
  Issuer?: XmlNode[];
  Conditions?: XmlNode[];
  Subject?: XmlNode[];
  NameID?: XmlNode[];
  SubjectConfirmation?: XmlNode[];
  SubjectConfirmationData?: XmlNode[];
}

function text(node: XmlNode | string | undefined): string | null {
  if (typeof node === 'string') return node;
  return typeof node?._ === 'string' ? node._ : null;
}

/** The child elements of that name (xml2js arrays; prefixes stripped). */
function nodes(node: XmlNode | undefined, name: string): XmlNode[] {
  const v = node?.[name];
  return Array.isArray(v) ? v.filter((x): x is XmlNode => typeof x === 'object' && x !== null) : [];
}

function time(value: string | undefined): number | null {
  if (!value) return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw samlError('SAML_RESPONSE_INVALID');
  return ms;
}

/** The signed assertion's attributes (every AttributeStatement), with their text values. */
function attributesOf(assertion: XmlNode): SamlAttribute[] {
  return nodes(assertion, 'AttributeStatement')
    .flatMap((st) => nodes(st, 'Attribute'))
    .filter((a) => typeof a.$?.Name === 'string')
    .map((a) => ({
      name: a.$!.Name!,
      friendlyName: a.$?.FriendlyName ?? null,
      values: nodes(a, 'AttributeValue')
        .map((v) => text(v))
        .filter((v): v is string => v !== null),
    }));
}

/** The first non-empty value of the first of `names` present, matched on Name, then FriendlyName, without case. */
function firstValue(attributes: SamlAttribute[], names: readonly string[]): string | null {
  for (const wanted of names) {
    const lower = wanted.toLowerCase();
    const attr =
      attributes.find((a) => a.name.toLowerCase() === lower) ??
      attributes.find((a) => a.friendlyName?.toLowerCase() === lower);
    const value = attr?.values.find((v) => v.trim());
    if (value) return value.trim().slice(0, 255);
  }
  return null;
}

function looksLikeEmail(value: string): boolean {
  return value.length <= 254 && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value);
}
