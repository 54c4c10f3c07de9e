/**
 * Store versions that key per-replica caches. Each is replaced by a new random value (not a counter, which a lost
 * or expired key could replay onto an entry cached under the old count) AFTER the change has committed: a reader
 * reads the version first (the guard's mget), then loads, then caches under the version it read, so a load that
 * saw the old row is cached under the old version and never matches again.
 */
import { randomUUID } from 'node:crypto';
import { keys } from './keys.js';
import type { KeyValueStore } from './types.js';

/** Longer than any cache entry lives (caches also bound their entries' age). */
export const VERSION_TTL_SECONDS = 30 * 86_400;

/** Replaces the version under `key` (the user's, the tenant's permission or settings version: see store/keys.ts). */
export async function replaceVersion(store: KeyValueStore, key: string): Promise<void> {
  await store.set(key, randomUUID(), VERSION_TTL_SECONDS);
}

/** After a change of the user (profile, email, password, activation, MFA, erasure) has committed. */
export async function bumpUserVersion(store: KeyValueStore, tenantId: number, userId: number): Promise<void> {
  await replaceVersion(store, keys.userVersion(tenantId, userId));
}
