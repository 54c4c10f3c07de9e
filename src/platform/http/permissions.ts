/**
 * The vocabulary the request guard checks routes against. The codes themselves belong to their modules: the RBAC
 * module's catalogue widens `PermissionCodes` and the API keys module widens `SelfScopes` (declaration merging in
 * their index.ts), so a route naming an unknown code is a type error without the platform importing a module.
 */

// biome-ignore lint/suspicious/noEmptyInterface: filled by the RBAC module through declaration merging.
export interface PermissionCodes {}
// biome-ignore lint/suspicious/noEmptyInterface: filled by the API keys module through declaration merging.
export interface SelfScopes {}

export type PermissionCode = keyof PermissionCodes & string;
export type SelfScope = keyof SelfScopes & string;

/**
 * True when `granted` (codes and wildcards) covers `required`: `*` covers everything, `resource.*` every code of
 * that resource. Plain wildcard matching, the same for user permissions and API key scopes. Codes of three parts
 * (`oidc.clients.read`) are covered by `oidc.*` and by `oidc.clients.*` alike: a wildcard covers every code that
 * starts with what precedes its `*`, as the catalogue's isKnownPermission and expandPermission read it.
 */
export function grants(granted: Iterable<string>, required: string): boolean {
  for (const g of granted) {
    if (g === required || g === '*' || (g.endsWith('.*') && required.startsWith(g.slice(0, -1)))) return true;
  }
  return false;
}
