/** The sessions module's door: what other modules may use of it. */

export { endIdleSession, IDLE_REVOKED_REASON, isIdle, storedLastSeen } from './activity.js';
// --- exports used by auth, mfa, password-reset ---
export {
  type ClientInfo,
  claimRefreshToken,
  getSession,
  hasOtherSessionFromDevice,
  type IssuedTokens,
  isSessionActive,
  openSession,
  parseRefreshToken,
  publishActivity,
  publishRevocations,
  refreshTokenSessionId,
  revokeSessions,
  rotateRefreshToken,
  signAccessFor,
} from './service.js';
export type { SessionRow } from './tables.js';
