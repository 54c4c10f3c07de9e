import { registerMessages } from '../../platform/http/messages.js';

registerMessages({
  WG_POOL_EXHAUSTED: {
    fr: "Plus d'adresse libre dans le réseau WireGuard",
    en: 'No free address left in the WireGuard network',
  },
  WG_QUOTA_EXCEEDED: {
    fr: 'Quota de pairs WireGuard du tenant atteint',
    en: "The tenant's WireGuard peer quota is reached",
  },
  WG_PEER_REVOKED: { fr: 'Ce pair WireGuard est révoqué', en: 'This WireGuard peer is revoked' },
});
