/** The users module: profiles and administration of a tenant's users (API.md §6). */
import type { AppModule } from '../index.js';
import { registerUsersGdpr } from './gdpr.js';
import { userRoutes } from './routes.js';

export const usersModule: AppModule = {
  name: 'users',
  setup: (ctx) => {
    // --- gdpr hooks ---
    registerUsersGdpr(ctx);
  },
  routes: (ctx) => [{ prefix: '/api/v1/users', plugin: userRoutes(ctx) }],
};

// --- exports used by gdpr ---
// --- exports used by audit ---
export { lockUserForErasure, userEmail } from './gdpr.js';
export { type Actor, assertMayRemoveUser, runUserDeactivated } from './service.js';
