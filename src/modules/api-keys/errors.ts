/**
 * The API keys module's error catalogue and success texts. The request guard answers API_KEY_REVOKED and
 * API_KEY_SCOPE_INSUFFICIENT through the credential scheme this module provides (index.ts), without naming them.
 */
import { defineErrors } from '../../platform/http/errors.js';
import { defineTexts } from '../../platform/http/messages.js';

export const apiKeysErrors = defineErrors({
  INVALID_API_KEY: [401, 'Clé API invalide', 'Invalid API key'],
  API_KEY_REVOKED: [401, 'Clé API révoquée', 'API key revoked'],
  API_KEY_EXPIRED: [401, 'Clé API expirée', 'API key expired'],
  API_KEY_SCOPE_INSUFFICIENT: [403, 'Portée de la clé API insuffisante', 'API key scope insufficient'],
});

export const apiKeyMessage = defineTexts({
  'api_keys.created': {
    fr: 'Clé API créée : conservez-la, elle ne sera plus affichée',
    en: 'API key created: keep it safe, it will not be shown again',
  },
  'api_keys.revoked': { fr: 'Clé API révoquée', en: 'API key revoked' },
  'api_keys.already_revoked': { fr: 'Clé API déjà révoquée', en: 'API key already revoked' },
});

export type ApiKeyMessage = Parameters<typeof apiKeyMessage>[0];
