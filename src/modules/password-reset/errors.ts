/** The password-reset module's error catalogue and its success texts, in both languages. */
import { type AppError, defineErrors, platformErrors } from '../../platform/http/errors.js';
import { defineTexts } from '../../platform/http/messages.js';

export const passwordResetErrors = defineErrors({
  INVALID_TOKEN: [400, 'Lien de réinitialisation invalide', 'Invalid reset link'],
  TOKEN_ALREADY_USED: [
    400,
    'Ce lien de réinitialisation a déjà été utilisé',
    'This reset link was already used',
  ],
});

/** Why a reset token is refused: /validate reports it, /confirm answers it as a 400. */
export type InvalidReason = 'INVALID_TOKEN' | 'TOKEN_EXPIRED' | 'TOKEN_ALREADY_USED';

export function resetError(code: InvalidReason): AppError {
  // TOKEN_EXPIRED is the platform's code (a 401 for bearer tokens); a reset link past its time is a 400 here.
  return code === 'TOKEN_EXPIRED'
    ? platformErrors.error('TOKEN_EXPIRED', undefined, { status: 400 })
    : passwordResetErrors.error(code);
}

export const resetMessage = defineTexts({
  'password_reset.requested': {
    fr: 'Si un compte existe pour cette adresse, un lien de réinitialisation a été envoyé',
    en: 'If an account exists for this address, a reset link has been sent',
  },
  'password_reset.token_valid': { fr: 'Jeton valide', en: 'Valid token' },
  'password_reset.token_invalid': { fr: 'Jeton invalide', en: 'Invalid token' },
  'password_reset.done': { fr: 'Mot de passe réinitialisé', en: 'Password reset' },
  'password_reset.link_sent': {
    fr: "Un lien de réinitialisation est envoyé à l'utilisateur",
    en: 'A reset link is being mailed to the user',
  },
});

export type PasswordResetMessage = Parameters<typeof resetMessage>[0];
