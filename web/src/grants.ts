/**
 * What the signed-in admin may hand on, worked out the API's way so the console offers only what the API would
 * accept (the API checks again: docs/api.md, API keys and role assignment).
 * - A held wildcard (`*`, `users.*`) stands for every catalogue permission it covers: a `*` holder is offered the
 *   whole catalogue, not nothing.
 * - A role may be given by whoever holds every permission it stands for, its ancestors' included; the owner
 *   role (`*`) therefore only by a `*` holder.
 */

export interface Catalogue {
  permissions: { code: string; platform_only: boolean }[];
}

/** Whether a held set (codes and wildcards) covers `code`, as the API's `grants` reads it. */
export function covers(held: ReadonlySet<string>, code: string): boolean {
  if (held.has('*') || held.has(code)) return true;
  const [resource] = code.split('.');
  return held.has(`${resource}.*`);
}

/**
 * The concrete permissions the holder has: the catalogue's codes their set covers (or, without the catalogue,
 * the codes they hold as such), sorted.
 */
export function heldPermissions(
  held: ReadonlySet<string>,
  catalogue: Catalogue | null | undefined,
): string[] {
  const codes = catalogue
    ? catalogue.permissions.map((p) => p.code).filter((c) => covers(held, c))
    : [...held].filter((c) => !c.includes('*'));
  return [...new Set(codes)].sort();
}

interface RoleLike {
  id: string;
  code: string;
  permissions: string[];
  parent_role_id: string | null;
}

/** A role's permissions with its ancestors' (the tenant's roles list holds them all). */
function roleCodes(role: RoleLike, byId: Map<string, RoleLike>): string[] {
  const codes: string[] = [];
  const seen = new Set<string>();
  for (let r: RoleLike | undefined = role; r && !seen.has(r.id); r = byId.get(r.parent_role_id ?? '')) {
    seen.add(r.id);
    codes.push(...r.permissions);
  }
  return codes;
}

/**
 * The roles the holder could give: each permission of the role (a wildcard through the catalogue codes it
 * covers; platform-only ones count only if held, since elsewhere the API ignores them) is covered by `held`.
 */
export function grantableRoles<R extends RoleLike>(
  roles: R[],
  held: ReadonlySet<string>,
  catalogue: Catalogue | null | undefined,
): R[] {
  const byId = new Map<string, RoleLike>(roles.map((r) => [r.id, r]));
  const platformOnly = new Set(catalogue?.permissions.filter((p) => p.platform_only).map((p) => p.code));
  const canGive = (code: string) => {
    if (covers(held, code)) return true;
    if (!code.includes('*') || !catalogue) return false;
    const prefix = code === '*' ? '' : code.slice(0, -1);
    return catalogue.permissions
      .map((p) => p.code)
      .filter((c) => c.startsWith(prefix) && !platformOnly.has(c))
      .every((c) => covers(held, c));
  };
  return roles.filter((r) => roleCodes(r, byId).every(canGive));
}
