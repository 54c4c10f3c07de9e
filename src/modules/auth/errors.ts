/**
 * The auth module's error catalogue (the codes it declares; the token, session and password-policy codes it
 * shares with the request guard are the platform's) and its success texts.
 */
import {
  type AppError,
  defineErrors,
  type ErrorOptions,
  type PlatformErrorCode,
  platformErrors,
} from '../../platform/http/errors.js';
import { defineTexts } from '../../platform/http/messages.js';

export const authErrors = defineErrors({
  INVALID_CREDENTIALS: [401, 'Email ou mot de passe invalide', 'Invalid email or password'],
  ACCOUNT_LOCKED: [423, 'Compte temporairement verrouillé', 'Account temporarily locked'],
  TOKEN_REVOKED: [401, 'Jeton révoqué', 'Token revoked'],
  TOKEN_REPLAY: [
    401,
    'Réutilisation de jeton détectée, session révoquée',
    'Token reuse detected, session revoked',
  ],
  INVALID_CURRENT_PASSWORD: [400, 'Mot de passe actuel incorrect', 'Current password is incorrect'],
  REGISTRATION_DISABLED: [
    403,
    "L'inscription est désactivée pour ce tenant",
    'Self-registration is disabled for this tenant',
  ],
});

export type AuthErrorCode =
  | Parameters<typeof authErrors.error>[0]
  | Extract<
      PlatformErrorCode,
      'TOKEN_INVALID' | 'TOKEN_EXPIRED' | 'SESSION_REVOKED' | 'SESSION_EXPIRED' | 'PASSWORD_TOO_WEAK'
    >;

/** An error of auth's catalogue, or one of the platform's token codes auth answers too. */
export function authError(
  code: AuthErrorCode,
  details?: Record<string, unknown>,
  options?: ErrorOptions,
): AppError {
  return authErrors.has(code)
    ? authErrors.error(code, details, options)
    : platformErrors.error(code as PlatformErrorCode, details, options);
}

/** Success texts (the French ones are those of the existing API). */
export const authMessage = defineTexts({
  'auth.login_success': { fr: 'Connexion réussie', en: 'Signed in' },
  'auth.login_mfa_enrolment': {
    fr: 'Connexion réussie, activation MFA requise',
    en: 'Signed in; you must enable MFA',
  },
  'auth.mfa_required': { fr: 'MFA requis', en: 'MFA required' },
  'auth.logged_out': { fr: 'Déconnexion réussie', en: 'Signed out' },
  'auth.password_changed': { fr: 'Mot de passe modifié', en: 'Password changed' },
  'auth.token_valid': { fr: 'Token valide', en: 'Valid token' },
});

export type AuthMessage = Parameters<typeof authMessage>[0];
