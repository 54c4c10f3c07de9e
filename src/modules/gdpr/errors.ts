/** The GDPR module's error catalogue and its success texts, in French and English. */
import type { GdprErasureMode } from '../../platform/context.js';
import { defineErrors } from '../../platform/http/errors.js';
import { defineTexts, type Locale } from '../../platform/http/messages.js';

export type ErasureMode = GdprErasureMode;

export const gdprErrors = defineErrors({
  CANNOT_ERASE_SELF: [
    400,
    'Vous ne pouvez pas effacer votre propre compte',
    'You cannot erase your own account',
  ],
});

/** Success texts of the erasure routes, one per mode. */
const text = defineTexts({
  GDPR_USER_ERASED: { fr: 'Données utilisateur effacées', en: 'User data erased' },
  GDPR_USER_ANONYMIZED: { fr: 'Données utilisateur anonymisées', en: 'User data anonymised' },
});

export function erasureDone(mode: ErasureMode, locale: Locale): string {
  return text(mode === 'deleted' ? 'GDPR_USER_ERASED' : 'GDPR_USER_ANONYMIZED', locale);
}
