/** SQL only. Tenant functions take (tx, tenantId) and put tenant_id in every WHERE; system ones say so. */
import { and, asc, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { firstOrNull, ofTenant, one } from '../../platform/db/rows.js';
import { connectionColumns, connectionRows, domainRows, identityColumns, identityRows } from './columns.js';
import {
  type ConnectionRow,
  type DomainRow,
  type ExternalIdentityRow,
  externalIdentities,
  type NewConnection,
  ssoConnections,
  ssoDomains,
} from './tables.js';

export const findConnection = connectionRows.findById;

/** Locks the row for the transaction (concurrent PATCH/DELETE/domain changes serialise). */
export const lockConnection = connectionRows.lockById;

export async function listConnections(tx: Executor, tenantId: number): Promise<ConnectionRow[]> {
  return connectionRows.list(tx, tenantId, {
    orderBy: [asc(ssoConnections.createdAt), asc(ssoConnections.id)],
  });
}

export async function connectionNameTaken(tx: Executor, tenantId: number, name: string, exceptId?: string) {
  const id = await connectionRows.pick(tx, tenantId, ssoConnections.id, eq(ssoConnections.name, name));
  return id !== null && id !== exceptId;
}

export async function insertConnection(tx: Executor, row: NewConnection): Promise<ConnectionRow> {
  const [created] = await tx.insert(ssoConnections).values(row).returning(connectionColumns);
  return created!;
}

export async function updateConnection(
  tx: Executor,
  tenantId: number,
  id: string,
  patch: Partial<NewConnection>,
): Promise<ConnectionRow> {
  const row = await connectionRows.updateOne(
    tx,
    tenantId,
    { ...patch, updatedAt: new Date() },
    eq(ssoConnections.id, id),
  );
  return row!;
}

export async function deleteConnection(tx: Executor, tenantId: number, id: string): Promise<void> {
  await connectionRows.delete(tx, tenantId, eq(ssoConnections.id, id));
}

// ---- domains ----

export async function domainsOf(
  tx: Executor,
  tenantId: number,
  connectionIds: string[],
): Promise<DomainRow[]> {
  if (connectionIds.length === 0) return [];
  return domainRows.list(tx, tenantId, {
    where: [inArray(ssoDomains.connectionId, connectionIds)],
    orderBy: [asc(ssoDomains.domain)],
  });
}

export async function findTenantDomain(
  tx: Executor,
  tenantId: number,
  domain: string,
): Promise<DomainRow | null> {
  return domainRows.find(tx, tenantId, eq(ssoDomains.domain, domain));
}

export async function insertDomain(
  tx: Executor,
  tenantId: number,
  connectionId: string,
  domain: string,
): Promise<DomainRow> {
  return domainRows.insert(tx, tenantId, { connectionId, domain });
}

export async function deleteDomain(tx: Executor, tenantId: number, connectionId: string, domain: string) {
  const deleted = await domainRows.delete(
    tx,
    tenantId,
    eq(ssoDomains.connectionId, connectionId),
    eq(ssoDomains.domain, domain),
  );
  return deleted > 0;
}

export async function markDomainVerified(
  tx: Executor,
  tenantId: number,
  id: string,
  by: string,
): Promise<DomainRow | null> {
  return domainRows.updateOne(
    tx,
    tenantId,
    { verifiedAt: new Date(), verifiedBy: by },
    eq(ssoDomains.id, id),
  );
}

/**
 * SYSTEM (RLS bypassed, withSystem): the tenant and connection a verified domain routes to, for discovery
 * before any tenant is known. Only enabled connections.
 */
export async function verifiedDomainRoute(
  tx: Executor,
  domain: string,
): Promise<{ tenantId: number; connectionId: string; type: ConnectionRow['type'] } | null> {
  return one(
    tx
      .select({
        tenantId: ssoDomains.tenantId,
        connectionId: ssoDomains.connectionId,
        type: ssoConnections.type,
      })
      .from(ssoDomains)
      .innerJoin(ssoConnections, eq(ssoConnections.id, ssoDomains.connectionId))
      .where(
        and(
          eq(ssoDomains.domain, domain),
          isNotNull(ssoDomains.verifiedAt),
          eq(ssoConnections.enabled, true),
        ),
      ),
  );
}

/** SYSTEM: a connection by id whatever its tenant (platform operators). */
export async function findConnectionAnyTenant(tx: Executor, id: string): Promise<ConnectionRow | null> {
  return one(tx.select(connectionColumns).from(ssoConnections).where(eq(ssoConnections.id, id)));
}

/** A verified domain of the tenant on an enabled connection that requires SSO (the password refusal). */
export async function requiredSsoForDomain(
  tx: Executor,
  tenantId: number,
  domain: string,
): Promise<{ connectionId: string } | null> {
  return one(
    tx
      .select({ connectionId: ssoDomains.connectionId })
      .from(ssoDomains)
      .innerJoin(ssoConnections, eq(ssoConnections.id, ssoDomains.connectionId))
      .where(
        ofTenant(
          ssoDomains,
          tenantId,
          eq(ssoDomains.domain, domain),
          isNotNull(ssoDomains.verifiedAt),
          eq(ssoConnections.enabled, true),
          eq(ssoConnections.ssoRequired, true),
        ),
      ),
  );
}

// ---- external identities ----

/**
 * The identity an external sign-in names: by (connection, issuer, subject) for an enterprise connection, by
 * (provider, issuer, subject) among the tenant's social identities otherwise (API.md §17: never by email alone).
 */
export async function findIdentity(
  tx: Executor,
  tenantId: number,
  from: { connectionId: string | null; provider: string },
  issuer: string,
  subject: string,
): Promise<ExternalIdentityRow | null> {
  return identityRows.find(
    tx,
    tenantId,
    from.connectionId
      ? eq(externalIdentities.connectionId, from.connectionId)
      : and(isNull(externalIdentities.connectionId), eq(externalIdentities.provider, from.provider)),
    eq(externalIdentities.issuer, issuer),
    eq(externalIdentities.subject, subject),
  );
}

/** Inserts the identity; null when a concurrent sign-in inserted the same key first. */
/**
 * Records that `userId` holds the identity `subject` of `issuer`, through `source` (a connection or a social
 * provider); null when the identity is already someone's (a concurrent link or first sign-in won).
 */
export async function insertIdentity(
  tx: Executor,
  tenantId: number,
  userId: number,
  source: { connectionId: string | null; provider: string },
  id: { issuer: string; subject: string },
  email: string | null,
): Promise<ExternalIdentityRow | null> {
  const row = {
    tenantId,
    userId,
    connectionId: source.connectionId,
    provider: source.provider,
    issuer: id.issuer,
    subject: id.subject,
    email,
  };
  return firstOrNull(
    await tx.insert(externalIdentities).values(row).onConflictDoNothing().returning(identityColumns),
  );
}

export async function touchIdentity(tx: Executor, tenantId: number, id: string, email: string | null) {
  await tx
    .update(externalIdentities)
    .set({ lastLoginAt: new Date(), ...(email ? { email } : {}) })
    .where(identityRows.where(tenantId, eq(externalIdentities.id, id)));
}

/**
 * The user's identities, oldest first; `socialOnly`: the social provider ones (connection_id null). `lock`: locked
 * for the transaction, in id order, so that two concurrent unlinks of the same user serialise.
 */
export function identitiesOfUser(
  tx: Executor,
  tenantId: number,
  userId: number,
  opts: { socialOnly?: boolean; lock?: boolean } = {},
): Promise<ExternalIdentityRow[]> {
  return identityRows.list(tx, tenantId, {
    where: [
      eq(externalIdentities.userId, userId),
      opts.socialOnly ? isNull(externalIdentities.connectionId) : undefined,
    ],
    orderBy: opts.lock
      ? [asc(externalIdentities.id)]
      : [asc(externalIdentities.createdAt), asc(externalIdentities.id)],
    lock: opts.lock,
  });
}

/** Deletes one identity of the user (the caller's own: DELETE /sso/identities/{id}); null when none. */
export async function deleteIdentity(
  tx: Executor,
  tenantId: number,
  userId: number,
  id: string,
): Promise<ExternalIdentityRow | null> {
  const rows = await identityRows.deleteReturning(
    tx,
    tenantId,
    eq(externalIdentities.userId, userId),
    eq(externalIdentities.id, id),
  );
  return firstOrNull(rows);
}

export async function deleteIdentitiesOfUser(
  tx: Executor,
  tenantId: number,
  userId: number,
): Promise<number> {
  const r = await tx.execute(
    sql`delete from external_identities where tenant_id = ${tenantId} and user_id = ${userId}`,
  );
  return Number((r as { rowCount?: number; affectedRows?: number }).rowCount ?? 0);
}
