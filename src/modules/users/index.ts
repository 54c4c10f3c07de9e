/** The users module's door: what other modules may use of it. */

// --- exports used by auth, mfa, password-reset, api-keys ---
export { UserRead } from './schemas.js';
export { toUserRead } from './serialize.js';
export {
  createSelfRegisteredUser,
  isUserActive,
  recordUserLogin,
  setUserPassword,
  userByEmail,
  userById,
} from './service.js';
export type { UserRow } from './tables.js';
