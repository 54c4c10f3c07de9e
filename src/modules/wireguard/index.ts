/** The WireGuard module: peers and the gateway under /api/v1/wireguard, and its user and GDPR hooks. */
import type { AppModule } from '../../platform/module.js';
import { registerWg } from './cli.js';
import { wireguardRoutes, wireguardSetup } from './routes.js';

// --- module registration ---
export const wireguardModule: AppModule = {
  name: 'wireguard',
  setup: wireguardSetup,
  routes: (ctx) => [{ prefix: '/api/v1/wireguard', plugin: wireguardRoutes(ctx) }],
  cli: registerWg,
};
