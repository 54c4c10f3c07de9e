/**
 * The auth module's error codes (a closed union: a typo is a type error) and its success texts. The error texts
 * of these codes are in the platform catalogue, since the request guard answers some of them too.
 */
import { AppError } from '../../platform/http/errors.js';
import { type Locale, messageFor, registerMessages } from '../../platform/http/messages.js';

const STATUS = {
  INVALID_CREDENTIALS: 401,
  ACCOUNT_LOCKED: 423,
  TOKEN_INVALID: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_REVOKED: 401,
  TOKEN_REPLAY: 401,
  SESSION_REVOKED: 401,
  SESSION_EXPIRED: 401,
  INVALID_CURRENT_PASSWORD: 400,
  PASSWORD_TOO_WEAK: 422,
  REGISTRATION_DISABLED: 403,
} as const satisfies Record<string, number>;

export type AuthErrorCode = keyof typeof STATUS;

export function authError(
  code: AuthErrorCode,
  details?: Record<string, unknown>,
  headers?: Record<string, string>,
): AppError {
  return new AppError(STATUS[code], code, details, headers);
}

/** Success texts (the French ones are those of the existing API). */
const MESSAGES = {
  'auth.login_success': { fr: 'Connexion réussie', en: 'Signed in' },
  'auth.login_mfa_enrolment': {
    fr: 'Connexion réussie, activation MFA requise',
    en: 'Signed in; you must enable MFA',
  },
  'auth.mfa_required': { fr: 'MFA requis', en: 'MFA required' },
  'auth.logged_out': { fr: 'Déconnexion réussie', en: 'Signed out' },
  'auth.password_changed': { fr: 'Mot de passe modifié', en: 'Password changed' },
  'auth.token_valid': { fr: 'Token valide', en: 'Valid token' },
} as const;
registerMessages(MESSAGES);

export type AuthMessage = keyof typeof MESSAGES;

export function authMessage(key: AuthMessage, locale: Locale): string {
  return messageFor(key, locale);
}
