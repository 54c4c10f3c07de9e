/**
 * The sessions module's errors and success texts. It declares no code of its own (an empty catalogue): it
 * answers the platform's BAD_REQUEST, NOT_FOUND and SESSION_* codes.
 */
import { defineTexts } from '../../platform/http/messages.js';

/** A text of this module in the caller's language, `{name}` placeholders filled. */
export const sessionsText = defineTexts({
  SESSION_TERMINATED: { fr: 'Session terminée', en: 'Session ended' },
  SESSIONS_TERMINATED: { fr: '{count} session(s) terminée(s)', en: '{count} session(s) ended' },
  SESSION_ALREADY_ENDED: { fr: 'Session déjà terminée', en: 'Session already ended' },
});
