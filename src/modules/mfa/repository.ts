/** SQL only: every function takes (tx, tenantId, ...) and filters on tenant_id (RLS is the backstop). */
import { asc, eq, isNull, lt, or, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { preparedSql, reusableQuery } from '../../platform/db/prepared.js';
import { tenantRows } from '../../platform/db/tenant-rows.js';
import { userRoleMfaChangesAtSql, userRoleRequiresMfaSql } from '../rbac/index.js';
import { tenantRequiresMfaSql } from '../tenants/index.js';
import {
  mfaTotp,
  recoveryCodes,
  type TotpRow,
  type WebauthnCredentialRow,
  webauthnCredentials,
} from './tables.js';

/**
 * The TOTP row with its sealed secret: every caller but the status reads verifies a code with it (issue 23 notes:
 * the status reads could do without).
 */
const totpColumns = {
  tenantId: mfaTotp.tenantId,
  userId: mfaTotp.userId,
  secretEncrypted: mfaTotp.secretEncrypted,
  enabled: mfaTotp.enabled,
  enabledAt: mfaTotp.enabledAt,
  lastUsedStep: mfaTotp.lastUsedStep,
  lastUsedAt: mfaTotp.lastUsedAt,
  createdAt: mfaTotp.createdAt,
  updatedAt: mfaTotp.updatedAt,
};

const credentialColumns = {
  id: webauthnCredentials.id,
  tenantId: webauthnCredentials.tenantId,
  userId: webauthnCredentials.userId,
  credentialId: webauthnCredentials.credentialId,
  publicKey: webauthnCredentials.publicKey,
  counter: webauthnCredentials.counter,
  transports: webauthnCredentials.transports,
  deviceType: webauthnCredentials.deviceType,
  backedUp: webauthnCredentials.backedUp,
  name: webauthnCredentials.name,
  createdAt: webauthnCredentials.createdAt,
  lastUsedAt: webauthnCredentials.lastUsedAt,
};

const totpRows = tenantRows(mfaTotp, totpColumns);
const credentialRows = tenantRows(webauthnCredentials, credentialColumns);
/** A recovery code as its one reader verifies it: by hash. */
const recoveryRows = tenantRows(recoveryCodes, {
  id: recoveryCodes.id,
  codeHash: recoveryCodes.codeHash,
  createdAt: recoveryCodes.createdAt,
  usedAt: recoveryCodes.usedAt,
});

export async function findTotp(tx: Executor, tenantId: number, userId: number): Promise<TotpRow | null> {
  return totpRows.find(tx, tenantId, eq(mfaTotp.userId, userId));
}

/** Creates the pending secret, or keeps the existing one (setup is idempotent until enabled). */
export async function insertPendingTotp(
  tx: Executor,
  tenantId: number,
  userId: number,
  secretEncrypted: string,
): Promise<TotpRow> {
  await tx.insert(mfaTotp).values({ tenantId, userId, secretEncrypted }).onConflictDoNothing();
  return (await findTotp(tx, tenantId, userId))!;
}

/**
 * Records an accepted time step, only if it is newer than the last one: the row lock makes racing requests
 * (on any replica) agree on a single winner. Returns false when the step was already used.
 */
export async function claimTotpStep(
  tx: Executor,
  tenantId: number,
  userId: number,
  step: number,
  enable: boolean,
): Promise<boolean> {
  const now = new Date();
  const claimed = await totpRows.update(
    tx,
    tenantId,
    {
      lastUsedStep: step,
      lastUsedAt: now,
      updatedAt: now,
      ...(enable ? { enabled: true, enabledAt: now } : {}),
    },
    eq(mfaTotp.userId, userId),
    or(isNull(mfaTotp.lastUsedStep), lt(mfaTotp.lastUsedStep, step)),
  );
  return claimed > 0;
}

/**
 * Confirms a pending secret without recording its time step: the confirming code stays usable once more
 * (API.md §8: clients call /mfa/verify with it right after). False when it was already enabled.
 */
export async function enableTotp(tx: Executor, tenantId: number, userId: number): Promise<boolean> {
  const now = new Date();
  const enabled = await totpRows.update(
    tx,
    tenantId,
    { enabled: true, enabledAt: now, lastUsedAt: now, updatedAt: now },
    eq(mfaTotp.userId, userId),
    eq(mfaTotp.enabled, false),
  );
  return enabled > 0;
}

/** Serialises factor removals of one user until the transaction ends (see step-up.ts assertFactorLeft). */
export async function lockUserFactors(tx: Executor, tenantId: number, userId: number): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`massacorp.mfa:${tenantId}`}), ${userId})`);
}

export async function deleteTotp(tx: Executor, tenantId: number, userId: number): Promise<void> {
  await totpRows.delete(tx, tenantId, eq(mfaTotp.userId, userId));
}

export async function replaceRecoveryCodes(
  tx: Executor,
  tenantId: number,
  userId: number,
  hashes: string[],
): Promise<void> {
  await deleteRecoveryCodes(tx, tenantId, userId);
  if (hashes.length)
    await tx.insert(recoveryCodes).values(hashes.map((codeHash) => ({ tenantId, userId, codeHash })));
}

export async function deleteRecoveryCodes(tx: Executor, tenantId: number, userId: number): Promise<void> {
  await recoveryRows.delete(tx, tenantId, eq(recoveryCodes.userId, userId));
}

export async function listRecoveryCodes(tx: Executor, tenantId: number, userId: number) {
  return recoveryRows.list(tx, tenantId, {
    where: [eq(recoveryCodes.userId, userId)],
    orderBy: [asc(recoveryCodes.createdAt), asc(recoveryCodes.id)],
  });
}

/** Marks a code used only if it still was unused: of two racing uses, exactly one wins. */
export async function consumeRecoveryCode(tx: Executor, tenantId: number, id: string): Promise<boolean> {
  const used = await recoveryRows.update(
    tx,
    tenantId,
    { usedAt: new Date() },
    eq(recoveryCodes.id, id),
    isNull(recoveryCodes.usedAt),
  );
  return used > 0;
}

export async function countUnusedRecoveryCodes(
  tx: Executor,
  tenantId: number,
  userId: number,
): Promise<number> {
  const rows = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(recoveryCodes)
    .where(recoveryRows.where(tenantId, eq(recoveryCodes.userId, userId), isNull(recoveryCodes.usedAt)));
  return Number(rows[0]?.n ?? 0);
}

const ofUser = (userId: number) => eq(webauthnCredentials.userId, userId);

export async function listCredentials(
  tx: Executor,
  tenantId: number,
  userId: number,
): Promise<WebauthnCredentialRow[]> {
  return credentialRows.list(tx, tenantId, {
    where: [ofUser(userId)],
    orderBy: [asc(webauthnCredentials.createdAt)],
  });
}

export async function countCredentials(tx: Executor, tenantId: number, userId: number): Promise<number> {
  const rows = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(webauthnCredentials)
    .where(credentialRows.where(tenantId, ofUser(userId)));
  return Number(rows[0]?.n ?? 0);
}

export async function findCredentialByCredentialId(
  tx: Executor,
  tenantId: number,
  userId: number,
  credentialId: string,
) {
  return credentialRows.find(
    tx,
    tenantId,
    ofUser(userId),
    eq(webauthnCredentials.credentialId, credentialId),
  );
}

export async function insertCredential(
  tx: Executor,
  tenantId: number,
  v: {
    userId: number;
    credentialId: string;
    publicKey: string;
    counter: number;
    transports: string[];
    deviceType: string;
    backedUp: boolean;
    name: string;
  },
): Promise<WebauthnCredentialRow> {
  return credentialRows.insert(tx, tenantId, v);
}

/** Stores the new signature counter; refuses to move it backwards (a cloned authenticator). */
export async function bumpCredentialCounter(
  tx: Executor,
  tenantId: number,
  id: string,
  counter: number,
): Promise<boolean> {
  const bumped = await credentialRows.update(
    tx,
    tenantId,
    { counter, lastUsedAt: new Date() },
    eq(webauthnCredentials.id, id),
    // Authenticators without a counter always report 0; others must strictly increase.
    or(eq(webauthnCredentials.counter, 0), lt(webauthnCredentials.counter, counter)),
  );
  return bumped > 0;
}

export async function deleteCredential(
  tx: Executor,
  tenantId: number,
  userId: number,
  id: string,
): Promise<WebauthnCredentialRow | null> {
  const [deleted] = await credentialRows.deleteReturning(
    tx,
    tenantId,
    ofUser(userId),
    eq(webauthnCredentials.id, id),
  );
  return deleted ?? null;
}

export async function deleteCredentials(tx: Executor, tenantId: number, userId: number): Promise<void> {
  await credentialRows.delete(tx, tenantId, ofUser(userId));
}

/**
 * Everything MFA status needs in one round trip (it runs on every login, refresh and /auth/me): the user's
 * factors, the tenant setting, and whether an active (unexpired) role of the user requires MFA. The last two
 * are questions the tenants and RBAC modules phrase (their tables stay theirs); this query only asks them.
 */
// On every login, refresh, cold /auth/me and GET /users/{id}: the SQL is built once (platform/db/prepared.ts).
const mfaFlagsQuery = reusableQuery<
  { tenantId: number; userId: number },
  {
    rows: {
      totp: boolean;
      keys: boolean;
      tenant_requires: boolean | null;
      role_requires: boolean;
      changes_at: string | Date | null;
    }[];
  }
>((tx) => {
  const tenantId = sql.placeholder('tenantId');
  const userId = sql.placeholder('userId');
  return preparedSql(
    tx,
    sql`
    select
      coalesce((select enabled from mfa_totp where tenant_id = ${tenantId} and user_id = ${userId}), false) as totp,
      exists (select 1 from webauthn_credentials where tenant_id = ${tenantId} and user_id = ${userId}) as keys,
      ${tenantRequiresMfaSql(tenantId)} as tenant_requires,
      ${userRoleRequiresMfaSql(tenantId, userId)} as role_requires,
      ${userRoleMfaChangesAtSql(tenantId, userId)} as changes_at`,
  );
});

/**
 * mfaStatus's `enabled` (a confirmed TOTP or a registered security key) as a sub-select over an outer query's
 * columns (ctx.mfa.enabledSql): each side is a primary-key or (tenant_id, user_id) index probe.
 */
export function mfaEnabledSql(tenantIdColumn: SQL, userIdColumn: SQL): SQL<boolean> {
  return sql<boolean>`(coalesce((select t.enabled from ${mfaTotp} t
      where t.tenant_id = ${tenantIdColumn} and t.user_id = ${userIdColumn}), false)
    or exists (select 1 from ${webauthnCredentials} w
      where w.tenant_id = ${tenantIdColumn} and w.user_id = ${userIdColumn}))`;
}

export async function mfaFlags(tx: Executor, tenantId: number, userId: number) {
  const r = await mfaFlagsQuery(tx, { tenantId, userId });
  const row = r.rows[0];
  return {
    totpEnabled: row?.totp === true,
    hasKeys: row?.keys === true,
    tenantRequires: row?.tenant_requires === true,
    roleRequires: row?.role_requires === true,
    /** When roleRequires may change with no write (an assignment to an MFA role expires), or null. */
    changesAt: row?.changes_at ? new Date(row.changes_at) : null,
  };
}
