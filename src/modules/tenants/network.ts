/**
 * Tenant allowed_ip_ranges (and session idle_ttl) for the request guard, without a database round trip per request: each replica caches
 * the tenant's ranges keyed by the store's tenant version (read in the guard's one mget), which every settings
 * change replaces after it commits.
 */
import ipaddr from 'ipaddr.js';
import { LRUCache } from 'lru-cache';
import { CidrSet } from '../../platform/http/network.js';
import { keys } from '../../platform/store/keys.js';
import { replaceVersion } from '../../platform/store/versions.js';
import type { TenantsDeps } from './deps.js';
import { findTenantById } from './repository.js';
import { resolveSettings } from './settings.js';

const MAX_AGE_MS = 10 * 60_000;

interface Entry {
  ranges: CidrSet | null;
  /** session.idle_ttl, read with the ranges: the guard's idle check costs no extra database read. */
  idleTtl: number | null;
}

/** `tenantId@version` → the entry. A settings change (new version) makes older entries unreachable. */
const caches = new WeakMap<TenantsDeps, LRUCache<string, Entry, number>>();

/** A CIDR (`10.0.0.0/8`, `2001:db8::/32`) or a single address; false for anything else. */
export function isValidCidr(value: string): boolean {
  try {
    if (value.includes('/')) ipaddr.parseCIDR(value);
    else ipaddr.parse(value);
    return ipaddr.isValid(value.split('/')[0]!);
  } catch {
    return false;
  }
}

async function entryOf(ctx: TenantsDeps, tenantId: number, version: string): Promise<Entry> {
  let cache = caches.get(ctx);
  if (!cache) {
    cache = new LRUCache<string, Entry, number>({
      max: 10_000,
      ttl: MAX_AGE_MS,
      ignoreFetchAbort: true,
      // Concurrent requests of a cold tenant share one read.
      fetchMethod: async (_key, _stale, { context: id }) => {
        const tenant = await ctx.database.withTenant(id, (tx) => findTenantById(tx, id));
        const list = (tenant?.settings.allowed_ip_ranges ?? []).filter(isValidCidr);
        return {
          ranges: list.length > 0 ? new CidrSet(list) : null,
          idleTtl: resolveSettings(tenant?.settings, ctx.config).session.idle_ttl,
        };
      },
    });
    caches.set(ctx, cache);
  }
  return (await cache.fetch(`${tenantId}@${version}`, { context: tenantId }))!;
}

/** The tenant's session.idle_ttl (clamped, null when off), from the same per-replica cache. */
export async function tenantIdleTtl(
  ctx: TenantsDeps,
  tenantId: number,
  version: string,
): Promise<number | null> {
  return (await entryOf(ctx, tenantId, version)).idleTtl;
}

/** True when the tenant has no ranges, or the caller's address is inside one of them. */
export async function tenantNetworkAllows(
  ctx: TenantsDeps,
  tenantId: number,
  version: string,
  ip: string,
): Promise<boolean> {
  const { ranges } = await entryOf(ctx, tenantId, version);
  return ranges === null || ranges.contains(ip);
}

/** After a settings change has committed: every replica re-reads the tenant on its next request. */
export async function bumpTenantVersion(ctx: TenantsDeps, tenantId: number): Promise<void> {
  await replaceVersion(ctx.store, keys.tenantVersion(tenantId));
}
