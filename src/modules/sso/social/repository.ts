/** SQL of social login: the caller's provider identities (connection_id null), tenant-scoped like every query. */
import { asc, eq, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../../platform/db/client.js';
import { identityRows } from '../columns.js';
import { type ExternalIdentityRow, externalIdentities } from '../tables.js';

export async function socialIdentitiesOfUser(
  tx: Executor,
  tenantId: number,
  userId: number,
): Promise<ExternalIdentityRow[]> {
  return identityRows.list(tx, tenantId, {
    where: [eq(externalIdentities.userId, userId), isNull(externalIdentities.connectionId)],
    orderBy: [asc(externalIdentities.createdAt), asc(externalIdentities.id)],
  });
}

/**
 * Every identity of the user (social and enterprise), locked for the transaction in one order: two concurrent
 * unlinks of the same user serialise here, and the second sees what the first left.
 */
export async function lockIdentitiesOfUser(
  tx: Executor,
  tenantId: number,
  userId: number,
): Promise<ExternalIdentityRow[]> {
  return identityRows.list(tx, tenantId, {
    where: [eq(externalIdentities.userId, userId)],
    orderBy: [asc(externalIdentities.id)],
    lock: true,
  });
}

/** Locks the user's row (serialises unlinks of a user who has no identity row left to lock on). */
export async function lockUserRow(tx: Executor, tenantId: number, userId: number): Promise<void> {
  await tx.execute(sql`select id from users where tenant_id = ${tenantId} and id = ${userId} for update`);
}

export async function deleteProviderIdentities(
  tx: Executor,
  tenantId: number,
  userId: number,
  provider: string,
): Promise<ExternalIdentityRow[]> {
  return identityRows.deleteReturning(
    tx,
    tenantId,
    eq(externalIdentities.userId, userId),
    isNull(externalIdentities.connectionId),
    eq(externalIdentities.provider, provider),
  );
}
