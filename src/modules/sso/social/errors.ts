/** Social login's own error codes (API.md §9); protocol failures reuse the SSO codes of ../errors.ts. */
import { type AppError, defineErrors } from '../../../platform/http/errors.js';

export const socialErrors = defineErrors({
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
});

export type SocialErrorCode = Parameters<typeof socialErrors.error>[0];

export function socialError(code: SocialErrorCode, details?: Record<string, unknown>): AppError {
  return socialErrors.error(code, details);
}
