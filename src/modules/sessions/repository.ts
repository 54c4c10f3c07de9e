import { desc, eq, gt, inArray, isNull, ne, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { firstOrNull, ofTenant, one } from '../../platform/db/rows.js';
import { tenantRows } from '../../platform/db/tenant-rows.js';
import { refreshTokens, type SessionRow, sessions } from './tables.js';

const sessionColumns = {
  id: sessions.id,
  tenantId: sessions.tenantId,
  userId: sessions.userId,
  createdAt: sessions.createdAt,
  updatedAt: sessions.updatedAt,
  lastSeenAt: sessions.lastSeenAt,
  expiresAt: sessions.expiresAt,
  revokedAt: sessions.revokedAt,
  revokedReason: sessions.revokedReason,
  ipAddress: sessions.ipAddress,
  userAgent: sessions.userAgent,
  deviceType: sessions.deviceType,
  browser: sessions.browser,
  os: sessions.os,
  signInMethod: sessions.signInMethod,
  ssoConnectionId: sessions.ssoConnectionId,
};
const sessionRows = tenantRows(sessions, sessionColumns);

export async function insertSession(
  tx: Executor,
  tenantId: number,
  v: {
    userId: number;
    expiresAt: Date;
    lastSeenAt: Date;
    ipAddress: string | null;
    userAgent: string | null;
    deviceType: string;
    browser: string | null;
    os: string | null;
    signInMethod: string;
    ssoConnectionId: string | null;
  },
): Promise<SessionRow> {
  return sessionRows.insert(tx, tenantId, v);
}

export async function insertRefreshToken(
  tx: Executor,
  tenantId: number,
  v: { id: string; sessionId: string; tokenHash: string; expiresAt: Date },
): Promise<void> {
  await tx.insert(refreshTokens).values({ tenantId, ...v });
}

/**
 * Marks a refresh token used, only if it was unused: the row lock makes racing refreshes of one token
 * give exactly one winner; the losers see it used and are treated as replays.
 */
export async function claimRefreshToken(tx: Executor, tenantId: number, id: string, tokenHash: string) {
  const rows = await tx
    .update(refreshTokens)
    .set({ usedAt: new Date() })
    .where(
      ofTenant(
        refreshTokens,
        tenantId,
        eq(refreshTokens.id, id),
        eq(refreshTokens.tokenHash, tokenHash),
        isNull(refreshTokens.usedAt),
      ),
    )
    .returning({ sessionId: refreshTokens.sessionId, expiresAt: refreshTokens.expiresAt });
  return firstOrNull(rows);
}

export async function findRefreshToken(tx: Executor, tenantId: number, id: string, tokenHash: string) {
  return one(
    tx
      .select({ sessionId: refreshTokens.sessionId, usedAt: refreshTokens.usedAt })
      .from(refreshTokens)
      .where(
        ofTenant(refreshTokens, tenantId, eq(refreshTokens.id, id), eq(refreshTokens.tokenHash, tokenHash)),
      ),
  );
}

export async function markReplaced(
  tx: Executor,
  tenantId: number,
  id: string,
  replacedBy: string,
): Promise<void> {
  await tx
    .update(refreshTokens)
    .set({ replacedBy })
    .where(ofTenant(refreshTokens, tenantId, eq(refreshTokens.id, id)));
}

export const findSession = sessionRows.findById;

export async function listUserSessions(
  tx: Executor,
  tenantId: number,
  userId: number,
  includeInactive: boolean,
): Promise<SessionRow[]> {
  const active = includeInactive ? [] : [isNull(sessions.revokedAt), gt(sessions.expiresAt, new Date())];
  return sessionRows.list(tx, tenantId, {
    where: [eq(sessions.userId, userId), ...active],
    orderBy: [desc(sessions.createdAt)],
    limit: 500,
  });
}

export async function touchSession(tx: Executor, tenantId: number, id: string, now: Date): Promise<void> {
  await tx
    .update(sessions)
    .set({ lastSeenAt: now, updatedAt: now })
    .where(sessionRows.where(tenantId, eq(sessions.id, id)));
}

/** Activity between refreshes: only last_seen_at moves (never backwards), updated_at stays the last change. */
export async function markSeen(tx: Executor, tenantId: number, id: string, at: Date): Promise<void> {
  await tx
    .update(sessions)
    .set({ lastSeenAt: sql`greatest(${sessions.lastSeenAt}, ${at.toISOString()}::timestamptz)` })
    .where(sessionRows.where(tenantId, eq(sessions.id, id)));
}

export interface RevokeFilter {
  userId: number;
  sessionIds?: string[];
  exceptSessionId?: string | null;
}

/** Ends the matching active sessions; returns the ids that were active (for the revocation cache). */
export async function revokeSessions(
  tx: Executor,
  tenantId: number,
  filter: RevokeFilter,
  reason: string,
): Promise<string[]> {
  return revokeActive(
    tx,
    tenantId,
    reason,
    eq(sessions.userId, filter.userId),
    filter.sessionIds
      ? inArray(
          sessions.id,
          filter.sessionIds.length ? filter.sessionIds : ['00000000-0000-0000-0000-000000000000'],
        )
      : undefined,
    filter.exceptSessionId ? ne(sessions.id, filter.exceptSessionId) : undefined,
  );
}

/**
 * Ends the active sessions of these users except those opened through `keep` (an SSO sign-in through that
 * connection); returns what it ended. The ids travel as one int[] parameter, whatever their number.
 */
export async function revokeSessionsNotThrough(
  tx: Executor,
  tenantId: number,
  userIds: number[],
  keep: { ssoConnectionId: string },
  reason: string,
): Promise<{ id: string; userId: number }[]> {
  if (userIds.length === 0) return [];
  const ids = `{${userIds.map((id) => Math.trunc(id)).join(',')}}`;
  const now = new Date();
  return tx
    .update(sessions)
    .set({ revokedAt: now, revokedReason: reason, updatedAt: now })
    .where(
      sessionRows.where(
        tenantId,
        sql`${sessions.userId} = any(${ids}::int[])`,
        isNull(sessions.revokedAt),
        // 'unknown' (older rows) and a null connection are never "through" it.
        sql`not (${sessions.signInMethod} = 'sso' and ${sessions.ssoConnectionId} is not distinct from ${keep.ssoConnectionId}::uuid)`,
      ),
    )
    .returning({ id: sessions.id, userId: sessions.userId });
}

/** Ends the tenant's active sessions matching the conditions; returns the ids it ended. */
async function revokeActive(
  tx: Executor,
  tenantId: number,
  reason: string,
  ...conditions: (SQL | undefined)[]
): Promise<string[]> {
  const now = new Date();
  const rows = await tx
    .update(sessions)
    .set({ revokedAt: now, revokedReason: reason, updatedAt: now })
    .where(sessionRows.where(tenantId, ...conditions, isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });
  return rows.map((r) => r.id);
}

export async function revokeAllTenantSessions(
  tx: Executor,
  tenantId: number,
  reason: string,
): Promise<string[]> {
  return revokeActive(tx, tenantId, reason);
}

export async function countActive(tx: Executor, tenantId: number, userId: number): Promise<number> {
  const r = await tx.execute<{ n: string }>(
    sql`select count(*)::text as n from sessions where tenant_id = ${tenantId} and user_id = ${userId} and revoked_at is null and expires_at > now()`,
  );
  return Number(r.rows[0]!.n);
}

/** Security alerts: another session of the user (past or present) from the same device type, browser and OS? */
export async function hasOtherSessionFromDevice(
  tx: Executor,
  tenantId: number,
  userId: number,
  exceptSessionId: string,
  device: { deviceType: string | null; browser: string | null; os: string | null },
): Promise<boolean> {
  const r = await tx.execute(sql`
    select 1 from sessions
    where tenant_id = ${tenantId} and user_id = ${userId} and id <> ${exceptSessionId}::uuid
      and device_type is not distinct from ${device.deviceType} and browser is not distinct from ${device.browser}
      and os is not distinct from ${device.os}
    limit 1`);
  return r.rows.length > 0;
}
