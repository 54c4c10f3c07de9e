/**
 * The MFA module's error codes (a closed union) and its texts, error and success (the French ones are those of
 * the existing API). Services answer with a success key; the routes put the text in the caller's language.
 */
import {
  AppError,
  badRequest,
  forbidden,
  tooManyRequests,
  unauthorized,
} from '../../platform/http/errors.js';
import { type Locale, messageFor, registerMessages } from '../../platform/http/messages.js';

export type MfaErrorCode =
  | 'INVALID_TOTP_CODE'
  | 'INVALID_RECOVERY_CODE'
  | 'INVALID_MFA_CODE'
  | 'WEBAUTHN_VERIFICATION_FAILED'
  | 'WEBAUTHN_NOT_CONFIGURED'
  | 'MFA_NOT_CONFIGURED'
  | 'MFA_ALREADY_ENABLED'
  | 'MFA_NOT_ENABLED'
  | 'MFA_LOCKED'
  | 'TOTP_REPLAY'
  | 'MFA_INVALID'
  | 'STEP_UP_REQUIRED'
  | 'LAST_MFA_FACTOR';

const ERROR_TEXTS: Record<MfaErrorCode, { fr: string; en: string }> = {
  INVALID_TOTP_CODE: { fr: 'Code TOTP invalide', en: 'Invalid TOTP code' },
  INVALID_RECOVERY_CODE: { fr: 'Code de récupération invalide', en: 'Invalid recovery code' },
  INVALID_MFA_CODE: { fr: 'Code MFA invalide', en: 'Invalid MFA code' },
  WEBAUTHN_VERIFICATION_FAILED: { fr: 'Vérification WebAuthn échouée', en: 'WebAuthn verification failed' },
  WEBAUTHN_NOT_CONFIGURED: { fr: 'Aucune clé de sécurité enregistrée', en: 'No security key registered' },
  MFA_NOT_CONFIGURED: {
    fr: "MFA non configuré : appelez d'abord /mfa/setup",
    en: 'MFA is not set up: call /mfa/setup first',
  },
  MFA_ALREADY_ENABLED: { fr: 'MFA déjà activé', en: 'MFA is already enabled' },
  MFA_NOT_ENABLED: { fr: 'MFA non activé', en: 'MFA is not enabled' },
  MFA_LOCKED: {
    fr: 'Trop de codes MFA invalides, MFA verrouillé temporairement',
    en: 'Too many invalid MFA codes, MFA temporarily locked',
  },
  TOTP_REPLAY: {
    fr: 'Ce code TOTP a déjà été utilisé, attendez le suivant',
    en: 'This TOTP code was already used, wait for the next one',
  },
  MFA_INVALID: { fr: 'Code MFA invalide ou session expirée', en: 'Invalid MFA code or expired session' },
  STEP_UP_REQUIRED: {
    fr: 'Confirmez d’abord votre identité avec un second facteur (moins de 5 minutes)',
    en: 'Confirm your identity with a second factor first (within the last 5 minutes)',
  },
  LAST_MFA_FACTOR: {
    fr: 'Le MFA est obligatoire : le dernier facteur ne peut pas être retiré',
    en: 'MFA is required: the last factor cannot be removed',
  },
};
registerMessages(ERROR_TEXTS);

const MESSAGES = {
  'mfa.setup_started': {
    fr: 'Scannez le QR code puis confirmez avec un code pour activer le MFA',
    en: 'Scan the QR code, then confirm with a code to enable MFA',
  },
  'mfa.enabled': { fr: 'MFA activé', en: 'MFA enabled' },
  'mfa.disabled': { fr: 'MFA désactivé', en: 'MFA disabled' },
  'mfa.totp_valid': { fr: 'Code TOTP valide', en: 'Valid TOTP code' },
  'mfa.recovery_code_valid': { fr: 'Code de récupération valide', en: 'Valid recovery code' },
  'mfa.key_removed': { fr: 'Clé de sécurité supprimée', en: 'Security key removed' },
  'mfa.key_verified': { fr: 'Clé de sécurité vérifiée', en: 'Security key verified' },
} as const;
registerMessages(MESSAGES);

export type MfaMessage = keyof typeof MESSAGES;

/** A service answer with its `message` key turned into the caller's language. */
export function localised<T extends { message: MfaMessage }>(
  answer: T,
  locale: Locale,
): Omit<T, 'message'> & { message: string } {
  return { ...answer, message: messageFor(answer.message, locale) };
}

export const mfaLocked = (retryAfterSeconds: number) =>
  tooManyRequests('MFA_LOCKED', Math.max(1, retryAfterSeconds));
export const totpReplay = (retryAfterSeconds: number) =>
  tooManyRequests('TOTP_REPLAY', Math.max(1, retryAfterSeconds));
export const invalidCode = (
  code: Extract<
    MfaErrorCode,
    'INVALID_TOTP_CODE' | 'INVALID_RECOVERY_CODE' | 'INVALID_MFA_CODE' | 'WEBAUTHN_VERIFICATION_FAILED'
  >,
  details?: Record<string, unknown>,
) => badRequest(code, details);
export const webauthnNotConfigured = () => badRequest('WEBAUTHN_NOT_CONFIGURED');
export const notConfigured = () => badRequest('MFA_NOT_CONFIGURED');
export const alreadyEnabled = () => badRequest('MFA_ALREADY_ENABLED');
export const notEnabled = () => badRequest('MFA_NOT_ENABLED');
/** POST /auth/login/mfa: a wrong, used or replayed code (API.md §8). */
export const mfaInvalid = () => unauthorized('MFA_INVALID');
export const stepUpRequired = (details: Record<string, unknown>) => forbidden('STEP_UP_REQUIRED', details);
export const lastFactor = () => new AppError(409, 'LAST_MFA_FACTOR');
