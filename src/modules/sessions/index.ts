/** The sessions module's door: sessions, refresh tokens and their revocation. Imports tenants' door only. */
import type { AppModule } from '../../platform/module.js';
import { enforceIdleTimeout } from './activity.js';
import { registerSessionsGdpr } from './gdpr.js';
import { sessionRoutes } from './routes.js';

// --- module registration ---
export const sessionsModule: AppModule = {
  name: 'sessions',
  // No error code of its own: it answers the platform's.
  errors: [],
  provides: {
    sessions: (ctx) => ({
      enforceIdleTimeout: (session, tenantVersion, lastSeenRaw, audit) =>
        enforceIdleTimeout(ctx, session, tenantVersion, lastSeenRaw, audit),
    }),
  },
  setup: (ctx) => {
    // --- gdpr hooks ---
    registerSessionsGdpr(ctx);
  },
  routes: (ctx) => [{ prefix: '/api/v1/sessions', plugin: sessionRoutes(ctx) }],
};

export { endIdleSession, IDLE_REVOKED_REASON, isIdle, storedLastSeen } from './activity.js';
export { ListQuery, SessionList, TerminateManyBody, TerminateResponse } from './schemas.js';
export {
  type ClientInfo,
  claimRefreshToken,
  getSession,
  hasOtherSessionFromDevice,
  isSessionActive,
  listSessions,
  openSession,
  parseRefreshToken,
  publishActivity,
  publishRevocations,
  refreshTokenSessionId,
  revokeSessions,
  revokeSessionsNotThrough,
  revokeTenantSessions,
  revokeUserSessions,
  rotateRefreshToken,
  signAccessFor,
  terminatedResponse,
  terminateSessions,
  terminateUserSession,
} from './service.js';
