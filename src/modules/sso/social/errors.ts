/** Social login's own error codes (API.md §9); protocol failures reuse the SSO codes of ../errors.ts. */
import { AppError } from '../../../platform/http/errors.js';
import { registerMessages } from '../../../platform/http/messages.js';

const CODES = {
  OAUTH_PROVIDER_NOT_CONFIGURED: [
    404,
    "Ce fournisseur de connexion n'est pas configuré",
    'This sign-in provider is not configured',
  ],
  OAUTH_SESSION_INVALID: [
    400,
    "Jeton d'inscription OAuth invalide, expiré ou déjà utilisé",
    'Invalid, expired or already used OAuth registration token',
  ],
  OAUTH_VERIFICATION_INVALID: [
    400,
    'Lien de confirmation invalide, expiré ou déjà utilisé',
    'Invalid, expired or already used confirmation link',
  ],
  OAUTH_ACCOUNT_NOT_LINKED: [
    404,
    "Aucun compte de ce fournisseur n'est lié",
    'No account of this provider is linked',
  ],
  OAUTH_LAST_SIGN_IN_METHOD: [
    409,
    'Impossible de délier le dernier moyen de connexion : définissez d’abord un mot de passe',
    'Cannot unlink the last way to sign in: set a password first',
  ],
} as const satisfies Record<string, readonly [number, string, string]>;

export type SocialErrorCode = keyof typeof CODES;

registerMessages(
  Object.fromEntries(Object.entries(CODES).map(([code, [, fr, en]]) => [code, { fr, en }])) as Record<
    SocialErrorCode,
    { fr: string; en: string }
  >,
);

registerMessages({
  'oauth.unlinked': { fr: 'Compte délié', en: 'Account unlinked' },
});

export function socialError(code: SocialErrorCode, details?: Record<string, unknown>): AppError {
  return new AppError(CODES[code][0], code, details);
}
