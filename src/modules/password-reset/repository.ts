/** Password reset tokens: SQL only, the tenant in every WHERE. */
import { count, eq, gt, isNull, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { firstOrNull } from '../../platform/db/rows.js';
import { tenantRows } from '../../platform/db/tenant-rows.js';
import { type PasswordResetTokenRow, passwordResetTokens } from './tables.js';

/** A token as it is read back: never its hash (it is looked up BY its hash; nothing reads it back). */
const tokenColumns = {
  id: passwordResetTokens.id,
  tenantId: passwordResetTokens.tenantId,
  userId: passwordResetTokens.userId,
  createdAt: passwordResetTokens.createdAt,
  expiresAt: passwordResetTokens.expiresAt,
  usedAt: passwordResetTokens.usedAt,
};
const tokenRows = tenantRows(passwordResetTokens, tokenColumns);

/** A token of the tenant matching `match` that is neither used nor expired. */
function pending(tenantId: number, match: SQL) {
  return tokenRows.where(
    tenantId,
    match,
    isNull(passwordResetTokens.usedAt),
    gt(passwordResetTokens.expiresAt, sql`now()`),
  );
}

export async function insertToken(
  tx: Executor,
  tenantId: number,
  v: { userId: number; tokenHash: string; expiresAt: Date },
): Promise<void> {
  await tx.insert(passwordResetTokens).values({ tenantId, ...v });
}

/** A new link supersedes the older ones still pending: only the latest mail works. */
export async function expirePending(tx: Executor, tenantId: number, userId: number): Promise<void> {
  await tx
    .update(passwordResetTokens)
    .set({ expiresAt: sql`least(${passwordResetTokens.expiresAt}, now())` })
    .where(pending(tenantId, eq(passwordResetTokens.userId, userId)));
}

/**
 * The account's password or email changed: a link mailed before no longer works (it is marked used, so
 * /validate says TOKEN_ALREADY_USED and /confirm answers 400). Runs in the transaction that makes the change.
 */
export async function voidPending(tx: Executor, tenantId: number, userId: number): Promise<number> {
  const rows = await tx
    .update(passwordResetTokens)
    .set({ usedAt: sql`now()` })
    .where(pending(tenantId, eq(passwordResetTokens.userId, userId)))
    .returning({ id: passwordResetTokens.id });
  return rows.length;
}

export async function countRecent(
  tx: Executor,
  tenantId: number,
  userId: number,
  since: Date,
): Promise<number> {
  const rows = await tx
    .select({ n: count() })
    .from(passwordResetTokens)
    .where(
      tokenRows.where(
        tenantId,
        eq(passwordResetTokens.userId, userId),
        gt(passwordResetTokens.createdAt, since),
      ),
    );
  return Number(rows[0]?.n ?? 0);
}

export async function findByHash(
  tx: Executor,
  tenantId: number,
  tokenHash: string,
): Promise<Omit<PasswordResetTokenRow, 'tokenHash'> | null> {
  return tokenRows.find(tx, tenantId, eq(passwordResetTokens.tokenHash, tokenHash));
}

/**
 * Marks the token used only if it is still unused and unexpired. The row lock makes concurrent confirmations
 * of one token give exactly one winner.
 */
export async function claim(
  tx: Executor,
  tenantId: number,
  tokenHash: string,
): Promise<{ id: string; userId: number } | null> {
  const rows = await tx
    .update(passwordResetTokens)
    .set({ usedAt: sql`now()` })
    .where(pending(tenantId, eq(passwordResetTokens.tokenHash, tokenHash)))
    .returning({ id: passwordResetTokens.id, userId: passwordResetTokens.userId });
  return firstOrNull(rows);
}
