/** The password-reset module's part of GDPR (API.md §9): reset requests in the export, deleted on erasure. */
import { and, desc, eq } from 'drizzle-orm';
import type { AppContext } from '../../platform/context.js';
import type { Tx } from '../../platform/db/client.js';
import { passwordResetTokens } from './tables.js';

const mine = (tenantId: number, userId: number) =>
  and(eq(passwordResetTokens.tenantId, tenantId), eq(passwordResetTokens.userId, userId));

/** When links were asked for and used; never the token hashes. */
export async function exportResetRequests(tx: Tx, tenantId: number, userId: number) {
  const rows = await tx
    .select({
      createdAt: passwordResetTokens.createdAt,
      expiresAt: passwordResetTokens.expiresAt,
      usedAt: passwordResetTokens.usedAt,
    })
    .from(passwordResetTokens)
    .where(mine(tenantId, userId))
    .orderBy(desc(passwordResetTokens.createdAt))
    .limit(100);
  return rows.map((r) => ({
    created_at: r.createdAt.toISOString(),
    expires_at: r.expiresAt.toISOString(),
    used_at: r.usedAt ? r.usedAt.toISOString() : null,
  }));
}

export function registerPasswordResetGdpr(ctx: AppContext): void {
  ctx.hooks.gdprExport.push({ name: 'password_reset_requests', collect: exportResetRequests });
  ctx.hooks.gdprErase.push({
    name: 'password_reset',
    erase: async (tx, tenantId, userId) => {
      await tx.delete(passwordResetTokens).where(mine(tenantId, userId));
    },
  });
}
