/** SQL of social login: the caller's provider identities (connection_id null), tenant-scoped like every query. */
import { eq, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../../platform/db/client.js';
import { identityRows } from '../columns.js';
import { identitiesOfUser } from '../repository.js';
import { type ExternalIdentityRow, externalIdentities } from '../tables.js';

/** The user's social provider identities (connection_id null), oldest first. */
export const socialIdentitiesOfUser = (tx: Executor, tenantId: number, userId: number) =>
  identitiesOfUser(tx, tenantId, userId, { socialOnly: true });

/**
 * Every identity of the user (social and enterprise), locked for the transaction in one order: two concurrent
 * unlinks of the same user serialise here, and the second sees what the first left.
 */
export const lockIdentitiesOfUser = (tx: Executor, tenantId: number, userId: number) =>
  identitiesOfUser(tx, tenantId, userId, { lock: true });

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
