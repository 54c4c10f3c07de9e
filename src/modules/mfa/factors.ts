/**
 * Checking a second factor: the lockout reservation, the code check, the anti-replay guard. Callers make their
 * state change afterwards, in their own transaction (with claimTotpStep / consumeRecoveryCode inside it).
 */

import { type AuditContext, writeAudit } from '../../platform/audit/writer.js';
import { keys } from '../../platform/store/keys.js';
import type { MfaDeps } from './deps.js';
import { mfaErrors, totpReplay } from './errors.js';
import { clearMfaAttempts, recordMfaFailure, reserveMfaAttempt } from './lockout.js';
import { findMatchingCode, normaliseRecoveryCode } from './recovery.js';
import * as repo from './repository.js';
import type { TotpRow } from './tables.js';
import { matchTotpStep, normaliseTotp, secondsUntilStepExpires } from './totp.js';

/** Binds a sealed TOTP secret to its row, so a ciphertext copied to another user's row does not decrypt. */
export const totpAad = (tenantId: number, userId: number) => `mfa_totp:${tenantId}:${userId}`;

export function openSecret(
  ctx: MfaDeps,
  row: Pick<TotpRow, 'tenantId' | 'userId' | 'secretEncrypted'>,
): string {
  return ctx.secretBox.decrypt(row.secretEncrypted, totpAad(row.tenantId, row.userId));
}

export interface AcceptedTotp {
  row: TotpRow;
  step: number;
}

/**
 * Checks a TOTP code against the user's secret (pending or enabled, per `needEnabled`). Refuses a wrong code
 * (400, counted toward the lock) and an already used step (429 TOTP_REPLAY, store-wide: every replica agrees).
 * `consume: false` (only /mfa/enable) neither checks nor marks the step: the confirming code stays usable.
 */
export async function acceptTotp(
  ctx: MfaDeps,
  tenantId: number,
  userId: number,
  rawCode: string,
  audit: AuditContext,
  purpose: string,
  opts: { row?: TotpRow | null; needEnabled?: boolean; consume?: boolean } = {},
): Promise<AcceptedTotp> {
  const row =
    opts.row !== undefined
      ? opts.row
      : await ctx.database.withTenant(tenantId, (tx) => repo.findTotp(tx, tenantId, userId));
  if (!row || ((opts.needEnabled ?? true) && !row.enabled)) throw mfaErrors.error('MFA_NOT_ENABLED');
  const ticket = await reserveMfaAttempt(ctx, tenantId, userId);
  const now = Date.now();
  const step = matchTotpStep(openSecret(ctx, row), normaliseTotp(rawCode), now);
  if (step === null) {
    await recordMfaFailure(ctx, ticket, audit, purpose, 'bad_totp');
    throw mfaErrors.error('INVALID_TOTP_CODE');
  }
  const ttl = secondsUntilStepExpires(step, now);
  const fresh =
    opts.consume === false ||
    ((row.lastUsedStep === null || step > row.lastUsedStep) &&
      (await ctx.store.setIfAbsent(keys.totpUsed(tenantId, userId, step), '1', ttl + 5)));
  if (!fresh) {
    // A correct but already used code: someone saw it. It counts toward the lock like a wrong one.
    await recordMfaFailure(ctx, ticket, audit, purpose, 'totp_replay');
    throw totpReplay(Math.min(ttl, 30 - (Math.floor(now / 1000) % 30)));
  }
  await clearMfaAttempts(ctx, tenantId, userId);
  return { row, step };
}

/**
 * Checks and consumes a recovery code in one transaction, with its `mfa.recovery_code_used` record (`via`: where
 * it was used); answers how many codes are left. Of two racing uses of one code exactly one wins.
 */
export async function useRecoveryCode(
  ctx: MfaDeps,
  tenantId: number,
  userId: number,
  rawCode: string,
  audit: AuditContext,
  purpose: string,
  via: string,
): Promise<{ remaining: number }> {
  const row = await ctx.database.withTenant(tenantId, (tx) => repo.findTotp(tx, tenantId, userId));
  if (!row?.enabled) throw mfaErrors.error('MFA_NOT_ENABLED');
  const ticket = await reserveMfaAttempt(ctx, tenantId, userId);
  const normalised = normaliseRecoveryCode(rawCode);
  const candidates = normalised
    ? (await ctx.database.withTenant(tenantId, (tx) => repo.listRecoveryCodes(tx, tenantId, userId))).filter(
        (c) => c.usedAt === null,
      )
    : [];
  // Hashing happens outside any transaction (argon2 on the thread pool).
  const id = normalised ? await findMatchingCode(ctx.hasher, normalised, candidates) : null;
  const outcome = id
    ? await ctx.database.withTenant(tenantId, async (tx) => {
        if (!(await repo.consumeRecoveryCode(tx, tenantId, id))) return null;
        const remaining = await repo.countUnusedRecoveryCodes(tx, tenantId, userId);
        await writeAudit(tx, tenantId, audit, {
          eventType: 'mfa.recovery_code_used',
          resourceType: 'user',
          resourceId: userId,
          metadata: { remaining, via },
        });
        return { remaining };
      })
    : null;
  if (!outcome) {
    await recordMfaFailure(
      ctx,
      ticket,
      audit,
      purpose,
      id ? 'recovery_code_already_used' : 'bad_recovery_code',
    );
    throw mfaErrors.error('INVALID_RECOVERY_CODE');
  }
  await clearMfaAttempts(ctx, tenantId, userId);
  return outcome;
}

/** Security alert mail; a mail failure never fails the request. */
export async function alert(ctx: MfaDeps, to: string | null, subject: string, text: string) {
  if (!to) return;
  await ctx.mailer
    .send({ to, subject: `MassaCorp: ${subject}`, text })
    .catch((err) => ctx.log.warn({ err }, 'MFA alert mail failed'));
}
