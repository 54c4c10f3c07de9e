/** The RBAC module: installs the permission resolver and the hooks that give new tenants and users their roles. */
import type { AppContext } from '../../platform/context.js';
import type { AppModule } from '../../platform/module.js';
import { isKnownPermission, type PERMISSIONS } from './permissions.js';
import { createPermissionResolver } from './resolver.js';
import { rbacRoutes } from './routes.js';
import { grantSystemRole, seedTenantRoles } from './service.js';

export function setupRbac(ctx: AppContext): void {
  ctx.auth.permissionResolver = createPermissionResolver(ctx);
  ctx.hooks.tenantCreated.push(seedTenantRoles);
  ctx.hooks.userCreated.push(async (tx, tenantId, userId, source) => {
    if (source === 'register') await grantSystemRole(tx, tenantId, userId, 'member');
  });
}

// --- module registration ---
export const rbacModule: AppModule = {
  name: 'rbac',
  setup: (ctx) => {
    setupRbac(ctx);
    ctx.auth.isKnownPermission = isKnownPermission;
  },
  routes: (ctx) => [{ prefix: '/api/v1', plugin: rbacRoutes(ctx) }],
};

/** Routes declare `access` with a catalogue code: the platform's PermissionCodes are this catalogue. */
type Catalogue = typeof PERMISSIONS;
declare module '../../platform/http/permissions.js' {
  interface PermissionCodes extends Catalogue {}
}
