/** SQL only for API keys; tenant_id in every WHERE except the by-hash lookup (see findByHash). */
import { and, count, desc, eq, gt, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { one } from '../../platform/db/rows.js';
import { tenantRows } from '../../platform/db/tenant-rows.js';
import { type ApiKeyRow, apiKeys } from './tables.js';

/**
 * What every read of a key returns, named. Never `key_hash`: the authenticator looks keys up BY their hash and
 * nothing reads it back (it used to travel in every read and every list).
 */
const apiKeyColumns = {
  id: apiKeys.id,
  tenantId: apiKeys.tenantId,
  name: apiKeys.name,
  keyPrefix: apiKeys.keyPrefix,
  scopes: apiKeys.scopes,
  owner: apiKeys.owner,
  userId: apiKeys.userId,
  roleId: apiKeys.roleId,
  createdByUserId: apiKeys.createdByUserId,
  expiresAt: apiKeys.expiresAt,
  lastUsedAt: apiKeys.lastUsedAt,
  revokedAt: apiKeys.revokedAt,
  revokedReason: apiKeys.revokedReason,
  createdAt: apiKeys.createdAt,
  updatedAt: apiKeys.updatedAt,
};
const keyRows = tenantRows(apiKeys, apiKeyColumns);

export interface NewApiKey {
  name: string;
  keyHash: string;
  keyPrefix: string;
  scopes: string[];
  owner: 'user' | 'tenant';
  userId: number | null;
  roleId: string | null;
  createdByUserId: number;
  expiresAt: Date | null;
}

export async function insertApiKey(tx: Executor, tenantId: number, k: NewApiKey): Promise<ApiKeyRow> {
  return keyRows.insert(tx, tenantId, k);
}

/**
 * The authenticator's lookup. The raw key does not reveal its tenant, so this one query runs in a system
 * transaction (RLS bypassed) on the unique key_hash index; everything after it is tenant-scoped.
 */
export async function findByHash(tx: Executor, keyHash: string): Promise<ApiKeyRow | null> {
  return one(tx.select(apiKeyColumns).from(apiKeys).where(eq(apiKeys.keyHash, keyHash)));
}

export const findApiKey = keyRows.findById;

function activeCondition(now: Date) {
  return and(isNull(apiKeys.revokedAt), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, now)));
}

export async function listApiKeys(
  tx: Executor,
  tenantId: number,
  opts: { includeRevoked: boolean; skip: number; limit: number },
): Promise<{ rows: ApiKeyRow[]; total: number; activeCount: number }> {
  const now = new Date();
  const unrevoked = opts.includeRevoked ? undefined : isNull(apiKeys.revokedAt);
  const rows = await keyRows.list(tx, tenantId, {
    where: [unrevoked],
    orderBy: [desc(apiKeys.createdAt), desc(apiKeys.id)],
    offset: opts.skip,
    limit: opts.limit,
  });
  const [totals] = await tx
    .select({
      total: count(),
      active: sql<string>`count(*) filter (where ${activeCondition(now)})`,
    })
    .from(apiKeys)
    .where(keyRows.where(tenantId, unrevoked));
  return { rows, total: Number(totals?.total ?? 0), activeCount: Number(totals?.active ?? 0) };
}

/** What revoking sets: the key stops working now, for this reason. */
function revocation(reason: string) {
  const now = new Date();
  return { revokedAt: now, revokedReason: reason, updatedAt: now };
}

/** Revokes one key if it is not revoked yet; null when it was already revoked (or does not exist). */
export async function revokeApiKey(
  tx: Executor,
  tenantId: number,
  id: number,
  reason: string,
): Promise<ApiKeyRow | null> {
  return keyRows.updateOne(tx, tenantId, revocation(reason), eq(apiKeys.id, id), isNull(apiKeys.revokedAt));
}

/** Revokes every live key a user owns (GDPR erasure); returns their ids for the revocation cache. */
export async function revokeUserKeys(
  tx: Executor,
  tenantId: number,
  userId: number,
  reason: string,
): Promise<number[]> {
  const rows = await tx
    .update(apiKeys)
    .set(revocation(reason))
    .where(keyRows.where(tenantId, eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return rows.map((r) => r.id);
}

export async function listUserKeys(tx: Executor, tenantId: number, userId: number): Promise<ApiKeyRow[]> {
  return keyRows.list(tx, tenantId, {
    where: [or(eq(apiKeys.userId, userId), eq(apiKeys.createdByUserId, userId))],
    orderBy: [desc(apiKeys.createdAt)],
    limit: 1000,
  });
}

/**
 * The tenant's keys (revoked ones too) by id or by exact name, id and name only: how the audit log names a key
 * actor and finds the records of a key named so. At most 500 rows.
 */
export async function keyNames(
  tx: Executor,
  tenantId: number,
  by: { ids: number[] } | { name: string },
): Promise<{ id: number; name: string }[]> {
  if ('ids' in by && by.ids.length === 0) return [];
  return tx
    .select({ id: apiKeys.id, name: apiKeys.name })
    .from(apiKeys)
    .where(keyRows.where(tenantId, 'ids' in by ? inArray(apiKeys.id, by.ids) : eq(apiKeys.name, by.name)))
    .orderBy(apiKeys.id)
    .limit(500);
}

export async function touchLastUsed(tx: Executor, tenantId: number, id: number, at: Date): Promise<void> {
  await tx
    .update(apiKeys)
    .set({ lastUsedAt: at })
    .where(keyRows.where(tenantId, eq(apiKeys.id, id)));
}

/**
 * `massacorp keys audit`: every live (not revoked, not expired) tenant-owned key, across tenants or of one. An
 * operator's read over all tenants, so it runs in a system transaction like findByHash; it changes nothing.
 */
export async function listLiveTenantKeys(tx: Executor, tenantId?: number): Promise<ApiKeyRow[]> {
  const now = new Date();
  return tx
    .select(apiKeyColumns)
    .from(apiKeys)
    .where(
      and(
        eq(apiKeys.owner, 'tenant'),
        activeCondition(now),
        tenantId !== undefined ? eq(apiKeys.tenantId, tenantId) : undefined,
      ),
    )
    .orderBy(apiKeys.tenantId, apiKeys.id);
}
