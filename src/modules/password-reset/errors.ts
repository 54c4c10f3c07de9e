/** The password-reset module's error codes (a closed union) and its texts, error and success, in both languages. */
import { AppError } from '../../platform/http/errors.js';
import { type Locale, messageFor, registerMessages } from '../../platform/http/messages.js';

/** Why a reset token is refused: /validate reports it, /confirm answers it as a 400. */
export type InvalidReason = 'INVALID_TOKEN' | 'TOKEN_EXPIRED' | 'TOKEN_ALREADY_USED';
export type PasswordResetErrorCode = InvalidReason;

export function resetError(code: PasswordResetErrorCode): AppError {
  return new AppError(400, code);
}

registerMessages({
  INVALID_TOKEN: { fr: 'Lien de réinitialisation invalide', en: 'Invalid reset link' },
  TOKEN_ALREADY_USED: {
    fr: 'Ce lien de réinitialisation a déjà été utilisé',
    en: 'This reset link was already used',
  },
});

const MESSAGES = {
  'password_reset.requested': {
    fr: 'Si un compte existe pour cette adresse, un lien de réinitialisation a été envoyé',
    en: 'If an account exists for this address, a reset link has been sent',
  },
  'password_reset.token_valid': { fr: 'Jeton valide', en: 'Valid token' },
  'password_reset.token_invalid': { fr: 'Jeton invalide', en: 'Invalid token' },
  'password_reset.done': { fr: 'Mot de passe réinitialisé', en: 'Password reset' },
} as const;
registerMessages(MESSAGES);

export type PasswordResetMessage = keyof typeof MESSAGES;

export function resetMessage(key: PasswordResetMessage, locale: Locale): string {
  return messageFor(key, locale);
}
