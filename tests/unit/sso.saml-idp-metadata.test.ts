/**
 * Issue 19: an identity provider's SAML metadata, read for what a connection needs (entity id, the HTTP-Redirect
 * SingleSignOnService, one or two signing certificates), as SimpleSAMLphp, Keycloak, Shibboleth and Entra ID publish it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { IdpMetadataError, parseIdpMetadata } from '../../src/modules/sso/saml/idp-metadata.js';
import { certBody, idpMetadataXml, makeIdpKeys, type TestIdpKeys } from '../helpers/saml-idp.js';

const ENTITY = 'https://idp.example.org/simplesaml/saml2/idp/metadata.php';
const SSO = 'https://idp.example.org/simplesaml/saml2/idp/SSOService.php';

describe('issue 19 SAML: IdP metadata import', () => {
  let current: TestIdpKeys;
  let next: TestIdpKeys;
  beforeAll(async () => {
    [current, next] = await Promise.all([makeIdpKeys('current.idp'), makeIdpKeys('next.idp')]);
  });

  const refusal = (xml: string, entityId?: string) => {
    try {
      parseIdpMetadata(xml, entityId);
    } catch (err) {
      expect(err).toBeInstanceOf(IdpMetadataError);
      return (err as Error).message;
    }
    return 'ACCEPTED';
  };

  it('reads the entity id, the HTTP-Redirect SSO URL and the signing certificate', () => {
    const md = parseIdpMetadata(
      idpMetadataXml({ entityId: ENTITY, ssoUrl: SSO, certificates: [current.certificate] }),
    );
    expect(md).toEqual({ entityId: ENTITY, ssoUrl: SSO, certificates: [certBody(current.certificate)] });
  });

  it('during a rollover it reads both signing certificates (current first); an encryption key is not one', () => {
    const xml = idpMetadataXml({
      entityId: ENTITY,
      ssoUrl: SSO,
      certificates: [current.certificate, next.certificate],
    })
      // An encryption-only key beside them (Shibboleth publishes one): not a signing certificate.
      .replace(
        '<md:NameIDFormat>',
        `<md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certBody(
          current.certificate,
        )
          .split('')
          .reverse()
          .join('')}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:NameIDFormat>`,
      );
    expect(parseIdpMetadata(xml).certificates).toEqual([
      certBody(current.certificate),
      certBody(next.certificate),
    ]);
  });

  it('in an aggregate (EntitiesDescriptor), idp_entity_id picks the entity; without it several IdPs are refused', () => {
    const one = idpMetadataXml({ entityId: ENTITY, ssoUrl: SSO, certificates: [current.certificate] });
    const two = idpMetadataXml({
      entityId: 'https://other.example/idp',
      ssoUrl: 'https://other.example/sso',
      certificates: [next.certificate],
    });
    const strip = (x: string) => x.replace('<?xml version="1.0"?>', '');
    const aggregate = `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">${strip(one)}${strip(two)}</md:EntitiesDescriptor>`;
    expect(parseIdpMetadata(aggregate, 'https://other.example/idp')).toMatchObject({
      entityId: 'https://other.example/idp',
      ssoUrl: 'https://other.example/sso',
    });
    expect(refusal(aggregate)).toMatch(/several identity providers/);
    expect(refusal(aggregate, 'https://absent.example')).toMatch(/no SAML 2.0 identity provider/);
  });

  it.each<[string, string, RegExp]>([
    ['a DTD', '<!DOCTYPE x [<!ENTITY a "b">]><md:EntityDescriptor/>', /DTD/],
    ['not XML', 'this is not metadata', /not SAML 2.0 metadata/],
    ['another XML document', '<html><body>login</body></html>', /not SAML 2.0 metadata/],
    [
      'an SP, not an IdP',
      '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>',
      /no SAML 2.0 identity provider/,
    ],
  ])('refuses %s', (_name, xml, message) => {
    expect(refusal(xml)).toMatch(message);
  });

  it('refuses an IdP without the HTTP-Redirect binding, without a certificate, with a broken one, or with three', async () => {
    expect(
      refusal(
        idpMetadataXml({
          entityId: ENTITY,
          ssoUrl: SSO,
          certificates: [current.certificate],
          postOnly: true,
        }),
      ),
    ).toMatch(/HTTP-Redirect/);
    expect(refusal(idpMetadataXml({ entityId: ENTITY, ssoUrl: SSO, certificates: [] }))).toMatch(
      /no signing certificate/,
    );
    expect(
      refusal(idpMetadataXml({ entityId: ENTITY, ssoUrl: SSO, certificates: ['bm90IGEgY2VydA=='] })),
    ).toMatch(/not an X.509/);
    const third = await makeIdpKeys('third.idp');
    expect(
      refusal(
        idpMetadataXml({
          entityId: ENTITY,
          ssoUrl: SSO,
          certificates: [current.certificate, next.certificate, third.certificate],
        }),
      ),
    ).toMatch(/more than two/);
  });
});
