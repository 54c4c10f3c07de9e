/** The OIDC client registry's error catalogue and success texts. */
import { defineErrors } from '../../platform/http/errors.js';
import { defineTexts } from '../../platform/http/messages.js';

export const oidcClientsErrors = defineErrors({
  OIDC_CLIENT_LIMIT_REACHED: [
    409,
    "Nombre maximal de clients OpenID Connect atteint pour l'organisation",
    'The organisation has reached its maximum number of OpenID Connect clients',
  ],
  OIDC_CLIENT_NO_SECRET: [
    409,
    "Ce client n'a pas de secret : un client public ou authentifié par ses clés (private_key_jwt) n'en a pas",
    'This client has no secret: a public client, or one that authenticates with its keys (private_key_jwt), has none',
  ],
});

export const oidcClientMessage = defineTexts({
  'oidc_clients.deleted': { fr: 'Client OpenID Connect supprimé', en: 'OpenID Connect client deleted' },
});
