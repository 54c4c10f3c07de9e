/**
 * The SAML service provider's error codes (a closed union) and their texts. Every refusal of a SAML response has
 * its own code so a tenant admin reading the audit trail (or the `?error=` on their redirect URI) knows which
 * check failed; none of them says more than the code about the response itself.
 */
import { AppError } from '../../../platform/http/errors.js';
import { registerMessages } from '../../../platform/http/messages.js';

const STATUS = {
  /** Not a SAML Response we can read (not base64, not XML, a DOCTYPE, no Response root, too large). */
  SAML_RESPONSE_INVALID: 400,
  /** No InResponseTo: an IdP-initiated response, refused (API.md §17). */
  SAML_IN_RESPONSE_TO_MISSING: 400,
  /** InResponseTo names no pending AuthnRequest of ours (unknown, expired or already consumed). */
  SAML_UNKNOWN_REQUEST: 401,
  /** The signed assertion's SubjectConfirmationData does not answer the request the response claims to answer. */
  SAML_IN_RESPONSE_TO_MISMATCH: 401,
  /** The connection of the pending request is gone or disabled. */
  SAML_CONNECTION_UNAVAILABLE: 401,
  /** No valid signature by the connection's pinned certificate over the assertion (also signature wrapping). */
  SAML_SIGNATURE_INVALID: 401,
  /** The assertion's Issuer is not the connection's idp_entity_id. */
  SAML_ISSUER_MISMATCH: 401,
  /** The assertion is not addressed to this SP entity id. */
  SAML_AUDIENCE_MISMATCH: 401,
  /** The bearer confirmation is for another ACS URL. */
  SAML_RECIPIENT_MISMATCH: 401,
  /** Past NotOnOrAfter (Conditions or SubjectConfirmationData), beyond the allowed clock skew. */
  SAML_ASSERTION_EXPIRED: 401,
  /** Before NotBefore, beyond the allowed clock skew. */
  SAML_ASSERTION_NOT_YET_VALID: 401,
  /** This assertion (or a response to this request) was already used. */
  SAML_REPLAY: 401,
  /** No usable NameID (missing, or transient: not a stable subject). */
  SAML_SUBJECT_INVALID: 401,
  /** The IdP answered with a non-success status (the user cancelled, was refused, ...). */
  SAML_IDP_ERROR: 401,
} as const satisfies Record<string, number>;

export type SamlErrorCode = keyof typeof STATUS;

export function samlError(code: SamlErrorCode, details?: Record<string, unknown>): AppError {
  return new AppError(STATUS[code], code, details);
}

export function isSamlErrorCode(code: string): code is SamlErrorCode {
  return Object.hasOwn(STATUS, code);
}

registerMessages({
  SAML_RESPONSE_INVALID: { fr: 'Réponse SAML illisible', en: 'Unreadable SAML response' },
  SAML_IN_RESPONSE_TO_MISSING: {
    fr: 'Réponse SAML sans InResponseTo : les connexions initiées par le fournisseur sont refusées',
    en: 'SAML response without InResponseTo: IdP-initiated sign-in is refused',
  },
  SAML_UNKNOWN_REQUEST: {
    fr: 'La réponse SAML ne correspond à aucune demande en cours',
    en: 'The SAML response answers no pending request',
  },
  SAML_IN_RESPONSE_TO_MISMATCH: {
    fr: "L'assertion SAML répond à une autre demande",
    en: 'The SAML assertion answers another request',
  },
  SAML_CONNECTION_UNAVAILABLE: {
    fr: 'Connexion SSO introuvable ou désactivée',
    en: 'SSO connection not found or disabled',
  },
  SAML_SIGNATURE_INVALID: { fr: 'Signature SAML invalide', en: 'Invalid SAML signature' },
  SAML_ISSUER_MISMATCH: { fr: 'Émetteur SAML inattendu', en: 'Unexpected SAML issuer' },
  SAML_AUDIENCE_MISMATCH: { fr: 'Audience SAML inattendue', en: 'Unexpected SAML audience' },
  SAML_RECIPIENT_MISMATCH: { fr: 'Destinataire SAML inattendu', en: 'Unexpected SAML recipient' },
  SAML_ASSERTION_EXPIRED: { fr: 'Assertion SAML expirée', en: 'SAML assertion expired' },
  SAML_ASSERTION_NOT_YET_VALID: {
    fr: 'Assertion SAML pas encore valide',
    en: 'SAML assertion not yet valid',
  },
  SAML_REPLAY: { fr: 'Assertion SAML déjà utilisée', en: 'SAML assertion already used' },
  SAML_SUBJECT_INVALID: { fr: 'Sujet SAML (NameID) inutilisable', en: 'Unusable SAML subject (NameID)' },
  SAML_IDP_ERROR: {
    fr: "Le fournisseur d'identité a refusé la connexion",
    en: 'The identity provider refused the sign-in',
  },
});
