/**
 * The permission catalogue: the single source of every permission code. Routes, roles, API key scopes and the
 * `GET /permissions` listing all read it. Codes are `resource.action`; `resource.*` and `*` are wildcards.
 */
import { grants } from '../../platform/http/permissions.js';

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
  'directory.read': 'Read directory (SCIM) groups, their members and mapped roles',
  'directory.write': 'Map directory groups to roles',
  'webhooks.read': 'Read webhook endpoints and their delivery logs',
  'webhooks.write': 'Manage webhook endpoints, rotate their secrets, replay and test deliveries',
  'oidc.clients.read': 'Read the OpenID Connect clients of the tenant (never their secrets)',
  'oidc.clients.write': 'Register, change and delete OpenID Connect clients, rotate their secrets',
  'tenants.manage': 'Change tenant name and settings',
  'gdpr.manage': 'Export, erase and anonymise users (GDPR)',
  'platform.tenants': 'Platform operators: list, create, suspend and delete tenants',
  'platform.features': 'Platform operators: edit the feature flag catalogue',
} as const;

export type PermissionCode = keyof typeof PERMISSIONS;
export const PERMISSION_CODES = Object.keys(PERMISSIONS) as PermissionCode[];

/** Permissions only the platform tenant may ever hold, whatever a role says. */
export const PLATFORM_ONLY: ReadonlySet<string> = new Set(['platform.tenants', 'platform.features']);

/** True when `granted` (codes and wildcards) covers `required` (generic wildcard matching, owned by the platform). */
export { grants };

/** A code or wildcard that names something real in the catalogue. */
export function isKnownPermission(code: string): boolean {
  if (code === '*') return true;
  if (code.endsWith('.*')) {
    const prefix = code.slice(0, -1);
    return PERMISSION_CODES.some((p) => p.startsWith(prefix));
  }
  return code in PERMISSIONS;
}

/** Every permission of the catalogue a tenant may hold (all but the platform-only ones). */
export const TENANT_PERMISSION_CODES: readonly PermissionCode[] = PERMISSION_CODES.filter(
  (p) => !PLATFORM_ONLY.has(p),
);

export type SystemRoleCode = 'owner' | 'admin' | 'manager' | 'member' | 'viewer';

/**
 * The system roles every tenant has. Their permissions live here, not in the database, so this catalogue stays
 * the single source; the rows in `roles` exist only to be assigned and referenced as parents.
 */
export const SYSTEM_ROLES: Record<
  SystemRoleCode,
  { name: string; description: string; permissions: readonly string[] }
> = {
  owner: { name: 'Owner', description: 'Everything in the tenant', permissions: ['*'] },
  admin: {
    name: 'Administrator',
    description: 'Administers users, roles, keys, sessions and settings',
    permissions: TENANT_PERMISSION_CODES,
  },
  manager: {
    name: 'Manager',
    description: 'Manages users and their sessions, assigns roles',
    permissions: [
      'users.read',
      'users.write',
      'roles.read',
      'roles.assign',
      'sessions.read',
      'sessions.revoke',
      'audit.read',
      'api_keys.read',
      'features.read',
      'wireguard.read',
      'sso.read',
      'directory.read',
    ],
  },
  member: { name: 'Member', description: 'A regular user', permissions: ['users.read', 'features.read'] },
  viewer: {
    name: 'Viewer',
    description: 'Read-only access',
    permissions: [
      'users.read',
      'roles.read',
      'sessions.read',
      'audit.read',
      'api_keys.read',
      'features.read',
      'wireguard.read',
      'sso.read',
      'directory.read',
    ],
  },
};
export const SYSTEM_ROLE_CODES = Object.keys(SYSTEM_ROLES) as SystemRoleCode[];

/** The catalogue codes a code or wildcard stands for (`users.*` → users.read, users.write, users.delete). */
export function expandPermission(code: string): PermissionCode[] {
  if (code === '*') return [...PERMISSION_CODES];
  if (code.endsWith('.*')) {
    const prefix = code.slice(0, -1);
    return PERMISSION_CODES.filter((p) => p.startsWith(prefix));
  }
  return code in PERMISSIONS ? [code as PermissionCode] : [];
}

/**
 * The effective set a principal holds, from the raw codes its roles list. Outside the platform tenant the
 * platform-only permissions are removed, and `*` is expanded into the tenant codes plus one `resource.*` per
 * complete resource, so a tenant owner's `*` can never satisfy `platform.tenants`.
 */
export function effectiveSet(raw: Iterable<string>, isPlatformTenant: boolean): Set<string> {
  const out = new Set<string>();
  for (const code of raw) {
    if (isPlatformTenant) {
      out.add(code);
      continue;
    }
    if (code === '*') {
      for (const p of TENANT_PERMISSION_CODES) out.add(p);
      for (const r of new Set(TENANT_PERMISSION_CODES.map((p) => p.split('.')[0]!))) out.add(`${r}.*`);
    } else if (
      !PLATFORM_ONLY.has(code) &&
      !(code.endsWith('.*') && expandPermission(code).some((p) => PLATFORM_ONLY.has(p)))
    ) {
      out.add(code);
    }
  }
  return out;
}

/**
 * Whether `holder` may hand `code` to someone else (in a role or by assignment): they must hold everything it
 * stands for. Platform-only codes are ignored outside the platform tenant, where they can never take effect.
 */
export function canGrant(holder: ReadonlySet<string>, code: string, isPlatformTenant: boolean): boolean {
  if (grants(holder, code)) return true;
  const concrete = expandPermission(code).filter((p) => isPlatformTenant || !PLATFORM_ONLY.has(p));
  return concrete.every((p) => grants(holder, p));
}
