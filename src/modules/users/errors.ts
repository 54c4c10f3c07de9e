/** The users module's error codes and its texts (errors and success messages), in French and English. */
import { type Locale, messageFor, registerMessages } from '../../platform/http/messages.js';

export type UsersErrorCode =
  | 'OWN_ACCOUNT'
  | 'SUPERUSER_REQUIRED'
  | 'EMAIL_ALREADY_EXISTS'
  | 'PASSWORD_TOO_WEAK'
  | 'PERMISSION_DENIED'
  | 'LAST_OWNER'
  | 'NOT_FOUND';

registerMessages({
  OWN_ACCOUNT: {
    fr: 'Action impossible sur votre propre compte',
    en: 'This action is not allowed on your own account',
  },
  SUPERUSER_REQUIRED: {
    fr: 'Seul un super-utilisateur peut accorder ce droit',
    en: 'Only a superuser may grant this',
  },
});

const texts = {
  USER_ACTIVATED: { fr: 'Utilisateur activé', en: 'User activated' },
  USER_DEACTIVATED: { fr: 'Utilisateur désactivé', en: 'User deactivated' },
  USER_VERIFIED: { fr: 'Utilisateur vérifié', en: 'User verified' },
} as const;
registerMessages(texts);

export function usersText(code: keyof typeof texts, locale: Locale): string {
  return messageFor(code, locale);
}
