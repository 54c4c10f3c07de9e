import { registerMessages } from '../../platform/http/messages.js';

registerMessages({
  INVALID_TOKEN: { fr: 'Lien de réinitialisation invalide', en: 'Invalid reset link' },
  TOKEN_ALREADY_USED: {
    fr: 'Ce lien de réinitialisation a déjà été utilisé',
    en: 'This reset link was already used',
  },
});
