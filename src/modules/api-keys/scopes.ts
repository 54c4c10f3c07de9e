/**
 * API key scopes. A key's scopes are the legacy names of the existing API (`users:read`, ...) or RBAC permission
 * codes; both are turned into permission codes here, so the guard checks keys and users with the same `grants`.
 * The mapping is documented in docs/api-decisions.md ("API keys and feature flags").
 */
import { grants, isKnownPermission } from '../rbac/index.js';

/** Legacy scope → the permission codes it stands for. */
export const LEGACY_SCOPES: Readonly<Record<string, readonly string[]>> = {
  'users:read': ['users.read'],
  'users:write': ['users.read', 'users.write'],
  'users:admin': ['users.*'],
  'sessions:read': ['sessions.read'],
  'sessions:write': ['sessions.read', 'sessions.revoke'],
  'audit:read': ['audit.read'],
  'tenant:admin': ['tenants.manage'],
  '*': ['*'],
};

/**
 * Scopes that open the caller's own (`self`) routes to a key (API.md §13). They are not permissions: a user
 * always acts on their own data, so any user may put them on their own key, but a key reaches a `self` route
 * only when the route names one of these (its `keyScope`) and the key holds it (or `*`). Routes whose
 * `keyScope` is null (password change, ending sessions, every /mfa route) are never open to keys.
 */
export const SELF_SCOPES = {
  'profile.read': "Read the owner's profile and tenant (GET /users/me, /auth/me, /tenants/current)",
  'profile.write': "Change the owner's profile (PUT /users/me)",
  'sessions.self': "List the owner's sessions (GET /sessions, /sessions/{id}); never end them",
  'gdpr.self': "Export the owner's personal data (GET /gdpr/export, /gdpr/inventory)",
  // Not the owner's own data but a protocol surface: the routes under /scim/v2 declare it as their keyScope (and
  // refuse every other credential), and act there with the key owner's (or role's) permissions. Unlike the scopes
  // above it may sit on a tenant-owned key, and only who may create users and assign roles may put it on a key.
  scim: 'Provision users and role groups through SCIM 2.0 (/scim/v2) with the permissions of the key',
} as const;
export type SelfScope = keyof typeof SELF_SCOPES;

/** The scope of the SCIM 2.0 routes (API.md §17); see SELF_SCOPES. */
export const SCIM_SCOPE = 'scim';
/** What the creator of a key with scope `scim` must hold: SCIM creates users and hands out roles. */
export const SCIM_SCOPE_REQUIRES = ['users.write', 'roles.assign'] as const;

export function isSelfScope(scope: string): scope is SelfScope {
  return Object.hasOwn(SELF_SCOPES, scope);
}

/** Self scopes about the owner's own data: a tenant-owned key has no owner, so it cannot carry them. */
export function isOwnerDataScope(scope: string): boolean {
  return isSelfScope(scope) && scope !== SCIM_SCOPE;
}

export function isValidScope(scope: string): boolean {
  return scope in LEGACY_SCOPES || isKnownPermission(scope) || isSelfScope(scope);
}

/** The permission codes (and wildcards) a list of scopes stands for; self scopes are kept as they are. */
export function scopesAsPermissions(scopes: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const s of scopes) {
    const mapped = LEGACY_SCOPES[s];
    if (mapped) for (const p of mapped) out.add(p);
    else if (isKnownPermission(s) || isSelfScope(s)) out.add(s);
  }
  return out;
}

/**
 * The permissions held in both sets, wildcards included: `grants(result, x)` iff `grants(a, x) && grants(b, x)`.
 * Wildcards nest (`*` ⊃ `users.*` ⊃ `users.read`), so for any two codes that overlap, one covers the other
 * and the narrower one is the overlap.
 */
export function intersectPermissions(a: Iterable<string>, b: Iterable<string>): Set<string> {
  const bs = [...b];
  const out = new Set<string>();
  for (const x of a) {
    for (const y of bs) {
      if (grants([x], y)) out.add(y);
      else if (grants([y], x)) out.add(x);
    }
  }
  return out;
}

/**
 * Scopes the holder of `held` may not put on a key ("nobody grants what they do not hold"). Self scopes are
 * checked against `heldSelf`: everything for a user (their own data), the minting key's own scopes for a key.
 */
export function scopesNotHeld(
  scopes: readonly string[],
  held: ReadonlySet<string>,
  heldSelf: readonly string[] | 'all' = [],
): string[] {
  return scopes.filter((s) =>
    s === SCIM_SCOPE
      ? (heldSelf !== 'all' && !heldSelf.includes(SCIM_SCOPE)) ||
        SCIM_SCOPE_REQUIRES.some((p) => !grants(held, p))
      : isSelfScope(s)
        ? heldSelf !== 'all' && !grants(heldSelf, s)
        : [...scopesAsPermissions([s])].some((p) => !grants(held, p)),
  );
}
