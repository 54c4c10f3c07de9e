/** SQL only for the OIDC client registry. tenant_id is in every WHERE (tenantRows), RLS the second wall. */
import { and, asc, count, eq, gt, or, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { ofTenant } from '../../platform/db/rows.js';
import { tenantRows } from '../../platform/db/tenant-rows.js';
import { oidcClients } from './tables.js';

/** A client as the API reads it: never its secret hashes (only a rotation and, later, the token endpoint do). */
const clientColumns = {
  id: oidcClients.id,
  tenantId: oidcClients.tenantId,
  clientId: oidcClients.clientId,
  name: oidcClients.name,
  type: oidcClients.type,
  redirectUris: oidcClients.redirectUris,
  postLogoutRedirectUris: oidcClients.postLogoutRedirectUris,
  backchannelLogoutUri: oidcClients.backchannelLogoutUri,
  subjectType: oidcClients.subjectType,
  grantTypes: oidcClients.grantTypes,
  tokenEndpointAuthMethod: oidcClients.tokenEndpointAuthMethod,
  jwks: oidcClients.jwks,
  jwksUri: oidcClients.jwksUri,
  allowedScopes: oidcClients.allowedScopes,
  firstParty: oidcClients.firstParty,
  permissions: oidcClients.permissions,
  idTokenSignedResponseAlg: oidcClients.idTokenSignedResponseAlg,
  previousSecretExpiresAt: oidcClients.previousSecretExpiresAt,
  enabled: oidcClients.enabled,
  createdByUserId: oidcClients.createdByUserId,
  createdAt: oidcClients.createdAt,
  updatedAt: oidcClients.updatedAt,
};
const clientRows = tenantRows(oidcClients, clientColumns);
export type ClientRead = NonNullable<Awaited<ReturnType<typeof clientRows.findById>>>;

const clientIs = (id: string) => eq(oidcClients.id, id);

export type NewClient = Omit<typeof oidcClients.$inferInsert, 'tenantId'>;
export const insertClient = (tx: Executor, tenantId: number, values: NewClient) =>
  clientRows.insert(tx, tenantId, values);
export const findClient = clientRows.findById;
export const lockClient = clientRows.lockById;

/** A page of the registry, oldest first; the cursor is the last row's (created_at, id). */
export function clientPage(
  tx: Executor,
  tenantId: number,
  opts: { after?: { createdAt: Date; id: string } | null; limit: number },
) {
  const past = opts.after
    ? or(
        gt(oidcClients.createdAt, opts.after.createdAt),
        and(eq(oidcClients.createdAt, opts.after.createdAt), gt(oidcClients.id, opts.after.id)),
      )
    : undefined;
  return clientRows.list(tx, tenantId, {
    where: [past],
    orderBy: [asc(oidcClients.createdAt), asc(oidcClients.id)],
    limit: opts.limit,
  });
}

export type ClientChange = Partial<
  Pick<
    typeof oidcClients.$inferInsert,
    | 'name'
    | 'redirectUris'
    | 'postLogoutRedirectUris'
    | 'backchannelLogoutUri'
    | 'subjectType'
    | 'grantTypes'
    | 'tokenEndpointAuthMethod'
    | 'jwks'
    | 'jwksUri'
    | 'allowedScopes'
    | 'firstParty'
    | 'permissions'
    | 'idTokenSignedResponseAlg'
    | 'enabled'
    | 'updatedAt'
  >
>;
export const updateClient = (tx: Executor, tenantId: number, id: string, set: ClientChange) =>
  clientRows.updateOne(tx, tenantId, set, clientIs(id));
export const deleteClient = (tx: Executor, tenantId: number, id: string) =>
  clientRows.delete(tx, tenantId, clientIs(id));

/**
 * A rotation in one statement: the new hash authenticates from now on; the current one becomes the previous
 * until `previousUntil`, or is dropped at once when it is null (SET reads the row as it was). Only a client that
 * has a secret rotates. The client, or null when the tenant has no such client with a secret.
 */
export async function rotateClientSecret(
  tx: Executor,
  tenantId: number,
  id: string,
  hash: string,
  previousUntil: Date | null,
  now: Date,
) {
  const [row] = await tx
    .update(oidcClients)
    .set({
      secretHash: hash,
      previousSecretHash: previousUntil ? sql`${oidcClients.secretHash}` : null,
      previousSecretExpiresAt: previousUntil,
      updatedAt: now,
    })
    .where(ofTenant(oidcClients, tenantId, clientIs(id), sql`${oidcClients.secretHash} is not null`))
    .returning(clientColumns);
  return row ?? null;
}

/** The secret hashes of a client (a rotation's test, and the token endpoint of the next step). */
export const clientSecretHashes = tenantRows(oidcClients, {
  id: oidcClients.id,
  secretHash: oidcClients.secretHash,
  previousSecretHash: oidcClients.previousSecretHash,
  previousSecretExpiresAt: oidcClients.previousSecretExpiresAt,
}).findById;

/** Serialises the creations of one tenant's clients (until the transaction ends), so the limit holds under races. */
export async function lockTenantClients(tx: Executor, tenantId: number): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext('oidc_clients'), ${tenantId})`);
}

export async function countClients(tx: Executor, tenantId: number): Promise<number> {
  const [r] = await tx.select({ n: count() }).from(oidcClients).where(clientRows.where(tenantId));
  return Number(r?.n ?? 0);
}

/**
 * A client by its public client_id, as the provider needs it at each protocol step (its metadata and, to check a
 * secret, its hashes). Null when the tenant has no such client: another tenant's client_id finds nothing here.
 */
const providerRows = tenantRows(oidcClients, {
  ...clientColumns,
  secretHash: oidcClients.secretHash,
  previousSecretHash: oidcClients.previousSecretHash,
});
export const clientByClientId = (tx: Executor, tenantId: number, clientId: string) =>
  providerRows.find(tx, tenantId, eq(oidcClients.clientId, clientId));
export type ProviderClientRow = NonNullable<Awaited<ReturnType<typeof clientByClientId>>>;

/**
 * What a machine token's check needs of its client (machine-tokens.ts), by its public client_id in the tenant the
 * token names; null when the tenant has no such client.
 */
const machineRows = tenantRows(oidcClients, {
  id: oidcClients.id,
  tenantId: oidcClients.tenantId,
  clientId: oidcClients.clientId,
  grantTypes: oidcClients.grantTypes,
  permissions: oidcClients.permissions,
  enabled: oidcClients.enabled,
});
export const machineClient = (tx: Executor, tenantId: number, clientId: string) =>
  machineRows.find(tx, tenantId, eq(oidcClients.clientId, clientId));
