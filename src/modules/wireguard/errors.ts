/** The WireGuard module's error catalogue (ALREADY_EXISTS and CONFLICT, which it throws too, are the platform's). */
import { defineErrors } from '../../platform/http/errors.js';

export const wireguardErrors = defineErrors({
  WG_POOL_EXHAUSTED: [
    409,
    "Plus d'adresse libre dans le réseau WireGuard",
    'No free address left in the WireGuard network',
  ],
  WG_QUOTA_EXCEEDED: [
    409,
    'Quota de pairs WireGuard du tenant atteint',
    "The tenant's WireGuard peer quota is reached",
  ],
  WG_PEER_REVOKED: [400, 'Ce pair WireGuard est révoqué', 'This WireGuard peer is revoked'],
});
