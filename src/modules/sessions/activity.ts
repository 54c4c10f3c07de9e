/**
 * Session activity and the idle timeout (tenant setting `session.idle_ttl`, ASVS 3.3.2).
 *
 * Activity is a successful refresh or an authenticated request on the session. It is recorded in the store
 * (`sess:seen:<id>`, epoch ms, read by the request guard in its one MGET) and in `sessions.last_seen_at` (the
 * truth when the store has lost the key), at most once per write interval, so the hot path normally costs no
 * write at all. A session whose recorded activity is older than idle_ttl is ended in the database (audit
 * `session.expired`), flagged `expired` for every replica, and answered 401 SESSION_EXPIRED; its refresh token
 * is refused the same way.
 */
import { type AuditContext, writeAudit } from '../../platform/audit/writer.js';
import type { Executor } from '../../platform/db/client.js';
import { platformErrors } from '../../platform/http/errors.js';
import { keys } from '../../platform/store/keys.js';
import { tenantIdleTtl } from '../tenants/index.js';
import type { SessionsDeps } from './deps.js';
import * as repo from './repository.js';
import { publishActivity, publishRevocations } from './service.js';

/** Activity is written at most this often per session (less when idle_ttl is short, see writeInterval). */
export const ACTIVITY_WRITE_INTERVAL_SECONDS = 60;
export const IDLE_REVOKED_REASON = 'idle_timeout';

/**
 * Recorded activity lags the real one by up to this interval, so a session may be judged idle that much
 * early: a quarter of a short idle_ttl keeps that error small (idle_ttl may be as low as 60 s).
 */
export function writeInterval(idleTtl: number | null): number {
  if (idleTtl === null) return ACTIVITY_WRITE_INTERVAL_SECONDS;
  return Math.max(1, Math.min(ACTIVITY_WRITE_INTERVAL_SECONDS, Math.floor(idleTtl / 4)));
}

export function isIdle(lastSeenMs: number, idleTtl: number | null, now: number): boolean {
  return idleTtl !== null && now - lastSeenMs > idleTtl * 1000;
}

/** An activity record, `<epoch ms>` or `<epoch ms>@<generation>`: its time (null if none) and generation. */
function parseRecord(raw: string | null | undefined): { ms: number | null; generation: string | null } {
  const at = raw?.indexOf('@') ?? -1;
  const n = raw ? Number(at < 0 ? raw : raw.slice(0, at)) : Number.NaN;
  return {
    ms: Number.isFinite(n) && n > 0 ? n : null,
    generation: raw && at >= 0 ? raw.slice(at + 1) : null,
  };
}

/** The time in an activity record, whatever its generation. */
function parseMs(raw: string | null | undefined): number | null {
  return parseRecord(raw).ms;
}

/**
 * The activity record's time when the store can vouch for the session with it: written under the generation
 * the store serves now. A record from another generation (read from a promoted replica, which may have missed
 * the old master's last writes, a revocation flag among them) or of unknown generation proves nothing about
 * the absence of a revocation flag, so the session row decides (once: the answer is written back under the
 * new generation).
 */
export function vouchedLastSeen(raw: string | null | undefined, generation: string | null): number | null {
  const record = parseRecord(raw);
  return generation !== null && record.generation === generation ? record.ms : null;
}

/** The store's record of a session's last activity (null when absent). */
export async function storedLastSeen(ctx: SessionsDeps, sessionId: string): Promise<number | null> {
  return parseMs(await ctx.store.get(keys.sessionLastSeen(sessionId)));
}

/**
 * Ends an idle session inside the caller's transaction; returns whether this call ended it (a racing request
 * may have done it first, and then writes no second audit record).
 */
export async function endIdleSession(
  tx: Executor,
  tenantId: number,
  session: { userId: number; sessionId: string },
  detail: { lastSeen: number; idleTtl: number },
  audit: AuditContext,
): Promise<boolean> {
  const ended = await repo.revokeSessions(
    tx,
    tenantId,
    { userId: session.userId, sessionIds: [session.sessionId] },
    IDLE_REVOKED_REASON,
  );
  if (ended.length === 0) return false;
  await writeAudit(tx, tenantId, audit, {
    eventType: 'session.expired',
    actorType: 'system',
    actorId: null,
    sessionId: session.sessionId,
    resourceType: 'session',
    resourceId: session.sessionId,
    metadata: {
      reason: IDLE_REVOKED_REASON,
      idle_ttl: detail.idleTtl,
      last_seen_at: new Date(detail.lastSeen).toISOString(),
      user_id: session.userId,
    },
  });
  return true;
}

/**
 * The request guard's check for a user session. `lastSeenRaw` is the value the guard read in its MGET; only
 * when the store has no record (lost, or older than any live token) is the session row read.
 */
export async function enforceIdleTimeout(
  ctx: SessionsDeps,
  principal: { tenantId: number; userId: number; sessionId: string },
  tenantVersion: string,
  lastSeenRaw: string | null,
  audit: AuditContext,
): Promise<void> {
  const { tenantId, sessionId } = principal;
  const now = ctx.clock.now();
  const idleTtl = await tenantIdleTtl(ctx, tenantId, tenantVersion);
  let lastSeen = vouchedLastSeen(lastSeenRaw, ctx.store.generation());
  const fromStore = lastSeen !== null;
  if (lastSeen === null) {
    const row = await ctx.database.withTenant(tenantId, (tx) => repo.findSession(tx, tenantId, sessionId));
    // The store lost the revocation flag too (a flushed Redis, a replica promoted before it received the
    // flag): the row still knows the session ended, and the flag is written again for every replica.
    if (!row || row.revokedAt) {
      const expired = row?.revokedReason === IDLE_REVOKED_REASON;
      if (row) await publishRevocations(ctx, [sessionId], expired ? 'expired' : 'revoked');
      throw platformErrors.error(expired ? 'SESSION_EXPIRED' : 'SESSION_REVOKED');
    }
    if (row.expiresAt.getTime() <= now) throw platformErrors.error('SESSION_EXPIRED');
    // An unvouched record still tells when the session was last used (it may be later than the row's).
    lastSeen = Math.max(row.lastSeenAt.getTime(), parseMs(lastSeenRaw) ?? 0);
  }
  if (idleTtl !== null && isIdle(lastSeen, idleTtl, now)) {
    const seen = lastSeen;
    await ctx.database.withTenant(tenantId, (tx) =>
      endIdleSession(tx, tenantId, principal, { lastSeen: seen, idleTtl }, audit),
    );
    await publishRevocations(ctx, [sessionId], 'expired');
    throw platformErrors.error('SESSION_EXPIRED');
  }
  const recent = now - lastSeen < writeInterval(idleTtl) * 1000;
  if (fromStore && recent) return;
  if (recent) {
    // Checked against the row only because the store could not vouch (a failover, a reconnection): activity
    // was recorded moments ago, so only the store's record is written again, under the generation it serves
    // now (and not at all while that is unknown: the next request checks the row again).
    if (ctx.store.generation() !== null) await publishActivity(ctx, sessionId, lastSeen);
    return;
  }
  await publishActivity(ctx, sessionId, now);
  await ctx.database.withTenant(tenantId, (tx) => repo.markSeen(tx, tenantId, sessionId, new Date(now)));
}
