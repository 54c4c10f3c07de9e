/**
 * The WireGuard module: peers and server routes, the in-process agent, and its hooks: a user's deactivation,
 * deletion or GDPR erasure revokes their peers (userDeactivated); the peers are in the GDPR export.
 */
import type { AppContext } from '../../platform/context.js';
import type { AppModule } from '../index.js';
import { registerWireguardGdpr } from './gdpr.js';
import { wireguardRoutes } from './routes.js';
import { revokePeersOfUser } from './service.js';

export function wireguardSetup(ctx: AppContext): void {
  ctx.hooks.userDeactivated.push(revokePeersOfUser);
  // --- gdpr hooks ---
  registerWireguardGdpr(ctx);
}

// --- module registration ---
export const wireguardModule: AppModule = {
  name: 'wireguard',
  setup: wireguardSetup,
  routes: (ctx) => [{ prefix: '/api/v1/wireguard', plugin: wireguardRoutes(ctx) }],
};
