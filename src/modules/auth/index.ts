/** The auth module: sign-in, tokens, refresh, lockout (API.md §4). */
import type { AppModule } from '../index.js';
import { registerAuthGdpr } from './gdpr.js';
import { authRoutes } from './routes.js';

export const authModule: AppModule = {
  name: 'auth',
  setup: (ctx) => {
    // --- gdpr hooks ---
    registerAuthGdpr(ctx);
  },
  routes: (ctx) => [{ prefix: '/api/v1/auth', plugin: authRoutes(ctx) }],
};
