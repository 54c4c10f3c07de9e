/** The API keys module's error codes (a closed union) and its texts, error and success, in both languages. */
import { AppError } from '../../platform/http/errors.js';
import { type Locale, messageFor, registerMessages } from '../../platform/http/messages.js';

const STATUS = {
  INVALID_API_KEY: 401,
  API_KEY_REVOKED: 401,
  API_KEY_EXPIRED: 401,
  /** Answered by the request guard (platform/http/access.ts) when a key lacks the route's scope. */
  API_KEY_SCOPE_INSUFFICIENT: 403,
} as const satisfies Record<string, number>;

export type ApiKeyErrorCode = keyof typeof STATUS;

export function apiKeyError(code: ApiKeyErrorCode, details?: Record<string, unknown>): AppError {
  return new AppError(STATUS[code], code, details);
}

registerMessages({
  INVALID_API_KEY: { fr: 'Clé API invalide', en: 'Invalid API key' },
  API_KEY_REVOKED: { fr: 'Clé API révoquée', en: 'API key revoked' },
  API_KEY_EXPIRED: { fr: 'Clé API expirée', en: 'API key expired' },
  API_KEY_SCOPE_INSUFFICIENT: { fr: 'Portée de la clé API insuffisante', en: 'API key scope insufficient' },
});

const MESSAGES = {
  'api_keys.created': {
    fr: 'Clé API créée : conservez-la, elle ne sera plus affichée',
    en: 'API key created: keep it safe, it will not be shown again',
  },
  'api_keys.revoked': { fr: 'Clé API révoquée', en: 'API key revoked' },
  'api_keys.already_revoked': { fr: 'Clé API déjà révoquée', en: 'API key already revoked' },
} as const;
registerMessages(MESSAGES);

export type ApiKeyMessage = keyof typeof MESSAGES;

export function apiKeyMessage(key: ApiKeyMessage, locale: Locale): string {
  return messageFor(key, locale);
}
