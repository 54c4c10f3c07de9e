/**
 * The API keys module's error catalogue and success texts. INVALID_API_KEY, API_KEY_REVOKED and
 * API_KEY_SCOPE_INSUFFICIENT are the platform's: the request guard answers them too.
 */
import { defineErrors } from '../../platform/http/errors.js';
import { defineTexts, type Locale } from '../../platform/http/messages.js';

export const apiKeysErrors = defineErrors({
  API_KEY_EXPIRED: [401, 'Clé API expirée', 'API key expired'],
});

const text = defineTexts({
  'api_keys.created': {
    fr: 'Clé API créée : conservez-la, elle ne sera plus affichée',
    en: 'API key created: keep it safe, it will not be shown again',
  },
  'api_keys.revoked': { fr: 'Clé API révoquée', en: 'API key revoked' },
  'api_keys.already_revoked': { fr: 'Clé API déjà révoquée', en: 'API key already revoked' },
});

export type ApiKeyMessage = Parameters<typeof text>[0];

export function apiKeyMessage(key: ApiKeyMessage, locale: Locale): string {
  return text(key, locale);
}
