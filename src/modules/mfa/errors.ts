/**
 * The MFA module's error catalogue and its texts, error and success (the French ones are those of
 * the existing API). Services answer with a success key; the routes put the text in the caller's language.
 */
import { defineErrors, retryAfter } from '../../platform/http/errors.js';
import { defineTexts, type Locale } from '../../platform/http/messages.js';

export const mfaErrors = defineErrors({
  INVALID_TOTP_CODE: [400, 'Code TOTP invalide', 'Invalid TOTP code'],
  INVALID_RECOVERY_CODE: [400, 'Code de récupération invalide', 'Invalid recovery code'],
  WEBAUTHN_VERIFICATION_FAILED: [400, 'Vérification WebAuthn échouée', 'WebAuthn verification failed'],
  WEBAUTHN_NOT_CONFIGURED: [400, 'Aucune clé de sécurité enregistrée', 'No security key registered'],
  MFA_NOT_CONFIGURED: [
    400,
    "MFA non configuré : appelez d'abord /mfa/setup",
    'MFA is not set up: call /mfa/setup first',
  ],
  MFA_ALREADY_ENABLED: [400, 'MFA déjà activé', 'MFA is already enabled'],
  MFA_NOT_ENABLED: [400, 'MFA non activé', 'MFA is not enabled'],
  MFA_LOCKED: [
    429,
    'Trop de codes MFA invalides, MFA verrouillé temporairement',
    'Too many invalid MFA codes, MFA temporarily locked',
  ],
  TOTP_REPLAY: [
    429,
    'Ce code TOTP a déjà été utilisé, attendez le suivant',
    'This TOTP code was already used, wait for the next one',
  ],
  /** POST /auth/login/mfa: a wrong, used or replayed code (API.md §8). */
  MFA_INVALID: [401, 'Code MFA invalide ou session expirée', 'Invalid MFA code or expired session'],
  STEP_UP_REQUIRED: [
    403,
    'Confirmez d’abord votre identité avec un second facteur (moins de 5 minutes)',
    'Confirm your identity with a second factor first (within the last 5 minutes)',
  ],
  /** An admin action on someone's factors (POST /users/{id}/mfa/reset) needs the admin's own second factor. */
  OWN_MFA_REQUIRED: [
    403,
    'Configurez d’abord votre propre second facteur',
    'Set up your own second factor first',
  ],
  LAST_MFA_FACTOR: [
    409,
    'Le MFA est obligatoire : le dernier facteur ne peut pas être retiré',
    'MFA is required: the last factor cannot be removed',
  ],
});

const text = defineTexts({
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
  'mfa.reset': {
    fr: 'Second facteur réinitialisé : TOTP, clés et codes de récupération retirés, sessions fermées',
    en: 'Second factor reset: TOTP, security keys and recovery codes removed, sessions ended',
  },
});

export type MfaMessage = Parameters<typeof text>[0];

/** A service answer with its `message` key turned into the caller's language. */
export function localised<T extends { message: MfaMessage }>(
  answer: T,
  locale: Locale,
): Omit<T, 'message'> & { message: string } {
  return { ...answer, message: text(answer.message, locale) };
}

/** 429 with Retry-After (at least one second). */
const retryLater = (code: 'MFA_LOCKED' | 'TOTP_REPLAY', seconds: number) => {
  const { details, options } = retryAfter(Math.max(1, seconds));
  return mfaErrors.error(code, details, options);
};
export const mfaLocked = (retryAfterSeconds: number) => retryLater('MFA_LOCKED', retryAfterSeconds);
export const totpReplay = (retryAfterSeconds: number) => retryLater('TOTP_REPLAY', retryAfterSeconds);
