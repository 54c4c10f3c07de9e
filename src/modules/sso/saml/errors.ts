/**
 * The SAML service provider's error codes (a closed union) and their texts. Every refusal of a SAML response has
 * its own code so a tenant admin reading the audit trail (or the `?error=` on their redirect URI) knows which
 * check failed; none of them says more than the code about the response itself.
 */
import { type AppError, defineErrors } from '../../../platform/http/errors.js';

export const samlErrors = defineErrors({
  /** Not a SAML Response we can read (not base64, not XML, a DOCTYPE, no Response root, too large). */
  SAML_RESPONSE_INVALID: [400, 'Réponse SAML illisible', 'Unreadable SAML response'],
  /** No InResponseTo: an IdP-initiated response, refused (API.md §17). */
  SAML_IN_RESPONSE_TO_MISSING: [
    400,
    'Réponse SAML sans InResponseTo : les connexions initiées par le fournisseur sont refusées',
    'SAML response without InResponseTo: IdP-initiated sign-in is refused',
  ],
  /** InResponseTo names no pending AuthnRequest of ours (unknown, expired or already consumed). */
  SAML_UNKNOWN_REQUEST: [
    401,
    'La réponse SAML ne correspond à aucune demande en cours',
    'The SAML response answers no pending request',
  ],
  /** The signed assertion's SubjectConfirmationData does not answer the request the response claims to answer. */
  SAML_IN_RESPONSE_TO_MISMATCH: [
    401,
    "L'assertion SAML répond à une autre demande",
    'The SAML assertion answers another request',
  ],
  /** The connection of the pending request is gone or disabled. */
  SAML_CONNECTION_UNAVAILABLE: [
    401,
    'Connexion SSO introuvable ou désactivée',
    'SSO connection not found or disabled',
  ],
  /** No valid signature by the connection's pinned certificate over the assertion (also signature wrapping). */
  SAML_SIGNATURE_INVALID: [401, 'Signature SAML invalide', 'Invalid SAML signature'],
  /** The assertion's Issuer is not the connection's idp_entity_id. */
  SAML_ISSUER_MISMATCH: [401, 'Émetteur SAML inattendu', 'Unexpected SAML issuer'],
  /** The assertion is not addressed to this SP entity id. */
  SAML_AUDIENCE_MISMATCH: [401, 'Audience SAML inattendue', 'Unexpected SAML audience'],
  /** The bearer confirmation is for another ACS URL. */
  SAML_RECIPIENT_MISMATCH: [401, 'Destinataire SAML inattendu', 'Unexpected SAML recipient'],
  /** Past NotOnOrAfter (Conditions or SubjectConfirmationData), beyond the allowed clock skew. */
  SAML_ASSERTION_EXPIRED: [401, 'Assertion SAML expirée', 'SAML assertion expired'],
  /** Before NotBefore, beyond the allowed clock skew. */
  SAML_ASSERTION_NOT_YET_VALID: [401, 'Assertion SAML pas encore valide', 'SAML assertion not yet valid'],
  /** This assertion (or a response to this request) was already used. */
  SAML_REPLAY: [401, 'Assertion SAML déjà utilisée', 'SAML assertion already used'],
  /** No usable NameID (missing, or transient: not a stable subject). */
  SAML_SUBJECT_INVALID: [401, 'Sujet SAML (NameID) inutilisable', 'Unusable SAML subject (NameID)'],
  /** The IdP answered with a non-success status (the user cancelled, was refused, ...). */
  SAML_IDP_ERROR: [
    401,
    "Le fournisseur d'identité a refusé la connexion",
    'The identity provider refused the sign-in',
  ],
});

export type SamlErrorCode = Parameters<typeof samlErrors.error>[0];

export function samlError(code: SamlErrorCode, details?: Record<string, unknown>): AppError {
  return samlErrors.error(code, details);
}

export function isSamlErrorCode(code: string): code is SamlErrorCode {
  return samlErrors.has(code);
}
