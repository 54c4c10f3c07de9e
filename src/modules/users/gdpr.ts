/**
 * The users module's part of GDPR (API.md §9): the profile in the export, and the user row last in an erasure
 * (deleted, or scrubbed to a husk named by its pseudonym). The GDPR module orchestrates; only this file touches
 * the users table for it.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { AppContext, GdprErasure } from '../../platform/context.js';
import type { Tx } from '../../platform/db/client.js';
import { pgErrorOf } from '../../platform/db/errors.js';
import { notFound } from '../../platform/http/errors.js';
import { bumpUserVersion } from '../../platform/store/versions.js';
import { findUserById } from './repository.js';
import { assertNotLastOwner } from './service.js';
import { users } from './tables.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The `user` section of the export; null when the tenant has no such user (the export is then 404). */
export async function exportProfile(tx: Tx, tenantId: number, userId: number) {
  const user = await findUserById(tx, tenantId, userId);
  if (!user) return null;
  return {
    id: user.id,
    tenant_id: user.tenantId,
    email: user.email,
    first_name: user.firstName,
    last_name: user.lastName,
    phone: user.phone,
    is_active: user.isActive,
    is_verified: user.isVerified,
    is_superuser: user.isSuperuser,
    has_password: user.passwordHash !== null,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
    last_login_at: iso(user.lastLoginAt),
    password_changed_at: iso(user.passwordChangedAt),
  };
}

/** The email of a user of the tenant, or null: GDPR hooks of other modules key personal values by it. */
export async function userEmail(tx: Tx, tenantId: number, userId: number): Promise<string | null> {
  return (await findUserById(tx, tenantId, userId))?.email ?? null;
}

/**
 * First step of an erasure, in its transaction: locks the user's row, which serialises concurrent erasures of
 * one user (the later ones find it gone: 404); an active user must not be the tenant's last owner (409), since
 * both modes leave the account unable to sign in.
 */
export async function lockUserForErasure(
  tx: Tx,
  tenantId: number,
  userId: number,
): Promise<{ email: string }> {
  const [user] = await tx
    .select({ email: users.email, isActive: users.isActive })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.id, userId)))
    .for('update');
  if (!user) throw notFound('user');
  if (user.isActive) await assertNotLastOwner(tx, tenantId, userId);
  return { email: user.email };
}

/** Every personal field replaced; the account can never sign in again. */
async function scrubUser(tx: Tx, tenantId: number, userId: number, pseudonym: string) {
  await tx
    .update(users)
    .set({
      email: `${pseudonym}@anonymized.invalid`,
      firstName: null,
      lastName: null,
      phone: null,
      passwordHash: null,
      isActive: false,
      isVerified: false,
      isSuperuser: false,
      updatedAt: new Date(),
    })
    .where(and(eq(users.tenantId, tenantId), eq(users.id, userId)));
}

/** True for PostgreSQL's foreign-key violation (23503), under drizzle's wrapper if any. */
function isForeignKeyViolation(err: unknown): boolean {
  return pgErrorOf(err)?.code === '23503';
}

/**
 * Erasure deletes the row (what still hangs on it cascades). If a module still references the user without
 * ON DELETE CASCADE, the delete is rolled back to a savepoint and the row is scrubbed instead: no personal field
 * survives either way. Any other failure aborts the erasure. Anonymisation always scrubs.
 */
export async function eraseAccount(tx: Tx, tenantId: number, userId: number, erasure: GdprErasure) {
  if (erasure.mode === 'anonymized') return scrubUser(tx, tenantId, userId, erasure.pseudonym);
  // An explicit SAVEPOINT, not tx.transaction(): on PostgreSQL withTenant hands out a plain client in an open
  // transaction, where drizzle's nested transaction() would send BEGIN/COMMIT and commit the whole erasure
  // half-way (and its ROLLBACK would undo all of it before the scrub).
  await tx.execute(sql`savepoint gdpr_delete_user`);
  try {
    await tx.delete(users).where(and(eq(users.tenantId, tenantId), eq(users.id, userId)));
    await tx.execute(sql`release savepoint gdpr_delete_user`);
  } catch (err) {
    if (!isForeignKeyViolation(err)) throw err;
    await tx.execute(sql`rollback to savepoint gdpr_delete_user`);
    await scrubUser(tx, tenantId, userId, erasure.pseudonym);
  }
}

export function registerUsersGdpr(ctx: AppContext): void {
  ctx.hooks.gdprExport.push({ name: 'user', collect: exportProfile });
  ctx.hooks.gdprErase.push({
    name: 'users',
    phase: 'account',
    erase: async (tx, tenantId, userId, afterCommit, erasure) => {
      await eraseAccount(tx, tenantId, userId, erasure);
      // Once the erasure has committed, no replica serves the user's cached identity (/auth/me) again.
      afterCommit(() => bumpUserVersion(ctx.store, tenantId, userId));
    },
  });
}
