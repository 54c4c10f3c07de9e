/** The auth module: login, tokens, refresh, logout and lockout under /api/v1/auth. */
import type { AppModule } from '../../platform/module.js';
import { registerAuthGdpr } from './gdpr.js';
import { authRoutes } from './routes.js';

// --- module registration ---
export const authModule: AppModule = {
  name: 'auth',
  setup: (ctx) => {
    // --- gdpr hooks ---
    registerAuthGdpr(ctx);
  },
  routes: (ctx) => [{ prefix: '/api/v1/auth', plugin: authRoutes(ctx) }],
};
