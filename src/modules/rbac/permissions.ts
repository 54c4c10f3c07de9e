/**
 * The permission catalogue: the single source of every permission code. Routes, roles, API key scopes and the
 * `GET /permissions` listing all read it. Codes are `resource.action`; `resource.*` and `*` are wildcards.
 */
export const PERMISSIONS = {
  'users.read': 'Read users of the tenant',
  'users.write': 'Create and update users, activate, deactivate, verify',
  'users.delete': 'Delete users',
  'roles.read': 'Read roles and permissions',
  'roles.write': 'Create, update and delete custom roles',
  'roles.assign': 'Assign and remove roles of users',
  'sessions.read': "Read other users' sessions",
  'sessions.revoke': "End other users' sessions",
  'audit.read': 'Read the audit log',
  'audit.export': 'Export the audit log',
  'api_keys.read': 'Read API keys of the tenant',
  'api_keys.write': 'Create and revoke API keys',
  'features.read': 'Read feature flags and overrides',
  'features.write': 'Set feature flag overrides for the tenant',
  'wireguard.read': 'Read WireGuard peers and server',
  'wireguard.write': 'Create, change and revoke WireGuard peers',
  'sso.read': 'Read SSO connections',
  'sso.write': 'Manage SSO connections',
  'tenants.manage': 'Change tenant name and settings',
  'gdpr.manage': 'Export, erase and anonymise users (GDPR)',
  'platform.tenants': 'Platform operators: list, create, suspend and delete tenants',
  'platform.features': 'Platform operators: edit the feature flag catalogue',
} as const;

export type PermissionCode = keyof typeof PERMISSIONS;
export const PERMISSION_CODES = Object.keys(PERMISSIONS) as PermissionCode[];

/** Permissions only the platform tenant may ever hold, whatever a role says. */
export const PLATFORM_ONLY: ReadonlySet<string> = new Set(['platform.tenants', 'platform.features']);

/** True when `granted` (codes and wildcards) covers `required`. */
export function grants(granted: Iterable<string>, required: string): boolean {
  const [resource] = required.split('.');
  for (const g of granted) {
    if (g === required || g === '*' || g === `${resource}.*`) return true;
  }
  return false;
}

/** A code or wildcard that names something real in the catalogue. */
export function isKnownPermission(code: string): boolean {
  if (code === '*') return true;
  if (code.endsWith('.*')) {
    const prefix = code.slice(0, -1);
    return PERMISSION_CODES.some((p) => p.startsWith(prefix));
  }
  return code in PERMISSIONS;
}
