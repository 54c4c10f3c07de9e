/**
 * Account lockout per (tenant, email), shared through the store. An attempt is reserved *before* the password
 * is checked, so racing failures cannot get more than maxAttempts guesses: the (max+1)th concurrent attempt is
 * refused without being evaluated. A success clears the counter.
 */

import type { AppContext } from '../../platform/context.js';
import { keys } from '../../platform/store/keys.js';
import type { AuthDeps } from './deps.js';
import { authError } from './errors.js';

export interface AttemptTicket {
  attempt: number;
  /** True when this failure is the one that locks the account. */
  locksOnFailure: boolean;
}

export async function reserveLoginAttempt(
  ctx: AuthDeps,
  tenantId: number,
  email: string,
): Promise<AttemptTicket | null> {
  if (!ctx.config.lockoutEnabled) return null;
  const { maxAttempts, windowSeconds } = ctx.config.lockout;
  const key = keys.loginAttempts(tenantId, email);
  const { value, ttlSeconds } = await ctx.store.incr(key, windowSeconds);
  if (value > maxAttempts) {
    const retry = Math.max(1, ttlSeconds);
    throw authError(
      'ACCOUNT_LOCKED',
      { retry_after_seconds: retry },
      { headers: { 'retry-after': String(retry) } },
    );
  }
  return { attempt: value, locksOnFailure: value === maxAttempts };
}

export async function recordLoginFailure(
  ctx: AuthDeps,
  tenantId: number,
  email: string,
  ticket: AttemptTicket | null,
) {
  if (ticket?.locksOnFailure) {
    // The lock lasts lockSeconds from the failure that triggered it.
    await ctx.store.expire(keys.loginAttempts(tenantId, email), ctx.config.lockout.lockSeconds);
    ctx.metrics.lockouts.inc();
  }
}

export async function clearLoginAttempts(
  ctx: Pick<AppContext, 'config' | 'store'>,
  tenantId: number,
  email: string,
) {
  if (ctx.config.lockoutEnabled) await ctx.store.del(keys.loginAttempts(tenantId, email));
}
