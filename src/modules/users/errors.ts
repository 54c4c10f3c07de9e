/** The users module's error catalogue and its success texts, in French and English. */
import { defineErrors } from '../../platform/http/errors.js';
import { defineTexts } from '../../platform/http/messages.js';

export const usersErrors = defineErrors({
  OWN_ACCOUNT: [
    400,
    'Action impossible sur votre propre compte',
    'This action is not allowed on your own account',
  ],
  SUPERUSER_REQUIRED: [
    403,
    'Seul un super-utilisateur peut accorder ce droit',
    'Only a superuser may grant this',
  ],
  EMAIL_ALREADY_EXISTS: [409, 'Cet email est déjà utilisé', 'This email is already in use'],
});

export const usersText = defineTexts({
  USER_ACTIVATED: { fr: 'Utilisateur activé', en: 'User activated' },
  USER_DEACTIVATED: { fr: 'Utilisateur désactivé', en: 'User deactivated' },
  USER_VERIFIED: { fr: 'Utilisateur vérifié', en: 'User verified' },
});
