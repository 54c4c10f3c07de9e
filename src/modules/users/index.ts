/**
 * The users module's door: users, THE user-creation function (createUserInTx, with prepareUser before the
 * transaction, or createUser for both), dominance checks and deactivation. Imports the doors of tenants, rbac and
 * sessions only; fills ctx.users so that RBAC (below it) can ask about users without importing this module.
 */
import type { AppContext } from '../../platform/context.js';
import type { AppModule } from '../../platform/module.js';
import { usersErrors } from './errors.js';
import { registerUsersGdpr } from './gdpr.js';
import { userRoutes } from './routes.js';
import { userLookups } from './service.js';
import type { UserRow } from './tables.js';

function setupUsers(ctx: AppContext): void {
  // --- gdpr hooks ---
  registerUsersGdpr(ctx);
}

export const usersModule: AppModule = {
  name: 'users',
  errors: [usersErrors],
  // A user's MFA status, in reads of the user (the MFA module, above this one).
  needs: ['mfa'],
  provides: { users: userLookups },
  setup: setupUsers,
  routes: (ctx) => [{ prefix: '/api/v1/users', plugin: userRoutes(ctx) }],
};

/** ctx.mfa.inlineLogin and other context hooks carry the user row (see UserRecord). */
declare module '../../platform/context.js' {
  interface UserRecord extends UserRow {}
}

export { lockUserForErasure, userEmail } from './gdpr.js';
export { UserRead } from './schemas.js';
export { toUserRead } from './serialize.js';
export {
  type Actor,
  assertMayManageUser,
  assertMayRemoveUser,
  createUser,
  createUserInTx,
  deleteUser,
  isUserActive,
  markEmailVerified,
  prepareUser,
  recordUserLogin,
  runUserDeactivated,
  setUserPassword,
  updateUser,
  userByEmail,
  userById,
  userEmailsById,
  userExistsInTenant,
  userIdsInDomains,
} from './service.js';
export type { UserRow } from './tables.js';
