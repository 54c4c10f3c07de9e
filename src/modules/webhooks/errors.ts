/** The webhooks module's error catalogue and success texts. */
import { defineErrors } from '../../platform/http/errors.js';
import { defineTexts } from '../../platform/http/messages.js';

export const webhooksErrors = defineErrors({
  WEBHOOK_LIMIT_REACHED: [
    409,
    "Nombre maximal de points de terminaison webhook atteint pour l'organisation",
    'The organisation has reached its maximum number of webhook endpoints',
  ],
  WEBHOOK_ENDPOINT_DISABLED: [
    409,
    'Point de terminaison webhook désactivé : réactivez-le avant de rejouer ou de tester',
    'Webhook endpoint disabled: enable it before a replay or a test',
  ],
});

export const webhookMessage = defineTexts({
  'webhooks.deleted': { fr: 'Point de terminaison webhook supprimé', en: 'Webhook endpoint deleted' },
  'webhooks.secret_rotated': {
    fr: "Secret de signature renouvelé : conservez-le, il ne sera plus affiché ; l'ancien signe encore 24 h",
    en: 'Signing secret rotated: keep it safe, it will not be shown again; the old one keeps signing for 24 h',
  },
});
