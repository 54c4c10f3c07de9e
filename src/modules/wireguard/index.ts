/** The WireGuard module: peers and the gateway under /api/v1/wireguard, and its user and GDPR hooks. */
import type { AppContext } from '../../platform/context.js';
import type { AppModule } from '../../platform/module.js';
import { registerWg } from './cli.js';
import { wireguardErrors } from './errors.js';
import { registerWireguardGdpr } from './gdpr.js';
import { wireguardRoutes } from './routes.js';
import { revokePeersOfUser } from './service.js';

/** A user's deactivation, deletion or GDPR erasure revokes their peers in that transaction (userDeactivated). */
function wireguardSetup(ctx: AppContext): void {
  ctx.hooks.userDeactivated.push(revokePeersOfUser);
  // --- gdpr hooks ---
  registerWireguardGdpr(ctx);
}

// --- module registration ---
export const wireguardModule: AppModule = {
  name: 'wireguard',
  errors: [wireguardErrors],
  setup: wireguardSetup,
  routes: (ctx) => [{ prefix: '/api/v1/wireguard', plugin: wireguardRoutes(ctx) }],
  noStorePrefixes: ['/api/v1/wireguard'],
  cli: registerWg,
};
