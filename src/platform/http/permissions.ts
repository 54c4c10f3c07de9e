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
 * that resource. Plain wildcard matching, the same for user permissions and API key scopes.
 */
export function grants(granted: Iterable<string>, required: string): boolean {
  const [resource] = required.split('.');
  for (const g of granted) {
    if (g === required || g === '*' || g === `${resource}.*`) return true;
  }
  return false;
}
