/**
 * The RBAC module's door: the permission catalogue, roles, assignments and the permission resolver. It installs
 * the resolver and the hooks that give new tenants and users their roles. Imports tenants' door only; what it
 * must know of users (exists, active, superuser) it asks through ctx.users, which the users module fills.
 */
import type { AppContext } from '../../platform/context.js';
import type { AppModule } from '../../platform/module.js';
import { rbacErrors } from './errors.js';
import { isKnownPermission, type PERMISSIONS } from './permissions.js';
import { createPermissionResolver } from './resolver.js';
import { rbacRoutes } from './routes.js';
import { grantSystemRole, seedTenantRoles } from './service.js';

function setupRbac(ctx: AppContext): void {
  ctx.hooks.tenantCreated.push(seedTenantRoles);
  ctx.hooks.userCreated.push(async (tx, tenantId, userId, source) => {
    if (source === 'register') await grantSystemRole(tx, tenantId, userId, 'member');
  });
}

// --- module registration ---
export const rbacModule: AppModule = {
  name: 'rbac',
  errors: [rbacErrors],
  // Whether a user exists, is active or superuser: the users module (above this one) answers.
  needs: ['users'],
  provides: {
    permissions: (ctx) => ({ resolve: createPermissionResolver(ctx), isKnownPermission }),
  },
  setup: setupRbac,
  routes: (ctx) => [{ prefix: '/api/v1', plugin: rbacRoutes(ctx) }],
};

/** Routes declare `access` with a catalogue code: the platform's PermissionCodes are this catalogue. */
type Catalogue = typeof PERMISSIONS;
declare module '../../platform/http/permissions.js' {
  interface PermissionCodes extends Catalogue {}
}

export { canGrant, expandPermission, grants, isKnownPermission, PLATFORM_ONLY } from './permissions.js';
export { activeRoleCodesSql, holderIds as roleHolderIds } from './repository.js';
export {
  bumpPermissionVersion,
  type GrantProfile,
  resolveRolePermissions,
  resolveUserPermissions,
  roleGrantProfile,
  userGrantProfile,
} from './resolver.js';
export { actorOf } from './routes.js';
// --- exports used by mfa, scim ---
export {
  type Actor,
  assertCanGrantRole,
  assertNotLastOwner,
  auditRefusals,
  grantRoleByCode,
  grantRoleById,
  heldRoleIds,
  roleById,
  roleCodesOf,
  roleExists,
  roleGrantExcess,
  roleIdByCode,
  setGroupGrantInTx,
  userRoleMfaChangesAtSql,
  userRoleRequiresMfaSql,
} from './service.js';
