/**
 * Human texts for error codes, in French (default, as in the existing API) and English. Clients must rely on
 * the `error` code; texts may change. Modules add their own codes with registerMessages().
 */
export type Locale = 'fr' | 'en';
type Texts = Record<Locale, string>;

const catalogue = new Map<string, Texts>(
  Object.entries({
    BAD_REQUEST: { fr: 'Requête invalide', en: 'Bad request' },
    UNAUTHORIZED: { fr: 'Authentification requise', en: 'Authentication required' },
    FORBIDDEN: { fr: 'Accès interdit', en: 'Forbidden' },
    NOT_FOUND: { fr: 'Ressource introuvable', en: 'Resource not found' },
    METHOD_NOT_ALLOWED: { fr: 'Méthode non autorisée', en: 'Method not allowed' },
    CONFLICT: { fr: 'Conflit avec une ressource existante', en: 'Conflict with an existing resource' },
    PAYLOAD_TOO_LARGE: { fr: 'Corps de requête trop volumineux', en: 'Request body too large' },
    UNSUPPORTED_MEDIA_TYPE: { fr: 'Type de contenu non supporté', en: 'Unsupported media type' },
    VALIDATION_ERROR: { fr: 'Request validation failed', en: 'Request validation failed' },
    TOO_MANY_REQUESTS: { fr: 'Trop de requêtes', en: 'Too many requests' },
    RATE_LIMIT_EXCEEDED: {
      fr: 'Limite de requêtes dépassée, réessayez plus tard',
      en: 'Rate limit exceeded, retry later',
    },
    INTERNAL_ERROR: { fr: 'Erreur interne du serveur', en: 'Internal server error' },
    SERVICE_UNAVAILABLE: { fr: 'Service indisponible', en: 'Service unavailable' },
    TENANT_REQUIRED: { fr: 'En-tête X-Tenant-ID requis', en: 'X-Tenant-ID header is required' },
    INVALID_TENANT: { fr: 'Identifiant de tenant invalide', en: 'Invalid tenant identifier' },
    TENANT_MISMATCH: { fr: 'Le tenant ne correspond pas au jeton', en: 'Tenant does not match the token' },
    INVALID_CREDENTIALS: { fr: 'Email ou mot de passe invalide', en: 'Invalid email or password' },
    TOKEN_INVALID: { fr: 'Jeton invalide', en: 'Invalid token' },
    TOKEN_EXPIRED: { fr: 'Jeton expiré', en: 'Token expired' },
    TOKEN_REVOKED: { fr: 'Jeton révoqué', en: 'Token revoked' },
    TOKEN_REPLAY: {
      fr: 'Réutilisation de jeton détectée, session révoquée',
      en: 'Token reuse detected, session revoked',
    },
    SESSION_REVOKED: { fr: 'Session révoquée', en: 'Session revoked' },
    SESSION_EXPIRED: { fr: 'Session expirée', en: 'Session expired' },
    MFA_REQUIRED: {
      fr: 'Authentification multi-facteurs requise',
      en: 'Multi-factor authentication required',
    },
    ACCOUNT_INACTIVE: { fr: 'Compte inactif', en: 'Account inactive' },
    ACCOUNT_LOCKED: { fr: 'Compte temporairement verrouillé', en: 'Account temporarily locked' },
    PERMISSION_DENIED: { fr: 'Permission refusée', en: 'Permission denied' },
    NETWORK_FORBIDDEN: {
      fr: 'Accès réservé au réseau WireGuard',
      en: 'Access is restricted to the WireGuard network',
    },
    EMAIL_ALREADY_EXISTS: { fr: 'Cet email est déjà utilisé', en: 'This email is already in use' },
    ALREADY_EXISTS: { fr: 'La ressource existe déjà', en: 'Resource already exists' },
    PASSWORD_TOO_WEAK: { fr: 'Mot de passe trop faible', en: 'Password too weak' },
    INVALID_CURRENT_PASSWORD: { fr: 'Mot de passe actuel incorrect', en: 'Current password is incorrect' },
    REGISTRATION_DISABLED: {
      fr: "L'inscription est désactivée pour ce tenant",
      en: 'Self-registration is disabled for this tenant',
    },
  }),
);

export function registerMessages(entries: Record<string, Texts>): void {
  for (const [code, texts] of Object.entries(entries)) catalogue.set(code, texts);
}

export function messageFor(code: string, locale: Locale): string {
  return catalogue.get(code)?.[locale] ?? catalogue.get(code)?.en ?? code;
}

export function pickLocale(acceptLanguage: string | undefined, fallback: Locale): Locale {
  if (!acceptLanguage) return fallback;
  for (const part of acceptLanguage.split(',')) {
    const tag = part.split(';')[0]?.trim().toLowerCase() ?? '';
    if (tag.startsWith('fr')) return 'fr';
    if (tag.startsWith('en')) return 'en';
  }
  return fallback;
}
