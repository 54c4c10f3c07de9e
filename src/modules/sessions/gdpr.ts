/**
 * The sessions module's part of GDPR (API.md §9): the user's sessions in the export; erasure ends them and
 * publishes the revocations once it has committed. Erasure then deletes them with their refresh tokens;
 * anonymisation keeps them as history of use, without what identifies a person's network or browser.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { AppContext } from '../../platform/context.js';
import type { Tx } from '../../platform/db/client.js';
import { listUserSessions, revokeSessions } from './repository.js';
import { publishRevocations } from './service.js';
import { refreshTokens, sessions } from './tables.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export async function exportSessions(tx: Tx, tenantId: number, userId: number) {
  return (await listUserSessions(tx, tenantId, userId, true)).map((s) => ({
    id: s.id,
    created_at: s.createdAt.toISOString(),
    last_seen_at: s.lastSeenAt.toISOString(),
    expires_at: s.expiresAt.toISOString(),
    revoked_at: iso(s.revokedAt),
    revoked_reason: s.revokedReason,
    ip_address: s.ipAddress,
    user_agent: s.userAgent,
    device_type: s.deviceType,
    browser: s.browser,
    os: s.os,
  }));
}

export function registerSessionsGdpr(ctx: AppContext): void {
  ctx.hooks.gdprExport.push({ name: 'sessions', collect: exportSessions });
  ctx.hooks.gdprErase.push({
    name: 'sessions',
    erase: async (tx, tenantId, userId, afterCommit, erasure) => {
      const revoked = await revokeSessions(tx, tenantId, { userId }, erasure.reason);
      const mine = and(eq(sessions.tenantId, tenantId), eq(sessions.userId, userId));
      if (erasure.mode === 'deleted') {
        await tx
          .delete(refreshTokens)
          .where(
            and(
              eq(refreshTokens.tenantId, tenantId),
              sql`${refreshTokens.sessionId} in (select id from sessions where tenant_id = ${tenantId} and user_id = ${userId})`,
            ),
          );
        await tx.delete(sessions).where(mine);
      } else {
        await tx.update(sessions).set({ ipAddress: null, userAgent: null }).where(mine);
      }
      // Every replica refuses the sessions' access tokens, but only once the erasure is certain.
      afterCommit(() => publishRevocations(ctx, revoked));
      return { sessions_revoked: revoked.length };
    },
  });
}
