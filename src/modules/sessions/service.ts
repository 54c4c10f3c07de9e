/**
 * Sessions and refresh tokens. A refresh token is `<tenantId>.<tokenId>.<secret>`; only sha256(secret) is
 * stored. Rotation claims the presented token atomically; presenting a used token again revokes the session.
 * Revocation is written to PostgreSQL (the truth) and to the store, which every replica's request guard reads.
 */
import { randomUUID } from 'node:crypto';
import type { AppContext } from '../../platform/context.js';
import { randomToken, sha256Hex } from '../../platform/crypto/tokens.js';
import type { Executor, Tx } from '../../platform/db/client.js';
import { keys } from '../../platform/store/keys.js';
import type { TenantSettings } from '../tenants/settings.js';
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
  ctx: AppContext,
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

/** Opens a session for a user who has proven who they are (password, MFA, SSO). */
export async function openSession(
  ctx: AppContext,
  tx: Tx,
  user: { id: number; tenantId: number; email: string },
  client: ClientInfo,
  settings: TenantSettings,
  mfaEnrolmentPending = false,
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
  ctx: AppContext,
  sessionIds: string[],
  reason: 'revoked' | 'expired' = 'revoked',
) {
  const ttl = revocationTtlSeconds(ctx.config);
  await Promise.all(sessionIds.map((id) => ctx.store.set(keys.sessionRevoked(id), reason, ttl)));
}

/** The store half of recording a session's activity (see activity.ts); the row's last_seen_at is the other. */
export async function publishActivity(ctx: AppContext, sessionId: string, now: number): Promise<void> {
  // Lives as long as any access token of the session can; past that the database row answers.
  await ctx.store.set(keys.sessionLastSeen(sessionId), String(now), revocationTtlSeconds(ctx.config));
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
