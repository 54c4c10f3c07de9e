/** The RBAC module: installs the permission resolver and the hooks that give new tenants and users their roles. */
import type { AppContext } from '../../platform/context.js';
import { createPermissionResolver } from './resolver.js';
import { grantSystemRole, seedTenantRoles } from './service.js';

export function setupRbac(ctx: AppContext): void {
  ctx.auth.permissionResolver = createPermissionResolver(ctx);
  ctx.hooks.tenantCreated.push(seedTenantRoles);
  ctx.hooks.userCreated.push(async (tx, tenantId, userId, source) => {
    if (source === 'register') await grantSystemRole(tx, tenantId, userId, 'member');
  });
}

// --- exports used by gdpr, features ---
export { auditRefusals, heldRoleIds, roleExists } from './service.js';
