/**
 * The API keys module: routes, the `mc_sk_…` authenticator, the permission resolver wrapper (a key acts with its
 * scopes ∩ its owner's current permissions), the per-key quota and the GDPR hooks. Its setup must run after the
 * RBAC module's, whose resolver it wraps.
 */

import type { AppContext, PermissionResolver } from '../../platform/context.js';
import type { AppModule } from '../../platform/module.js';
import { resolveRolePermissions } from '../rbac/index.js';
import { apiKeysErrors } from './errors.js';
import { apiKeyRateLimitPlugin } from './rate-limit.js';
import { apiKeyRoutes } from './routes.js';
import { intersectPermissions, isSelfScope, type SELF_SCOPES } from './scopes.js';
import { createApiKeyAuthenticator, eraseUserKeys, exportUserKeys } from './service.js';

export function wrapResolver(ctx: AppContext, base: PermissionResolver): PermissionResolver {
  return async (p) => {
    if (p.kind !== 'api_key') return base(p);
    // principal.scopes already holds permission codes (see the authenticator); self scopes are no permissions.
    const scopes = (p.scopes ?? []).filter((s) => !isSelfScope(s));
    if (scopes.length === 0) return new Set<string>();
    const held = p.roleId
      ? await resolveRolePermissions(ctx, p.tenantId, p.roleId, p.permissionVersion)
      : p.userId !== null
        ? await base({ ...p, kind: 'user', scopes: null, roleId: null })
        : new Set<string>();
    return intersectPermissions(scopes, held);
  };
}

export const apiKeysModule: AppModule = {
  name: 'api-keys',
  errors: [apiKeysErrors],
  setup: (ctx) => {
    ctx.auth.apiKeyAuthenticator = createApiKeyAuthenticator(ctx);
    ctx.auth.isSelfScope = isSelfScope;
    ctx.auth.permissionResolver = wrapResolver(ctx, ctx.auth.permissionResolver);
    ctx.hooks.gdprExport.push({ name: 'api_keys', collect: exportUserKeys });
    ctx.hooks.gdprErase.push({
      name: 'api_keys',
      erase: (tx, tenantId, userId, afterCommit) => eraseUserKeys(ctx, tx, tenantId, userId, afterCommit),
    });
  },
  routes: (ctx) => [
    { prefix: '', plugin: apiKeyRateLimitPlugin(ctx) as never },
    { prefix: '/api/v1/api-keys', plugin: apiKeyRoutes(ctx) },
  ],
};

/** `self` routes declare their keyScope with a self scope: the platform's SelfScopes are this list. */
type SelfScopeList = typeof SELF_SCOPES;
declare module '../../platform/http/permissions.js' {
  interface SelfScopes extends SelfScopeList {}
}

// --- used by the CLI (`massacorp keys audit`) ---
export { auditTenantKeyGrants, type KeyGrantFinding } from './grant-audit.js';
