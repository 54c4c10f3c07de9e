/** The sessions module: the caller's sessions and other users' sessions under /api/v1/sessions. */
import type { AppModule } from '../../platform/module.js';
import { registerSessionsGdpr } from './gdpr.js';
import { sessionRoutes } from './routes.js';

// --- module registration ---
export const sessionsModule: AppModule = {
  name: 'sessions',
  setup: (ctx) => {
    // --- gdpr hooks ---
    registerSessionsGdpr(ctx);
  },
  routes: (ctx) => [{ prefix: '/api/v1/sessions', plugin: sessionRoutes(ctx) }],
};
