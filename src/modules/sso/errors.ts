/**
 * The SSO module's error catalogue (SAML's and social login's are in ./saml/errors.ts and ./social/errors.ts)
 * and its success texts.
 */
import { type AppError, defineErrors } from '../../platform/http/errors.js';
import { defineTexts } from '../../platform/http/messages.js';

export const ssoErrors = defineErrors({
  /** Discovery: no enabled connection with a verified domain for that address. */
  SSO_CONNECTION_NOT_FOUND: [
    404,
    'Aucune connexion SSO pour ce domaine',
    'No SSO connection for this domain',
  ],
  SSO_CONNECTION_DISABLED: [403, 'Cette connexion SSO est désactivée', 'This SSO connection is disabled'],
  SSO_FLOW_UNAVAILABLE: [
    400,
    "Ce type de connexion SSO n'est pas disponible",
    'This type of SSO connection is not available',
  ],
  SSO_REDIRECT_URI_INVALID: [
    400,
    "redirect_uri n'est pas autorisée pour cette connexion",
    'redirect_uri is not allowed for this connection',
  ],
  SSO_STATE_INVALID: [
    400,
    'État SSO inconnu, expiré ou déjà utilisé',
    'Unknown, expired or already used SSO state',
  ],
  SSO_IDP_ERROR: [
    400,
    "Le fournisseur d'identité a refusé la connexion",
    'The identity provider refused the sign-in',
  ],
  SSO_ISSUER_MISMATCH: [
    401,
    'Émetteur inattendu dans la réponse SSO',
    'Unexpected issuer in the SSO response',
  ],
  SSO_AUDIENCE_MISMATCH: [
    401,
    "Audience inattendue dans le jeton d'identité",
    'Unexpected audience in the ID token',
  ],
  SSO_NONCE_MISMATCH: [401, "Nonce inattendu dans le jeton d'identité", 'Unexpected nonce in the ID token'],
  SSO_TOKEN_EXPIRED: [401, "Jeton d'identité expiré", 'ID token expired'],
  SSO_RESPONSE_INVALID: [401, 'Réponse SSO invalide', 'Invalid SSO response'],
  SSO_EMAIL_MISSING: [
    400,
    "Le fournisseur d'identité n'a pas transmis d'adresse email",
    'The identity provider sent no email address',
  ],
  /** Linking by email refused: details.reasons says why (issue 18: domain, local email, privileged, ceiling). */
  SSO_LINK_REFUSED: [
    403,
    'Un compte existe avec cette adresse mais ne peut pas être lié automatiquement',
    'An account with this address exists but cannot be linked automatically',
  ],
  /** The connection's last editor could not grant what the account (or the default role) holds (./ceiling.ts). */
  SSO_GRANT_CEILING_EXCEEDED: [
    403,
    'Cette connexion SSO ne peut pas ouvrir ce compte : son dernier éditeur ne pourrait pas accorder ses droits',
    'This SSO connection cannot sign in this account: its last editor could not grant its rights',
  ],
  /** Link mode: the external identity already belongs to another account of the tenant. */
  SSO_IDENTITY_ALREADY_LINKED: [
    409,
    'Cette identité externe est déjà liée à un autre compte',
    'This external identity is already linked to another account',
  ],
  SSO_USER_NOT_PROVISIONED: [
    403,
    'Aucun compte pour cet utilisateur et la création automatique est désactivée',
    'No account for this user and just-in-time provisioning is off',
  ],
  SSO_CODE_INVALID: [
    400,
    'Code SSO invalide, expiré ou déjà utilisé',
    'Invalid, expired or already used SSO code',
  ],
  SSO_REQUIRED: [
    403,
    'Ce domaine doit se connecter par SSO',
    'Accounts of this domain must sign in with SSO',
  ],
  SSO_DOMAIN_VERIFICATION_FAILED: [
    400,
    'Enregistrement DNS TXT de vérification introuvable ou incorrect',
    'DNS TXT verification record missing or wrong',
  ],
  SSO_DOMAIN_TAKEN: [
    409,
    'Ce domaine est déjà vérifié par une autre organisation',
    'This domain is already verified by another organisation',
  ],
  SSO_URL_REFUSED: [400, 'Adresse refusée (SSRF)', 'URL refused (SSRF guard)'],
  SSO_IDP_UNAVAILABLE: [
    502,
    "Le fournisseur d'identité est injoignable ou sa configuration est invalide",
    'The identity provider is unreachable or its configuration is invalid',
  ],
});

export type SsoErrorCode = Parameters<typeof ssoErrors.error>[0];

/** ssoErrors.error(code, details), the call shape the SSO flows use. */
export function ssoError(code: SsoErrorCode, details?: Record<string, unknown>): AppError {
  return ssoErrors.error(code, details);
}

export function ssoStatus(code: SsoErrorCode): number {
  return ssoErrors.status(code);
}

/** Success texts of the SSO routes (social login's included). */
export const ssoText = defineTexts({
  'sso.connection_deleted': { fr: 'Connexion SSO supprimée', en: 'SSO connection deleted' },
  'sso.domain_removed': { fr: 'Domaine retiré', en: 'Domain removed' },
  'sso.identity_unlinked': { fr: 'Identité externe déliée', en: 'External identity unlinked' },
  'oauth.unlinked': { fr: 'Compte délié', en: 'Account unlinked' },
});
