import { registerMessages } from '../../platform/http/messages.js';

registerMessages({
  WG_POOL_EXHAUSTED: {
    fr: "Plus d'adresse libre dans le réseau WireGuard",
    en: 'No free address left in the WireGuard network',
  },
  WG_PEER_REVOKED: { fr: 'Ce pair WireGuard est révoqué', en: 'This WireGuard peer is revoked' },
});
