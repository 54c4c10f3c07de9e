/**
 * The caller's identity as GET /auth/me answers it, cached per replica so a warm /auth/me costs no PostgreSQL round
 * trip. An entry is keyed by (tenant, user) and the principal's identityVersion: the user's, the tenant's permission
 * and the tenant's settings store versions, read in the guard's one mget BEFORE the entry is loaded. Every change of
 * the user, their MFA factors, roles or tenant settings replaces one of those versions after it commits, so a load
 * that saw the old rows is cached under the old version and no replica serves it again. Suspension, revocation and
 * deactivation are answered by the guard's store flags before this cache is consulted.
 */

import { LRUCache } from 'lru-cache';
import { userById } from '../users/index.js';
import type { AuthDeps } from './deps.js';

/** A safety net: even without a version change an entry is re-read after this long (e.g. a lost store key). */
const MAX_AGE_MS = 10 * 60_000;
const MAX_ENTRIES = 50_000;

export interface CachedIdentity {
  /** False for a deactivated or unknown user (also cached: the version changes when that changes). */
  active: boolean;
  userId: number;
  tenantId: number;
  email: string;
  mfaRequired: boolean;
  mfaEnabled: boolean;
}

type Caller = { tenantId: number; userId: number };

// One cache per app (keyed by its context), so two apps in one process behave as two replicas.
const caches = new WeakMap<AuthDeps, LRUCache<string, CachedIdentity, Caller>>();

function cacheOf(ctx: AuthDeps) {
  let cache = caches.get(ctx);
  if (!cache) {
    cache = new LRUCache<string, CachedIdentity, Caller>({
      max: MAX_ENTRIES,
      ttl: MAX_AGE_MS,
      ttlResolution: 0,
      // An eviction while loading must not fail the request waiting for it; concurrent cold reads share one load.
      ignoreFetchAbort: true,
      fetchMethod: async (_key, _stale, { context: { tenantId, userId }, options }) => {
        // The user and their MFA state leave together: one database round trip on PostgreSQL.
        const { identity, changesAt } = await ctx.database.readTenant(tenantId, async (tx) => {
          const [user, mfa] = await Promise.all([
            userById(tx, tenantId, userId),
            ctx.mfa.status(tx, tenantId, userId),
          ]);
          if (!user) {
            const none = {
              active: false,
              userId,
              tenantId,
              email: '',
              mfaRequired: false,
              mfaEnabled: false,
            };
            return { identity: none, changesAt: null };
          }
          return {
            identity: {
              active: user.isActive,
              userId: user.id,
              tenantId: user.tenantId,
              email: user.email,
              mfaRequired: mfa.required,
              mfaEnabled: mfa.enabled,
            },
            changesAt: mfa.changesAt ?? null,
          };
        });
        // A role assignment that expires changes mfa_required with no write: the entry ends with it.
        if (changesAt) options.ttl = Math.max(1, Math.min(MAX_AGE_MS, changesAt.getTime() - Date.now()));
        return identity;
      },
    });
    caches.set(ctx, cache);
  }
  return cache;
}

/** The caller's identity under the versions the guard read for this request (Principal.identityVersion). */
export async function identityOf(
  ctx: AuthDeps,
  caller: Caller & { identityVersion: string },
): Promise<CachedIdentity> {
  const key = `${caller.tenantId}:${caller.userId}@${caller.identityVersion}`;
  return (await cacheOf(ctx).fetch(key, {
    context: { tenantId: caller.tenantId, userId: caller.userId },
  }))!;
}
