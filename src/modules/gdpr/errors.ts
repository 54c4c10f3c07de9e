/** The GDPR module's error codes (a closed union) and its texts, errors and successes, in French and English. */
import type { GdprErasureMode } from '../../platform/context.js';
import { badRequest } from '../../platform/http/errors.js';
import { type Locale, messageFor, registerMessages } from '../../platform/http/messages.js';

export type GdprErrorCode = 'CANNOT_ERASE_SELF';
export type ErasureMode = GdprErasureMode;

const errors: Record<GdprErrorCode, { fr: string; en: string }> = {
  CANNOT_ERASE_SELF: {
    fr: 'Vous ne pouvez pas effacer votre propre compte',
    en: 'You cannot erase your own account',
  },
};
/** Success texts of the erasure routes, one per mode. */
const successes = {
  GDPR_USER_ERASED: { fr: 'Données utilisateur effacées', en: 'User data erased' },
  GDPR_USER_ANONYMIZED: { fr: 'Données utilisateur anonymisées', en: 'User data anonymised' },
};
registerMessages({ ...errors, ...successes });

export const gdprBadRequest = (code: GdprErrorCode) => badRequest(code);

export function erasureDone(mode: ErasureMode, locale: Locale): string {
  return messageFor(mode === 'deleted' ? 'GDPR_USER_ERASED' : 'GDPR_USER_ANONYMIZED', locale);
}
