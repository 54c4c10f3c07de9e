/**
 * The API keys module: routes, the `mc_sk_…` authenticator, the permission resolver wrapper (a key acts with its
 * scopes ∩ its owner's current permissions), the per-key quota and the GDPR hooks. It provides the request guard's
 * credential scheme, built after RBAC's `permissions` provider, whose resolver it wraps.
 */

import type { AppContext, CredentialScheme, PermissionResolver } from '../../platform/context.js';
import { REDACTED } from '../../platform/http/log-redaction.js';
import type { AppModule } from '../../platform/module.js';
import { keys } from '../../platform/store/keys.js';
import { resolveRolePermissions } from '../rbac/index.js';
import { apiKeysErrors } from './errors.js';
import { apiKeyRateLimitPlugin } from './rate-limit.js';
import { apiKeyRoutes } from './routes.js';
import { intersectPermissions, isSelfScope, type SELF_SCOPES } from './scopes.js';
import { createApiKeyAuthenticator, eraseUserKeys, exportUserKeys } from './service.js';

/** The prefix of every raw API key (`mc_sk_…`): a bearer token that starts so is a key, not an access token. */
const KEY_PREFIX = 'mc_sk_';

/** The credential scheme the request guard uses for keys (X-API-Key, or a bearer token `mc_sk_…`). */
function apiKeyCredentials(ctx: AppContext): CredentialScheme {
  return {
    kind: 'api_key',
    header: 'x-api-key',
    recognises: (token) => token.startsWith(KEY_PREFIX),
    authenticate: createApiKeyAuthenticator(ctx),
    revokedKey: (principal) => keys.apiKeyRevoked(principal.apiKeyId ?? 0),
    revokedError: () => apiKeysErrors.error('API_KEY_REVOKED'),
    scopeError: (details) => apiKeysErrors.error('API_KEY_SCOPE_INSUFFICIENT', details),
    resolve: wrapResolver(ctx, ctx.permissions.resolve),
    isSelfScope,
    actorId: (principal) => String(principal.apiKeyId),
  };
}

function wrapResolver(ctx: AppContext, base: PermissionResolver): PermissionResolver {
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
  // A user-owned key acts with its owner's permissions: RBAC's resolver, kept by the factory.
  needs: ['permissions'],
  credentialScheme: apiKeyCredentials,
  setup: (ctx) => {
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
  noStorePrefixes: ['/api/v1/api-keys'],
  secretPatterns: [{ pattern: /\bmc_sk_[A-Za-z0-9]+/g, replacement: `${KEY_PREFIX}${REDACTED}` }],
};

/** `self` routes declare their keyScope with a self scope: the platform's SelfScopes are this list. */
type SelfScopeList = typeof SELF_SCOPES;
declare module '../../platform/http/permissions.js' {
  interface SelfScopes extends SelfScopeList {}
}

// --- used by the CLI (`massacorp keys audit`) ---
export { auditTenantKeyGrants } from './grant-audit.js';
// --- used by the audit log (actor names and the actor filter) ---
export { apiKeyNames } from './service.js';
