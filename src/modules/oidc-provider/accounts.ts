/**
 * The provider's view of a user (oidc-provider's findAccount): the tenant's active user whose id is the
 * `accountId`, and the claims each scope releases. `sub` is the user's id in the tenant: stable for the life of
 * the account, and meaningful only with the issuer (each tenant is its own issuer, so two tenants' subs never
 * name the same person to a relying party).
 */
import type { Account } from 'oidc-provider';
import { resolveUserPermissions, roleCodesOf } from '../rbac/index.js';
import { userById } from '../users/index.js';
import type { OidcProviderDeps } from './deps.js';

/** The claims each scope adds (oidc-provider's `claims` configuration). */
export const SCOPE_CLAIMS = {
  // The provider session's id, where a logout needs it.
  sid: null,
  // How and when the user signed in travel with `openid`, so every ID token carries them (the library would
  // otherwise add them only when the relying party asks through the `claims` parameter or `max_age`).
  openid: ['sub', 'acr', 'amr', 'auth_time'],
  email: ['email', 'email_verified'],
  profile: ['name', 'given_name', 'family_name', 'locale'],
  roles: ['roles'],
  permissions: ['permissions'],
} as const;

export async function findAccount(
  deps: OidcProviderDeps,
  tenantId: number,
  id: string,
): Promise<Account | undefined> {
  const userId = Number(id);
  if (!/^\d+$/.test(id) || !Number.isSafeInteger(userId)) return undefined;
  const user = await deps.database.withTenant(tenantId, (tx) => userById(tx, tenantId, userId));
  // A deactivated user is no account: their tokens stop at userinfo, introspection and refresh.
  if (!user?.isActive) return undefined;
  return {
    accountId: id,
    async claims(_use, scope) {
      const scopes = new Set(scope.split(' '));
      const name = [user.firstName, user.lastName].filter(Boolean).join(' ');
      const claims: Record<string, unknown> = {
        sub: id,
        email: user.email,
        email_verified: user.isVerified,
        ...(name ? { name } : {}),
        ...(user.firstName ? { given_name: user.firstName } : {}),
        ...(user.lastName ? { family_name: user.lastName } : {}),
      };
      if (scopes.has('roles'))
        claims.roles =
          (await deps.database.withTenant(tenantId, (tx) => roleCodesOf(tx, tenantId, [userId]))).get(
            userId,
          ) ?? [];
      if (scopes.has('permissions'))
        claims.permissions = [...(await resolveUserPermissions(deps, tenantId, userId))].sort();
      return claims as Awaited<ReturnType<Account['claims']>>;
    },
  };
}
