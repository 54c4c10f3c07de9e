import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { ofTenant, one } from '../../platform/db/rows.js';
import { scimExternalIds } from './tables.js';

export async function externalIdOf(tx: Executor, tenantId: number, userId: number): Promise<string | null> {
  const row = await one(
    tx
      .select({ externalId: scimExternalIds.externalId })
      .from(scimExternalIds)
      .where(ofTenant(scimExternalIds, tenantId, eq(scimExternalIds.userId, userId))),
  );
  return row?.externalId ?? null;
}

export async function externalIdsOf(tx: Executor, tenantId: number, userIds: number[]) {
  const out = new Map<number, string>();
  if (userIds.length === 0) return out;
  const rows = await tx
    .select({ userId: scimExternalIds.userId, externalId: scimExternalIds.externalId })
    .from(scimExternalIds)
    .where(and(eq(scimExternalIds.tenantId, tenantId), inArray(scimExternalIds.userId, userIds)));
  for (const r of rows) out.set(r.userId, r.externalId);
  return out;
}

export async function userIdByExternalId(
  tx: Executor,
  tenantId: number,
  externalId: string,
): Promise<number | null> {
  const row = await one(
    tx
      .select({ userId: scimExternalIds.userId })
      .from(scimExternalIds)
      .where(ofTenant(scimExternalIds, tenantId, eq(scimExternalIds.externalId, externalId))),
  );
  return row?.userId ?? null;
}

/** Sets (or with null, removes) the user's externalId. */
export async function setExternalId(
  tx: Executor,
  tenantId: number,
  userId: number,
  externalId: string | null,
): Promise<void> {
  if (externalId === null) {
    await tx
      .delete(scimExternalIds)
      .where(and(eq(scimExternalIds.tenantId, tenantId), eq(scimExternalIds.userId, userId)));
    return;
  }
  await tx
    .insert(scimExternalIds)
    .values({ tenantId, userId, externalId })
    .onConflictDoUpdate({
      target: [scimExternalIds.tenantId, scimExternalIds.userId],
      set: { externalId, updatedAt: sql`now()` },
    });
}
