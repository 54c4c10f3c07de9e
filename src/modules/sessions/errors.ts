/** The sessions module's error codes and its texts (errors and success messages), in French and English. */
import { type Locale, messageFor, registerMessages } from '../../platform/http/messages.js';

export type SessionsErrorCode = 'BAD_REQUEST' | 'NOT_FOUND';

const texts = {
  SESSION_TERMINATED: { fr: 'Session terminée', en: 'Session ended' },
  SESSIONS_TERMINATED: { fr: '{count} session(s) terminée(s)', en: '{count} session(s) ended' },
  SESSION_ALREADY_ENDED: { fr: 'Session déjà terminée', en: 'Session already ended' },
} as const;
registerMessages(texts);

/** A text of this module in the caller's language, `{name}` placeholders filled. */
export function sessionsText(
  code: keyof typeof texts,
  locale: Locale,
  params: Record<string, string | number> = {},
): string {
  return messageFor(code, locale).replace(/\{(\w+)\}/g, (m, k: string) =>
    k in params ? String(params[k]) : m,
  );
}
