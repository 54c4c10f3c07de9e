/**
 * An identity provider's SAML metadata (SAML 2.0 Metadata, OASIS saml-metadata-2.0-os), read for what a connection
 * needs: the entity id, the SingleSignOnService of the HTTP-Redirect binding (the one our AuthnRequests use) and
 * the signing certificates (at most two: the current one and, during the IdP's key rollover, the next).
 *
 * The document is the tenant admin's input (pasted, or fetched from a URL they gave through the SSRF guard): its own
 * signature is not checked, exactly as a certificate pasted by hand is not. It is parsed once, without DTDs or
 * entities, and nothing in it is ever fetched.
 */
import { X509Certificate } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const SAML2_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
const HTTP_REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

export interface IdpMetadata {
  entityId: string;
  ssoUrl: string;
  /** Base64 DER bodies, as metadata carries them: one, or two during a rollover. */
  certificates: string[];
}

/** Why a metadata document cannot configure a connection (the caller turns it into a 422 on its field). */
export class IdpMetadataError extends Error {}

/**
 * Reads an IdP metadata document. `entityId`, when given, picks that entity in an aggregate (EntitiesDescriptor);
 * without it the document must describe exactly one identity provider.
 */
export function parseIdpMetadata(xml: string, entityId?: string): IdpMetadata {
  // Metadata never needs a DTD; refusing one up front rules out entity expansion.
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new IdpMetadataError('a DTD is not allowed in metadata');
  let root: Element | null;
  try {
    const errors: string[] = [];
    const doc = new DOMParser({
      onError: (level, message) => {
        if (level !== 'warning') errors.push(message);
      },
    }).parseFromString(xml, 'text/xml');
    root = errors.length > 0 ? null : (doc.documentElement as unknown as Element | null);
  } catch {
    root = null;
  }
  if (
    !root ||
    root.namespaceURI !== MD ||
    !['EntityDescriptor', 'EntitiesDescriptor'].includes(root.localName)
  )
    throw new IdpMetadataError('not SAML 2.0 metadata (an EntityDescriptor)');

  const entities = (
    root.localName === 'EntityDescriptor' ? [root] : descendants(root, MD, 'EntityDescriptor')
  )
    .map((entity) => ({ entity, idp: children(entity, MD, 'IDPSSODescriptor').find(speaksSaml2) }))
    .filter((e): e is { entity: Element; idp: Element } => e.idp !== undefined);
  const chosen = entityId ? entities.filter((e) => e.entity.getAttribute('entityID') === entityId) : entities;
  if (chosen.length === 0)
    throw new IdpMetadataError(
      entityId
        ? `no SAML 2.0 identity provider ${entityId} in the metadata`
        : 'no SAML 2.0 identity provider in the metadata',
    );
  if (chosen.length > 1)
    throw new IdpMetadataError(
      'the metadata describes several identity providers: give idp_entity_id to pick one',
    );
  const { entity, idp } = chosen[0]!;

  const id = entity.getAttribute('entityID')?.trim();
  if (!id) throw new IdpMetadataError('the EntityDescriptor has no entityID');
  const sso = children(idp, MD, 'SingleSignOnService').find(
    (s) => s.getAttribute('Binding') === HTTP_REDIRECT,
  );
  const ssoUrl = sso?.getAttribute('Location')?.trim();
  if (!ssoUrl)
    throw new IdpMetadataError(
      'the identity provider offers no SingleSignOnService with the HTTP-Redirect binding (the one this SP sends requests with)',
    );

  // KeyDescriptor without `use` serves both signing and encryption (metadata §2.4.1.1).
  const certificates = [
    ...new Set(
      children(idp, MD, 'KeyDescriptor')
        .filter((k) => (k.getAttribute('use') || 'signing') === 'signing')
        .flatMap((k) => descendants(k, DS, 'X509Certificate'))
        .map((c) => (c.textContent ?? '').replace(/\s+/g, '')),
    ),
  ].filter((c) => c.length > 0);
  if (certificates.length === 0)
    throw new IdpMetadataError('the identity provider publishes no signing certificate');
  if (certificates.length > 2)
    throw new IdpMetadataError(
      'more than two signing certificates: a connection pins the current one and the next',
    );
  for (const cert of certificates) {
    try {
      new X509Certificate(Buffer.from(cert, 'base64'));
    } catch {
      throw new IdpMetadataError('a signing certificate in the metadata is not an X.509 certificate');
    }
  }
  return { entityId: id, ssoUrl, certificates };
}

function speaksSaml2(descriptor: Element): boolean {
  return (descriptor.getAttribute('protocolSupportEnumeration') ?? '').split(/\s+/).includes(SAML2_PROTOCOL);
}

function children(parent: Element, ns: string, name: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    const el = n as unknown as Element;
    if (n.nodeType === 1 && el.namespaceURI === ns && el.localName === name) out.push(el);
  }
  return out;
}

function descendants(parent: Element, ns: string, name: string): Element[] {
  return Array.from(parent.getElementsByTagNameNS(ns, name) as unknown as ArrayLike<Element>);
}

/** How long the IdP may take to answer a metadata fetch. */
const FETCH_TIMEOUT_MS = 10_000;

/**
 * Fetches metadata from the URL a tenant admin gave, through the SSRF guard (https only, never a private address in
 * staging and prod, every redirect re-checked; the guard caps the body at 1 MB).
 */
export async function fetchIdpMetadata(
  fetch: (url: string, init?: RequestInit) => Promise<Response>,
  url: string,
): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { accept: 'application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.8' },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
  } catch (err) {
    throw new IdpMetadataError(
      `could not fetch the metadata: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (res.status !== 200) throw new IdpMetadataError(`the metadata URL answered ${res.status}`);
  return res.text();
}
