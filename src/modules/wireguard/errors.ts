/** The WireGuard module's error codes (a closed union), their texts, and the constructors its service throws. */
import { badRequest, conflict } from '../../platform/http/errors.js';
import { registerMessages } from '../../platform/http/messages.js';

/** Codes of this module's own (texts below); ALREADY_EXISTS and CONFLICT are the platform's generic ones. */
type OwnCode = 'WG_POOL_EXHAUSTED' | 'WG_QUOTA_EXCEEDED' | 'WG_PEER_REVOKED';
export type WireguardErrorCode = OwnCode | 'ALREADY_EXISTS' | 'CONFLICT';

const messages: Record<OwnCode, { fr: string; en: string }> = {
  WG_POOL_EXHAUSTED: {
    fr: "Plus d'adresse libre dans le réseau WireGuard",
    en: 'No free address left in the WireGuard network',
  },
  WG_QUOTA_EXCEEDED: {
    fr: 'Quota de pairs WireGuard du tenant atteint',
    en: "The tenant's WireGuard peer quota is reached",
  },
  WG_PEER_REVOKED: { fr: 'Ce pair WireGuard est révoqué', en: 'This WireGuard peer is revoked' },
};
registerMessages(messages);

/** 409 */
export const wgConflict = (
  code: Exclude<WireguardErrorCode, 'WG_PEER_REVOKED'>,
  details?: Record<string, unknown>,
) => conflict(code, details);
/** 400 */
export const wgBadRequest = (code: 'WG_PEER_REVOKED', details?: Record<string, unknown>) =>
  badRequest(code, details);
