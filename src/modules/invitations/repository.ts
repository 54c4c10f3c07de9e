/** Invitations: SQL only, the tenant in every WHERE. */
import { and, count, desc, eq, gt, isNotNull, isNull, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { tenantRows } from '../../platform/db/tenant-rows.js';
import { type InvitationRow, invitations } from './tables.js';

export type InvitationStatus = 'pending' | 'accepted' | 'revoked' | 'expired';

/** An invitation as it is read back: never its token hash (it is looked up BY its hash). */
const invitationColumns = {
  id: invitations.id,
  tenantId: invitations.tenantId,
  seq: invitations.seq,
  email: invitations.email,
  roleIds: invitations.roleIds,
  invitedBy: invitations.invitedBy,
  expiresAt: invitations.expiresAt,
  acceptedAt: invitations.acceptedAt,
  acceptedUserId: invitations.acceptedUserId,
  revokedAt: invitations.revokedAt,
  createdAt: invitations.createdAt,
  updatedAt: invitations.updatedAt,
};
export type Invitation = Omit<InvitationRow, 'tokenHash'>;
const invitationRows = tenantRows(invitations, invitationColumns);

/** Neither accepted nor revoked (pending, or expired): at most one per address (invitations_open_email_idx). */
const open = () => and(isNull(invitations.acceptedAt), isNull(invitations.revokedAt));

/** The SQL condition of a derived status. */
function statusCondition(status: InvitationStatus): SQL | undefined {
  switch (status) {
    case 'accepted':
      return isNotNull(invitations.acceptedAt);
    case 'revoked':
      return isNotNull(invitations.revokedAt);
    case 'expired':
      return and(open(), lte(invitations.expiresAt, sql`now()`));
    case 'pending':
      return and(open(), gt(invitations.expiresAt, sql`now()`));
  }
}

/** The status of a row read back, by the same rules as statusCondition. */
export function statusOf(r: Pick<Invitation, 'acceptedAt' | 'revokedAt' | 'expiresAt'>): InvitationStatus {
  if (r.acceptedAt) return 'accepted';
  if (r.revokedAt) return 'revoked';
  return r.expiresAt.getTime() <= Date.now() ? 'expired' : 'pending';
}

export async function insertInvitation(
  tx: Executor,
  tenantId: number,
  v: { email: string; roleIds: string[]; tokenHash: string; invitedBy: number | null; expiresAt: Date },
): Promise<Invitation> {
  return invitationRows.insert(tx, tenantId, v);
}

export const findInvitation = invitationRows.findById;
export const lockInvitation = invitationRows.lockById;

export async function findByTokenHash(
  tx: Executor,
  tenantId: number,
  tokenHash: string,
): Promise<Invitation | null> {
  return invitationRows.find(tx, tenantId, eq(invitations.tokenHash, tokenHash));
}

/** The open invitation of an address (pending or expired), locked: a new one replaces it, SSO accepts it. */
export async function lockOpenByEmail(
  tx: Executor,
  tenantId: number,
  email: string,
): Promise<Invitation | null> {
  return invitationRows.lock(tx, tenantId, eq(invitations.email, email), open());
}

export async function revoke(tx: Executor, tenantId: number, id: string): Promise<Invitation | null> {
  return invitationRows.updateOne(
    tx,
    tenantId,
    { revokedAt: sql`now()`, updatedAt: sql`now()` },
    eq(invitations.id, id),
    open(),
  );
}

/** A new token and expiry for an open invitation (the old token stops working at once). */
export async function reissue(
  tx: Executor,
  tenantId: number,
  id: string,
  v: { tokenHash: string; expiresAt: Date },
): Promise<Invitation | null> {
  return invitationRows.updateOne(
    tx,
    tenantId,
    { ...v, updatedAt: sql`now()` },
    eq(invitations.id, id),
    open(),
  );
}

/**
 * Marks the invitation accepted only if it is still pending (open and unexpired): of two concurrent accepts of
 * one token, the row lock lets exactly one update it. Matched by token hash (the link) or by id (SSO).
 */
export async function claim(
  tx: Executor,
  tenantId: number,
  match: { tokenHash: string } | { id: string },
): Promise<Invitation | null> {
  return invitationRows.updateOne(
    tx,
    tenantId,
    { acceptedAt: sql`now()`, updatedAt: sql`now()` },
    'tokenHash' in match ? eq(invitations.tokenHash, match.tokenHash) : eq(invitations.id, match.id),
    open(),
    gt(invitations.expiresAt, sql`now()`),
  );
}

export async function setAcceptedUser(tx: Executor, tenantId: number, id: string, userId: number) {
  await invitationRows.update(tx, tenantId, { acceptedUserId: userId }, eq(invitations.id, id));
}

/** Newest first; `beforeSeq` is the keyset cursor (the last seq of the previous page). */
export async function listInvitations(
  tx: Executor,
  tenantId: number,
  f: { status?: InvitationStatus; beforeSeq?: number; limit: number },
): Promise<{ rows: Invitation[]; more: boolean; total: number }> {
  const filter = f.status ? statusCondition(f.status) : undefined;
  const rows = await invitationRows.list(tx, tenantId, {
    where: [filter, f.beforeSeq !== undefined ? lt(invitations.seq, f.beforeSeq) : undefined],
    orderBy: [desc(invitations.seq)],
    limit: f.limit + 1,
  });
  const totals = await tx
    .select({ n: count() })
    .from(invitations)
    .where(invitationRows.where(tenantId, filter));
  const more = rows.length > f.limit;
  return { rows: more ? rows.slice(0, f.limit) : rows, more, total: Number(totals[0]?.n ?? 0) };
}

/** GDPR erasure: the invitations of the person (the one they accepted, any to their address); how many went. */
/** A person's invitations: the ones they accepted, and any other made out to their address. */
const ofPerson = (tenantId: number, userId: number, email: string) =>
  invitationRows.where(tenantId, or(eq(invitations.acceptedUserId, userId), eq(invitations.email, email)));

/** For the person's GDPR export (newest first). */
export async function invitationsOfPerson(
  tx: Executor,
  tenantId: number,
  userId: number,
  email: string,
): Promise<Invitation[]> {
  return tx
    .select(invitationColumns)
    .from(invitations)
    .where(ofPerson(tenantId, userId, email))
    .orderBy(desc(invitations.createdAt));
}

export async function deleteForPerson(
  tx: Executor,
  tenantId: number,
  userId: number,
  email: string,
): Promise<number> {
  const gone = await tx
    .delete(invitations)
    .where(ofPerson(tenantId, userId, email))
    .returning({ id: invitations.id });
  return gone.length;
}
