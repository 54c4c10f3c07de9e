/** The sessions module: a user's sessions and their refresh tokens (API.md §5). */
import type { AppModule } from '../index.js';
import { registerSessionsGdpr } from './gdpr.js';
import { sessionRoutes } from './routes.js';

export const sessionsModule: AppModule = {
  name: 'sessions',
  setup: (ctx) => {
    // --- gdpr hooks ---
    registerSessionsGdpr(ctx);
  },
  routes: (ctx) => [{ prefix: '/api/v1/sessions', plugin: sessionRoutes(ctx) }],
};
