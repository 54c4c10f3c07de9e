import { registerMessages } from '../../platform/http/messages.js';

registerMessages({
  INVALID_API_KEY: { fr: 'Clé API invalide', en: 'Invalid API key' },
  API_KEY_REVOKED: { fr: 'Clé API révoquée', en: 'API key revoked' },
  API_KEY_EXPIRED: { fr: 'Clé API expirée', en: 'API key expired' },
  API_KEY_SCOPE_INSUFFICIENT: { fr: 'Portée de la clé API insuffisante', en: 'API key scope insufficient' },
});
