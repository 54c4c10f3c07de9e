/**
 * The WireGuard module's part of GDPR (API.md §9): the user's peers are in the export, and erasure drops their
 * link to the person (the peers were already revoked by the userDeactivated hook in the same transaction).
 */
import type { AppContext } from '../../platform/context.js';
import { listUserPeers, revokeUserPeers } from './repository.js';
import { toPeerRead } from './service.js';

export function registerWireguardGdpr(ctx: AppContext): void {
  ctx.hooks.gdprExport.push({
    name: 'wireguard_peers',
    collect: async (tx, tenantId, userId) => (await listUserPeers(tx, tenantId, userId)).map(toPeerRead),
  });
  ctx.hooks.gdprErase.push({
    name: 'wireguard_peers',
    erase: async (tx, tenantId, userId) => {
      await revokeUserPeers(tx, tenantId, userId);
    },
  });
}
