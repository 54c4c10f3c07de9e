/**
 * Sessions and refresh tokens. A refresh token is `<tenantId>.<tokenId>.<secret>`; only sha256(secret) is
 * stored. Rotation claims the presented token atomically; presenting a used token again revokes the session.
 * Revocation is written to PostgreSQL (the truth) and to the store, which every replica's request guard reads.
 */

import { randomUUID } from 'node:crypto';
import { type AuditContext, writeAudit } from '../../platform/audit/writer.js';
import type { AppContext, SignInVia } from '../../platform/context.js';
import { randomToken, sha256Hex } from '../../platform/crypto/tokens.js';
import type { Executor, Tx } from '../../platform/db/client.js';
import { notFound, platformErrors } from '../../platform/http/errors.js';
import type { Locale } from '../../platform/http/messages.js';
import { keys } from '../../platform/store/keys.js';
import type { TenantSettings } from '../tenants/index.js';
import type { SessionsDeps } from './deps.js';
import { sessionsText } from './errors.js';
import * as repo from './repository.js';
import type { SessionRow } from './tables.js';
import { parseUserAgent } from './user-agent.js';

export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

export interface IssuedTokens {
  access_token: string;
  refresh_token: string;
  token_type: 'bearer';
  expires_in: number;
  session_id: string;
}

export async function createRefreshToken(
  tx: Executor,
  tenantId: number,
  sessionId: string,
  ttlSeconds: number,
  absoluteExpiry: Date,
  now: number,
) {
  const id = randomUUID();
  const secret = randomToken(32);
  const expiresAt = new Date(Math.min(now + ttlSeconds * 1000, absoluteExpiry.getTime()));
  await repo.insertRefreshToken(tx, tenantId, { id, sessionId, tokenHash: sha256Hex(secret), expiresAt });
  return { id, raw: `${tenantId}.${id}.${secret}` };
}

export function parseRefreshToken(raw: string): { tenantId: number; id: string; secretHash: string } | null {
  const m = /^(\d{1,9})\.([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/.exec(raw);
  if (!m) return null;
  return { tenantId: Number(m[1]), id: m[2]!, secretHash: sha256Hex(m[3]!) };
}

export async function signAccessFor(
  ctx: SessionsDeps,
  user: { id: number; tenantId: number; email: string },
  sessionId: string,
  settings: TenantSettings,
  mfaEnrolmentPending: boolean,
): Promise<string> {
  return ctx.jwt.signAccess(
    {
      sub: String(user.id),
      tenant_id: user.tenantId,
      session_id: sessionId,
      email: user.email,
      ...(mfaEnrolmentPending ? { mfa_enrolment: true } : {}),
    },
    settings.session.access_ttl,
  );
}

/**
 * Opens a session for a user who has proven who they are (password, MFA, SSO). `via`: how (kept on the row, so
 * that sso_required can tell the sessions of its connection from the others).
 */
export async function openSession(
  ctx: SessionsDeps,
  tx: Tx,
  user: { id: number; tenantId: number; email: string },
  client: ClientInfo,
  settings: TenantSettings,
  mfaEnrolmentPending = false,
  via: SignInVia = { method: 'unknown', ssoConnectionId: null },
): Promise<IssuedTokens & { session: SessionRow }> {
  const device = parseUserAgent(client.userAgent);
  const now = ctx.clock.now();
  const session = await repo.insertSession(tx, user.tenantId, {
    userId: user.id,
    expiresAt: new Date(now + settings.session.absolute_ttl * 1000),
    lastSeenAt: new Date(now),
    ipAddress: client.ip,
    userAgent: client.userAgent?.slice(0, 512) ?? null,
    ...device,
    signInMethod: via.method,
    ssoConnectionId: via.method === 'sso' ? via.ssoConnectionId : null,
  });
  const refresh = await createRefreshToken(
    tx,
    user.tenantId,
    session.id,
    settings.session.refresh_ttl,
    session.expiresAt,
    now,
  );
  const access = await signAccessFor(ctx, user, session.id, settings, mfaEnrolmentPending);
  // The sign-in is the session's first activity: the request guard finds it without a database read.
  await publishActivity(ctx, session.id, now);
  return {
    access_token: access,
    refresh_token: refresh.raw,
    token_type: 'bearer',
    expires_in: settings.session.access_ttl,
    session_id: session.id,
    session,
  };
}

/** Replicas' clocks may disagree by this much: a token refused by one must stay refused by the slowest. */
export const CLOCK_SKEW_SECONDS = 60;

/**
 * How long the revocation flag of a session lives: the longest access token that can exist (the server's
 * ACCESS_TOKEN_LIFETIME: tenants can only lower it and the signer clamps to it) plus clock skew. The one place
 * this is decided; a flag that expired earlier would bring a revoked session's tokens back.
 */
export function revocationTtlSeconds(config: Pick<AppContext['config'], 'accessTokenLifetime'>): number {
  return config.accessTokenLifetime + CLOCK_SKEW_SECONDS;
}

/** After the transaction that revoked them commits: make every replica refuse their access tokens. */
export async function publishRevocations(
  ctx: SessionsDeps,
  sessionIds: string[],
  reason: 'revoked' | 'expired' = 'revoked',
) {
  const ttl = revocationTtlSeconds(ctx.config);
  await Promise.all(sessionIds.map((id) => ctx.store.set(keys.sessionRevoked(id), reason, ttl)));
}

/**
 * The store half of recording a session's activity (see activity.ts); the row's last_seen_at is the other.
 * The value is `<epoch ms>@<store generation>`: the record vouches that this copy of the store has seen the
 * session, revocation flag included, only while the store still serves that generation.
 */
export async function publishActivity(ctx: SessionsDeps, sessionId: string, now: number): Promise<void> {
  const generation = ctx.store.generation();
  const value = generation === null ? String(now) : `${now}@${generation}`;
  // Lives as long as any access token of the session can; past that the database row answers.
  await ctx.store.set(keys.sessionLastSeen(sessionId), value, revocationTtlSeconds(ctx.config));
}

export function isSessionActive(s: SessionRow, now = Date.now()): boolean {
  return s.revokedAt === null && s.expiresAt.getTime() > now;
}

/** SessionRead of API.md §7. */
export function toSessionRead(s: SessionRow, currentSessionId: string | null) {
  return {
    id: s.id,
    user_id: s.userId,
    tenant_id: s.tenantId,
    is_active: isSessionActive(s),
    created_at: s.createdAt.toISOString(),
    updated_at: s.updatedAt.toISOString(),
    last_seen_at: s.lastSeenAt.toISOString(),
    ip_address: s.ipAddress,
    user_agent: s.userAgent,
    device_type: s.deviceType,
    browser: s.browser,
    os: s.os,
    is_current: s.id === currentSessionId,
  };
}

// ---- listing and ending sessions (the caller's own, and an admin's view of a user's) ----

/** Lists a user's sessions, newest first (GET /sessions, and GET /users/{id}/sessions for admins). */
export async function listSessions(
  ctx: SessionsDeps,
  tenantId: number,
  userId: number,
  includeInactive: boolean,
  currentSessionId: string | null,
) {
  const rows = await ctx.database.withTenant(tenantId, (tx) =>
    repo.listUserSessions(tx, tenantId, userId, includeInactive),
  );
  const sessions = rows.map((s) => toSessionRead(s, currentSessionId));
  return { sessions, total: sessions.length, active_count: sessions.filter((s) => s.is_active).length };
}

/** One of the caller's own sessions; another user's is 404, as an unknown one. */
export async function getOwnSession(
  ctx: SessionsDeps,
  caller: { tenantId: number; userId: number; sessionId: string | null },
  id: string,
) {
  const s = await ctx.database.withTenant(caller.tenantId, (tx) => repo.findSession(tx, caller.tenantId, id));
  if (!s || s.userId !== caller.userId) throw notFound('session');
  return toSessionRead(s, caller.sessionId);
}

/** Ends sessions of a user, audited in the same transaction, and publishes the revocation once committed. */
export async function terminateSessions(
  ctx: SessionsDeps,
  tenantId: number,
  userId: number,
  filter: { sessionIds?: string[]; exceptSessionId?: string | null },
  audit: AuditContext,
  reason: string,
): Promise<string[]> {
  const ids = await ctx.database.withTenant(tenantId, async (tx) => {
    const revoked = await repo.revokeSessions(tx, tenantId, { userId, ...filter }, reason);
    // Ending every session (not chosen ones) also ends what they handed out elsewhere (hooks).
    let elsewhere = 0;
    if (!filter.sessionIds)
      for (const hook of ctx.hooks.userSessionsEnded) elsewhere += await hook(tx, tenantId, userId);
    await writeAudit(tx, tenantId, audit, {
      eventType: 'session.terminated',
      resourceType: 'user',
      resourceId: userId,
      metadata: { session_ids: revoked, reason, ...(elsewhere > 0 && { ended_elsewhere: elsewhere }) },
    });
    return revoked;
  });
  await publishRevocations(ctx, ids);
  return ids;
}

/** TerminateResponse of API.md §7, its message in the caller's language. */
export function terminatedResponse(count: number, locale: Locale) {
  return { terminated_count: count, message: sessionsText('SESSIONS_TERMINATED', locale, { count }) };
}

/** DELETE /sessions/{id}: ends one of the caller's own sessions (400 when it already ended). */
export function terminateOwnSession(
  ctx: SessionsDeps,
  caller: { tenantId: number; userId: number },
  id: string,
  audit: AuditContext,
  locale: Locale,
) {
  return terminateUserSession(ctx, caller.tenantId, caller.userId, id, audit, locale, 'user_terminated');
}

/**
 * Ends one session of a user: 404 when the tenant has no such session of THAT user (another user's, another
 * tenant's), 400 when it already ended. The caller (an admin route) has checked it may act on the user.
 */
export async function terminateUserSession(
  ctx: SessionsDeps,
  tenantId: number,
  userId: number,
  id: string,
  audit: AuditContext,
  locale: Locale,
  reason: string,
) {
  const s = await ctx.database.withTenant(tenantId, (tx) => repo.findSession(tx, tenantId, id));
  if (!s || s.userId !== userId) throw notFound('session');
  if (!isSessionActive(s))
    throw platformErrors.error(
      'BAD_REQUEST',
      { reason: 'session_already_ended' },
      { message: sessionsText('SESSION_ALREADY_ENDED', locale) },
    );
  const ids = await terminateSessions(ctx, tenantId, userId, { sessionIds: [s.id] }, audit, reason);
  return { terminated_count: ids.length, message: sessionsText('SESSION_TERMINATED', locale) };
}

/** Ends every active session of a tenant (suspension, deletion) in the caller's transaction; returns their ids. */
export function revokeTenantSessions(tx: Executor, tenantId: number, reason: string): Promise<string[]> {
  return repo.revokeAllTenantSessions(tx, tenantId, reason);
}

/** Ends every active session of a user (deactivation, deletion) in the caller's transaction; returns their ids. */
export function revokeUserSessions(
  tx: Executor,
  tenantId: number,
  userId: number,
  reason: string,
): Promise<string[]> {
  return repo.revokeSessions(tx, tenantId, { userId }, reason);
}

// --- used by auth and password-reset (through index.ts): the session and refresh-token rows stay behind these ---
export type { RevokeFilter } from './repository.js';

/** Claims a refresh token for rotation; atomic, so of two racing refreshes exactly one gets the claim. */
export function claimRefreshToken(tx: Executor, tenantId: number, token: { id: string; secretHash: string }) {
  return repo.claimRefreshToken(tx, tenantId, token.id, token.secretHash);
}

/** The session a refresh token (valid or already used) belongs to; null for an unknown token. */
export async function refreshTokenSessionId(
  tx: Executor,
  tenantId: number,
  token: { id: string; secretHash: string },
): Promise<string | null> {
  return (await repo.findRefreshToken(tx, tenantId, token.id, token.secretHash))?.sessionId ?? null;
}

export const getSession = repo.findSession;

/** Ends the user's matching active sessions; returns their ids, to publishRevocations once committed. */
export const revokeSessions = repo.revokeSessions;

/**
 * sso_required switched on: ends the sessions of these users that were not opened through that connection, in
 * the caller's transaction; returns what it ended (publishRevocations once committed, and the audit record).
 */
export const revokeSessionsNotThrough = repo.revokeSessionsNotThrough;

/** The second half of a rotation: the successor token, the old one marked replaced, the session seen now. */
export async function rotateRefreshToken(
  tx: Executor,
  tenantId: number,
  session: SessionRow,
  oldTokenId: string,
  ttlSeconds: number,
  now: number,
) {
  const next = await createRefreshToken(tx, tenantId, session.id, ttlSeconds, session.expiresAt, now);
  await repo.markReplaced(tx, tenantId, oldTokenId, next.id);
  await repo.touchSession(tx, tenantId, session.id, new Date(now));
  return next;
}

/** Security alerts: has the user had another session, past or present, from this device? */
export const hasOtherSessionFromDevice = repo.hasOtherSessionFromDevice;
