/**
 * MFA lockout per user, shared through the store (so it holds across replicas). Like the login lockout, an
 * attempt is reserved *before* the code is checked: of 10 wrong codes racing in parallel, at most 5 are
 * evaluated and the rest are refused with 429 MFA_LOCKED. The 5th failure turns the counter into a 30 min lock;
 * a success clears it. Unlike the login lockout it stays on in ENV=test (API.md §1).
 */

import { writeAuditAlone } from '../../platform/audit/alone.js';
import type { AuditContext } from '../../platform/audit/writer.js';
import { keys } from '../../platform/store/keys.js';
import type { MfaDeps } from './deps.js';
import { mfaLocked } from './errors.js';

export const MFA_MAX_ATTEMPTS = 5;
export const MFA_LOCK_SECONDS = 1800;

export interface MfaTicket {
  tenantId: number;
  userId: number;
  locksOnFailure: boolean;
}

export async function reserveMfaAttempt(ctx: MfaDeps, tenantId: number, userId: number): Promise<MfaTicket> {
  const { value, ttlSeconds } = await ctx.store.incr(keys.mfaAttempts(tenantId, userId), MFA_LOCK_SECONDS);
  if (value > MFA_MAX_ATTEMPTS) throw mfaLocked(ttlSeconds > 0 ? ttlSeconds : MFA_LOCK_SECONDS);
  return { tenantId, userId, locksOnFailure: value === MFA_MAX_ATTEMPTS };
}

/** For routes that take no code (setup, WebAuthn options): refuse while locked, without counting. */
export async function assertMfaNotLocked(ctx: MfaDeps, tenantId: number, userId: number): Promise<void> {
  const key = keys.mfaAttempts(tenantId, userId);
  const value = Number((await ctx.store.get(key)) ?? 0);
  if (value >= MFA_MAX_ATTEMPTS) {
    const ttl = await ctx.store.ttl(key);
    throw mfaLocked(ttl > 0 ? ttl : MFA_LOCK_SECONDS);
  }
}

/** A wrong code: audited on its own (the request fails); the 5th one starts the lock. */
export async function recordMfaFailure(
  ctx: MfaDeps,
  ticket: MfaTicket,
  audit: AuditContext,
  purpose: string,
  reason: string,
) {
  if (ticket.locksOnFailure) {
    await ctx.store.expire(keys.mfaAttempts(ticket.tenantId, ticket.userId), MFA_LOCK_SECONDS);
    ctx.metrics.lockouts.inc();
  }
  await writeAuditAlone(ctx, ticket.tenantId, audit, {
    eventType: 'mfa.verify_failed',
    success: false,
    resourceType: 'user',
    resourceId: ticket.userId,
    metadata: { purpose, reason, locked: ticket.locksOnFailure },
  });
  if (ticket.locksOnFailure) {
    await writeAuditAlone(ctx, ticket.tenantId, audit, {
      eventType: 'mfa.locked',
      success: false,
      resourceType: 'user',
      resourceId: ticket.userId,
      metadata: { lock_seconds: MFA_LOCK_SECONDS },
    });
  }
}

export async function clearMfaAttempts(ctx: MfaDeps, tenantId: number, userId: number) {
  await ctx.store.del(keys.mfaAttempts(tenantId, userId));
}
