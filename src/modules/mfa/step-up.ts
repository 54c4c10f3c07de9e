/**
 * Step-up (API.md §8): changing second factors needs a second factor proven by the same session in the last
 * 5 minutes. The proof lives in the shared store, keyed by session, with a 5 min TTL: every replica sees it, it
 * expires by itself, and it never rides in a JWT (a token cannot carry a proof that outlives its window).
 * Proofs: a TOTP or recovery code at /auth/login/mfa (or `mfa_code` at /auth/login), /mfa/verify,
 * /mfa/recovery/verify, /mfa/recovery/regenerate, or a WebAuthn assertion (login step or /mfa/webauthn/verify).
 */

import type { Tx } from '../../platform/db/client.js';
import { keys } from '../../platform/store/keys.js';
import type { MfaDeps } from './deps.js';
import { mfaErrors } from './errors.js';
import * as repo from './repository.js';

export const STEP_UP_SECONDS = 300;

export type StepUpMethod = 'totp' | 'recovery_code' | 'webauthn';

export interface StepUpCaller {
  tenantId: number;
  userId: number;
  /** The caller's session; null (no session) can never hold a proof. */
  sessionId: string | null;
}

export async function recordStepUp(ctx: MfaDeps, caller: StepUpCaller, method: StepUpMethod) {
  if (!caller.sessionId) return;
  await ctx.store.set(keys.stepUp(caller.tenantId, caller.userId, caller.sessionId), method, STEP_UP_SECONDS);
}

/**
 * Refuses (403 STEP_UP_REQUIRED) unless this session proved a second factor in the last 5 minutes. A user with
 * no factor yet has nothing to prove with: the first enrolment needs no step-up.
 */
export async function requireStepUp(ctx: MfaDeps, caller: StepUpCaller): Promise<void> {
  const { tenantId, userId, sessionId } = caller;
  const flags = await ctx.database.withTenant(tenantId, (tx) => repo.mfaFlags(tx, tenantId, userId));
  if (!flags.totpEnabled && !flags.hasKeys) return;
  if (sessionId && (await ctx.store.get(keys.stepUp(tenantId, userId, sessionId)))) return;
  const methods: StepUpMethod[] = [];
  if (flags.totpEnabled) methods.push('totp', 'recovery_code');
  if (flags.hasKeys) methods.push('webauthn');
  throw mfaErrors.error('STEP_UP_REQUIRED', { max_age_seconds: STEP_UP_SECONDS, methods });
}

/**
 * For transactions that remove factors, after the removal: refuses (409 LAST_MFA_FACTOR, rolling it back) when
 * no factor is left while the tenant or one of the user's roles requires MFA. The transaction must hold
 * repo.lockUserFactors first, so two racing removals of the last two keys cannot both pass.
 */
export async function assertFactorLeft(tx: Tx, tenantId: number, userId: number): Promise<void> {
  const flags = await repo.mfaFlags(tx, tenantId, userId);
  const required = flags.tenantRequires || flags.roleRequires;
  if (required && !flags.totpEnabled && !flags.hasKeys) throw mfaErrors.error('LAST_MFA_FACTOR');
}

/**
 * For an action on ANOTHER user's factors (an admin's MFA reset): the caller must hold a second factor (403
 * OWN_MFA_REQUIRED otherwise: an administrator without one proves nothing) and have proven it with this session in
 * the last 5 minutes (403 STEP_UP_REQUIRED). Unlike requireStepUp, having no factor is no way around it.
 */
export async function requireOwnSecondFactor(ctx: MfaDeps, caller: StepUpCaller): Promise<void> {
  const { tenantId, userId } = caller;
  const flags = await ctx.database.withTenant(tenantId, (tx) => repo.mfaFlags(tx, tenantId, userId));
  if (!flags.totpEnabled && !flags.hasKeys) throw mfaErrors.error('OWN_MFA_REQUIRED');
  await requireStepUp(ctx, caller);
}
