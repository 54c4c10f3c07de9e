/**
 * Permission resolution with a per-process cache. An entry is keyed by (tenant, user or role) and remembers the
 * tenant's permission version it was computed under; the request guard reads that version from the store in the
 * same mget as revocation, so a warm request costs no PostgreSQL round trip, and any role, assignment or
 * superuser change (which bumps the version after it commits) is seen by every replica on its next request.
 */
import { LRUCache } from 'lru-cache';
import type { Principal } from '../../platform/context.js';
import type { Executor } from '../../platform/db/client.js';
import { keys } from '../../platform/store/keys.js';
import { replaceVersion } from '../../platform/store/versions.js';
import { isPlatformTenant } from '../tenants/index.js';
import type { RbacDeps } from './deps.js';
import { effectiveSet, grants, PLATFORM_ONLY, SYSTEM_ROLES, type SystemRoleCode } from './permissions.js';
import { type GrantSource, loadRoleChainGrants, loadUserRoleGrants } from './repository.js';

/** A safety net: even without a version change an entry is re-read after this long (e.g. a lost store key). */
const MAX_AGE_MS = 10 * 60_000;
const MAX_ENTRIES = 50_000;

type Load = () => Promise<{ perms: ReadonlySet<string>; nextExpiry: Date | null }>;

/**
 * Entries are keyed by `key@version`: a version bump makes every older entry unreachable (they age out of the
 * LRU). Concurrent cold requests of one principal share one load (lru-cache keeps one fetch per key); an entry
 * lives MAX_AGE_MS, or until the first role assignment it counts on expires.
 */
class PermissionCache {
  private readonly entries = new LRUCache<string, ReadonlySet<string>, Load>({
    max: MAX_ENTRIES,
    ttl: MAX_AGE_MS,
    ttlResolution: 0,
    // An eviction while loading must not fail the request that is waiting for the load.
    ignoreFetchAbort: true,
    fetchMethod: async (_key, _stale, { context: load, options }) => {
      const { perms, nextExpiry } = await load();
      if (nextExpiry) options.ttl = Math.max(1, Math.min(MAX_AGE_MS, nextExpiry.getTime() - Date.now()));
      return perms;
    },
  });

  async get(key: string, version: string, load: Load): Promise<ReadonlySet<string>> {
    return (await this.entries.fetch(`${key}@${version}`, { context: load }))!;
  }
}

// One cache per app (keyed by its context), so two apps in one process behave as two replicas.
const caches = new WeakMap<RbacDeps, PermissionCache>();
function cacheOf(ctx: RbacDeps): PermissionCache {
  let c = caches.get(ctx);
  if (!c) {
    c = new PermissionCache();
    caches.set(ctx, c);
  }
  return c;
}

/** The raw codes a grant source lists (system roles from the catalogue), made effective for the tenant. */
export function permissionsFrom(src: GrantSource): Set<string> {
  if (!src.exists || !src.isActive) return new Set();
  const raw: string[] = [];
  if (src.isSuperuser) raw.push('*');
  for (const r of src.roles) {
    raw.push(...(r.system ? (SYSTEM_ROLES[r.code as SystemRoleCode]?.permissions ?? []) : r.permissions));
  }
  return effectiveSet(raw, src.isPlatform);
}

/** A user's grants: the user's flags (from the users module, through ctx.users), the tenant's and the roles. */
export async function loadUserGrants(
  ctx: RbacDeps,
  tx: Executor,
  tenantId: number,
  userId: number,
): Promise<GrantSource> {
  const flags = await ctx.users.grantFlags(tx, tenantId, userId);
  const isPlatform = await isPlatformTenant(tx, tenantId);
  if (!flags)
    return { exists: false, isActive: false, isSuperuser: false, isPlatform, nextExpiry: null, roles: [] };
  const grants = await loadUserRoleGrants(tx, tenantId, userId);
  return { exists: true, ...flags, isPlatform, ...grants };
}

/** A role's grants (parents included); a role acts as an active, non-superuser holder would. */
export async function loadRoleGrants(tx: Executor, tenantId: number, roleId: string): Promise<GrantSource> {
  const isPlatform = await isPlatformTenant(tx, tenantId);
  const grants = await loadRoleChainGrants(tx, tenantId, roleId);
  return { exists: true, isActive: true, isSuperuser: false, isPlatform, ...grants };
}

/**
 * What a grant-ceiling check (SSO connections, issue 18) needs to know of a user or a role, read in the caller's
 * transaction: the effective set, and whether it is one of the accounts nobody may provision or link
 * automatically: an owner (the `owner` role, or any role listing `*`), a superuser, a platform operator (a
 * platform-only permission in the platform tenant).
 */
export interface GrantProfile {
  permissions: ReadonlySet<string>;
  isPlatform: boolean;
  owner: boolean;
  superuser: boolean;
  platformOperator: boolean;
}

function profileOf(src: GrantSource): GrantProfile {
  const permissions = permissionsFrom(src);
  const live = src.exists && src.isActive;
  const raw = (r: GrantSource['roles'][number]) =>
    r.system ? (SYSTEM_ROLES[r.code as SystemRoleCode]?.permissions ?? []) : r.permissions;
  return {
    permissions,
    isPlatform: src.isPlatform,
    owner: live && src.roles.some((r) => raw(r).includes('*')),
    superuser: live && src.isSuperuser,
    platformOperator: src.isPlatform && [...PLATFORM_ONLY].some((p) => grants(permissions, p)),
  };
}

/** A user's grant profile (inactive or unknown: no permission, nothing privileged), in the caller's transaction. */
export async function userGrantProfile(
  ctx: RbacDeps,
  tx: Executor,
  tenantId: number,
  userId: number,
): Promise<GrantProfile> {
  return profileOf(await loadUserGrants(ctx, tx, tenantId, userId));
}

/** A role's grant profile (parents included; an unknown role grants nothing), in the caller's transaction. */
export async function roleGrantProfile(
  tx: Executor,
  tenantId: number,
  roleId: string,
): Promise<GrantProfile> {
  return profileOf(await loadRoleGrants(tx, tenantId, roleId));
}

async function currentVersion(ctx: RbacDeps, tenantId: number): Promise<string> {
  return (await ctx.store.get(keys.permissionVersion(tenantId))) ?? '0';
}

/**
 * A principal's effective permissions, from the cache while the tenant's permission version holds, else `load`ed
 * in a tenant transaction (`nextExpiry`: when a timed grant ends and the entry must be recomputed; a role's
 * chain has none).
 */
async function resolveCached(
  ctx: RbacDeps,
  tenantId: number,
  key: string,
  version: string | undefined,
  load: (tx: Executor) => Promise<GrantSource>,
): Promise<ReadonlySet<string>> {
  const v = version ?? (await currentVersion(ctx, tenantId));
  return cacheOf(ctx).get(`${tenantId}:${key}`, v, async () => {
    const src = await ctx.database.withTenant(tenantId, load);
    return { perms: permissionsFrom(src), nextExpiry: src.nextExpiry };
  });
}

/** Effective permissions of a user (superuser: everything in the tenant; inactive or unknown: nothing). */
export function resolveUserPermissions(ctx: RbacDeps, tenantId: number, userId: number, version?: string) {
  return resolveCached(ctx, tenantId, `u:${userId}`, version, (tx) =>
    loadUserGrants(ctx, tx, tenantId, userId),
  );
}

/** Effective permissions of a role with its ancestors (tenant-owned API keys act with one). */
export function resolveRolePermissions(ctx: RbacDeps, tenantId: number, roleId: string, version?: string) {
  return resolveCached(ctx, tenantId, `r:${roleId}`, version, (tx) => loadRoleGrants(tx, tenantId, roleId));
}

/** The resolver installed as ctx.auth.permissionResolver: works for any principal with a user or a role. */
export function createPermissionResolver(ctx: RbacDeps) {
  return async (p: Principal): Promise<ReadonlySet<string>> => {
    if (p.userId !== null) return resolveUserPermissions(ctx, p.tenantId, p.userId, p.permissionVersion);
    if (p.roleId) return resolveRolePermissions(ctx, p.tenantId, p.roleId, p.permissionVersion);
    return new Set<string>();
  };
}

/**
 * After a role, assignment or superuser change has COMMITTED: a new random version (not a counter, which a
 * lost or expired key could replay) makes every replica's cached sets stale at once.
 */
export async function bumpPermissionVersion(ctx: RbacDeps, tenantId: number): Promise<void> {
  await replaceVersion(ctx.store, keys.permissionVersion(tenantId));
}
