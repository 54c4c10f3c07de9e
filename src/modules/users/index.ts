/** The users module: user accounts of a tenant under /api/v1/users. */
import type { AppModule } from '../../platform/module.js';
import { registerUsersGdpr } from './gdpr.js';
import { userRoutes } from './routes.js';

// --- module registration ---
export const usersModule: AppModule = {
  name: 'users',
  setup: (ctx) => {
    // --- gdpr hooks ---
    registerUsersGdpr(ctx);
  },
  routes: (ctx) => [{ prefix: '/api/v1/users', plugin: userRoutes(ctx) }],
};

// --- exports used by gdpr, audit, features, wireguard ---
export { lockUserForErasure, userEmail } from './gdpr.js';
export { type Actor, assertMayRemoveUser, runUserDeactivated, userExistsInTenant } from './service.js';
