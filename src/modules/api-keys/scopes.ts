/**
 * API key scopes. A key's scopes are the legacy names of the existing API (`users:read`, ...) or RBAC permission
 * codes; both are turned into permission codes here, so the guard checks keys and users with the same `grants`.
 * The mapping is documented in docs/api-decisions.md ("API keys and feature flags").
 */
import { grants, isKnownPermission } from '../rbac/permissions.js';

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

export function isValidScope(scope: string): boolean {
  return scope in LEGACY_SCOPES || isKnownPermission(scope);
}

/** The permission codes (and wildcards) a list of scopes stands for. */
export function scopesAsPermissions(scopes: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const s of scopes) {
    const mapped = LEGACY_SCOPES[s];
    if (mapped) for (const p of mapped) out.add(p);
    else if (isKnownPermission(s)) out.add(s);
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

/** Scopes the holder of `held` may not put on a key ("nobody grants what they do not hold"). */
export function scopesNotHeld(scopes: readonly string[], held: ReadonlySet<string>): string[] {
  return scopes.filter((s) => [...scopesAsPermissions([s])].some((p) => !grants(held, p)));
}
