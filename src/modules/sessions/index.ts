/** The sessions module: the caller's sessions and other users' sessions under /api/v1/sessions. */
import type { AppModule } from '../../platform/module.js';
import { enforceIdleTimeout } from './activity.js';
import { sessionRoutes } from './routes.js';

// --- module registration ---
export const sessionsModule: AppModule = {
  name: 'sessions',
  setup: (ctx) => {
    ctx.sessions.enforceIdleTimeout = (session, tenantVersion, lastSeenRaw, audit) =>
      enforceIdleTimeout(ctx, session, tenantVersion, lastSeenRaw, audit);
  },
  routes: (ctx) => [{ prefix: '/api/v1/sessions', plugin: sessionRoutes(ctx) }],
};
