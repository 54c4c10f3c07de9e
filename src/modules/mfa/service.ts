/**
 * MFA policy (API.md §8): TOTP setup and enrolment, verification, disabling, recovery codes. Every state change
 * writes its audit record in the transaction that makes it; alert mails go out after the commit.
 */

import { type AuditContext, writeAudit } from '../../platform/audit/writer.js';
import type { Tx } from '../../platform/db/client.js';
import { bumpUserVersion } from '../../platform/store/versions.js';
import { resolveSettings } from '../tenants/index.js';
import { userById } from '../users/index.js';
import type { MfaDeps } from './deps.js';
import { mfaErrors, totpReplay } from './errors.js';
import { acceptTotp, alert, openSecret, totpAad, useRecoveryCode } from './factors.js';
import { assertMfaNotLocked } from './lockout.js';
import { generateRecoveryCodes } from './recovery.js';
import * as repo from './repository.js';
import { assertFactorLeft, recordStepUp, requireStepUp } from './step-up.js';
import { newTotpSecret, normaliseTotp, provisioningUri, qrCodeBase64 } from './totp.js';

export interface Caller {
  tenantId: number;
  userId: number;
  email: string | null;
  /** The caller's session: step-up proofs are recorded and checked per session. */
  sessionId: string | null;
}

/** ctx.mfa.status: enabled = a confirmed TOTP or a registered security key; required = tenant or a role says so. */
export async function mfaStatus(ctx: MfaDeps, tx: Tx, tenantId: number, userId: number) {
  // On every login, refresh and /auth/me: one round trip for the factors, the tenant setting and the roles.
  const flags = await repo.mfaFlags(tx, tenantId, userId);
  const tenantRequires = resolveSettings({ mfa_required: flags.tenantRequires }, ctx.config).mfa_required;
  return {
    enabled: flags.totpEnabled || flags.hasKeys,
    required: tenantRequires || flags.roleRequires,
    changesAt: flags.changesAt,
  };
}

async function emailOf(ctx: MfaDeps, caller: Caller): Promise<string | null> {
  if (caller.email) return caller.email;
  const u = await ctx.database.withTenant(caller.tenantId, (tx) =>
    userById(tx, caller.tenantId, caller.userId),
  );
  return u?.email ?? null;
}

/**
 * Starts (or resumes) TOTP enrolment: the same secret comes back until MFA is enabled. With TOTP on it is 400;
 * with a security key only, MFA is on and revealing a secret that adds a factor needs step-up.
 */
export async function setup(ctx: MfaDeps, caller: Caller, audit: AuditContext) {
  const { tenantId, userId } = caller;
  await assertMfaNotLocked(ctx, tenantId, userId);
  const current = await ctx.database.withTenant(tenantId, (tx) => repo.findTotp(tx, tenantId, userId));
  if (current?.enabled) throw mfaErrors.error('MFA_ALREADY_ENABLED');
  await requireStepUp(ctx, caller);
  const email = (await emailOf(ctx, caller)) ?? `user-${userId}`;
  const row = await ctx.database.withTenant(tenantId, async (tx) => {
    const existing = await repo.findTotp(tx, tenantId, userId);
    if (existing?.enabled) throw mfaErrors.error('MFA_ALREADY_ENABLED');
    if (existing) return existing;
    const created = await repo.insertPendingTotp(
      tx,
      tenantId,
      userId,
      ctx.secretBox.encrypt(newTotpSecret(), totpAad(tenantId, userId)),
    );
    await writeAudit(tx, tenantId, audit, {
      eventType: 'mfa.setup_started',
      resourceType: 'user',
      resourceId: userId,
    });
    return created;
  });
  const secret = openSecret(ctx, row);
  const uri = provisioningUri(secret, email);
  return {
    success: true,
    message: 'mfa.setup_started' as const,
    secret,
    provisioning_uri: uri,
    qr_code_base64: await qrCodeBase64(uri),
  };
}

/**
 * Confirms the pending secret with a first code; returns the 10 recovery codes (shown once). The code's step is
 * not consumed (API.md §8: clients call /mfa/verify with it right after); it is no step-up proof either.
 */
export async function enable(ctx: MfaDeps, caller: Caller, code: string, audit: AuditContext) {
  const { tenantId, userId } = caller;
  const row = await ctx.database.withTenant(tenantId, (tx) => repo.findTotp(tx, tenantId, userId));
  if (!row) throw mfaErrors.error('MFA_NOT_CONFIGURED');
  if (row.enabled) throw mfaErrors.error('MFA_ALREADY_ENABLED');
  await acceptTotp(ctx, tenantId, userId, code, audit, 'enable', { row, needEnabled: false, consume: false });
  const { codes, hashes } = await generateRecoveryCodes(ctx.hasher);
  await ctx.database.withTenant(tenantId, async (tx) => {
    if (!(await repo.enableTotp(tx, tenantId, userId))) throw mfaErrors.error('MFA_ALREADY_ENABLED');
    await repo.replaceRecoveryCodes(tx, tenantId, userId, hashes);
    await writeAudit(tx, tenantId, audit, {
      eventType: 'mfa.enabled',
      resourceType: 'user',
      resourceId: userId,
      metadata: { method: 'totp', recovery_codes: codes.length },
    });
  });
  // After the commit: every replica's cached identity (/auth/me mfa_enabled) is re-read.
  await bumpUserVersion(ctx.store, tenantId, userId);
  return { success: true, message: 'mfa.enabled' as const, enabled: true as const, recovery_codes: codes };
}

/**
 * Turns MFA off (TOTP, recovery codes and security keys) after a valid TOTP code (the code is the proof), unless
 * the tenant or a role requires MFA (409 LAST_MFA_FACTOR: no factor would be left).
 */
export async function disable(ctx: MfaDeps, caller: Caller, code: string, audit: AuditContext) {
  const { tenantId, userId } = caller;
  const { step } = await acceptTotp(ctx, tenantId, userId, code, audit, 'disable');
  await ctx.database.withTenant(tenantId, async (tx) => {
    await repo.lockUserFactors(tx, tenantId, userId);
    if (!(await repo.claimTotpStep(tx, tenantId, userId, step, false))) throw totpReplay(30);
    await repo.deleteTotp(tx, tenantId, userId);
    await repo.deleteRecoveryCodes(tx, tenantId, userId);
    await repo.deleteCredentials(tx, tenantId, userId);
    await assertFactorLeft(tx, tenantId, userId);
    await writeAudit(tx, tenantId, audit, {
      eventType: 'mfa.disabled',
      resourceType: 'user',
      resourceId: userId,
    });
  });
  await bumpUserVersion(ctx.store, tenantId, userId);
  await alert(
    ctx,
    await emailOf(ctx, caller),
    'MFA désactivé / MFA disabled',
    'Multi-factor authentication was disabled on your account. If this was not you, contact your administrator at once.',
  );
  return { success: true, message: 'mfa.disabled' as const, enabled: false as const };
}

export async function status(ctx: MfaDeps, caller: Caller) {
  const { tenantId, userId } = caller;
  return ctx.database.withTenant(tenantId, async (tx) => {
    const row = await repo.findTotp(tx, tenantId, userId);
    const remaining = row?.enabled ? await repo.countUnusedRecoveryCodes(tx, tenantId, userId) : 0;
    return {
      success: true,
      enabled: Boolean(row?.enabled),
      configured: Boolean(row),
      recovery_codes_remaining: remaining,
      last_used_at: row?.lastUsedAt?.toISOString() ?? null,
      created_at: row?.createdAt.toISOString() ?? null,
    };
  });
}

/**
 * POST /mfa/verify (step-up): a TOTP code, or, as the 6–9 character bound of the contract allows, a recovery
 * code (which is then spent, exactly as at /mfa/recovery/verify).
 */
export async function verify(ctx: MfaDeps, caller: Caller, code: string, audit: AuditContext) {
  const { tenantId, userId } = caller;
  if (!/^\d{6}$/.test(normaliseTotp(code))) {
    await verifyRecovery(ctx, caller, code, audit);
    return { success: true, message: 'mfa.recovery_code_valid' as const, data: { valid: true } };
  }
  const { step } = await acceptTotp(ctx, tenantId, userId, code, audit, 'verify');
  await ctx.database.withTenant(tenantId, async (tx) => {
    if (!(await repo.claimTotpStep(tx, tenantId, userId, step, false))) throw totpReplay(30);
    await writeAudit(tx, tenantId, audit, {
      eventType: 'mfa.verified',
      resourceType: 'user',
      resourceId: userId,
      metadata: { method: 'totp' },
    });
  });
  await recordStepUp(ctx, caller, 'totp');
  return { success: true, message: 'mfa.totp_valid' as const, data: { valid: true } };
}

export async function verifyRecovery(ctx: MfaDeps, caller: Caller, code: string, audit: AuditContext) {
  const { tenantId, userId } = caller;
  const { remaining } = await useRecoveryCode(
    ctx,
    tenantId,
    userId,
    code,
    audit,
    'recovery_verify',
    'mfa_recovery_verify',
  );
  await recordStepUp(ctx, caller, 'recovery_code');
  await alert(
    ctx,
    await emailOf(ctx, caller),
    'code de récupération utilisé / recovery code used',
    `A recovery code was used on your account (${remaining} left). If this was not you, contact your administrator at once.`,
  );
  return { success: true, valid: true, recovery_codes_remaining: remaining };
}

/**
 * New set of 10 codes after a valid TOTP code; the old ones stop working in the same transaction. The fresh
 * code is the step-up proof itself (and counts as one for the next 5 minutes).
 */
export async function regenerate(ctx: MfaDeps, caller: Caller, code: string, audit: AuditContext) {
  const { tenantId, userId } = caller;
  const { step } = await acceptTotp(ctx, tenantId, userId, code, audit, 'regenerate');
  const { codes, hashes } = await generateRecoveryCodes(ctx.hasher);
  await ctx.database.withTenant(tenantId, async (tx) => {
    if (!(await repo.claimTotpStep(tx, tenantId, userId, step, false))) throw totpReplay(30);
    await repo.replaceRecoveryCodes(tx, tenantId, userId, hashes);
    await writeAudit(tx, tenantId, audit, {
      eventType: 'mfa.recovery_codes_regenerated',
      resourceType: 'user',
      resourceId: userId,
      metadata: { count: codes.length },
    });
  });
  await recordStepUp(ctx, caller, 'totp');
  await alert(
    ctx,
    await emailOf(ctx, caller),
    'codes de récupération régénérés / recovery codes regenerated',
    'New recovery codes were generated for your account; the previous ones no longer work. If this was not you, contact your administrator at once.',
  );
  return { success: true, recovery_codes: codes };
}

/** GDPR export: state and metadata only, never the secret, code hashes or public keys. */
export async function gdprExport(tx: Tx, tenantId: number, userId: number) {
  // Sequential: one transaction is one connection.
  const totp = await repo.findTotp(tx, tenantId, userId);
  const codes = await repo.listRecoveryCodes(tx, tenantId, userId);
  const creds = await repo.listCredentials(tx, tenantId, userId);
  return {
    totp: totp
      ? {
          enabled: totp.enabled,
          created_at: totp.createdAt.toISOString(),
          enabled_at: totp.enabledAt?.toISOString() ?? null,
          last_used_at: totp.lastUsedAt?.toISOString() ?? null,
        }
      : null,
    recovery_codes: codes.map((c) => ({
      created_at: c.createdAt.toISOString(),
      used_at: c.usedAt?.toISOString() ?? null,
    })),
    webauthn_credentials: creds.map((c) => ({
      id: c.id,
      name: c.name,
      created_at: c.createdAt.toISOString(),
      last_used_at: c.lastUsedAt?.toISOString() ?? null,
    })),
  };
}

export async function gdprErase(tx: Tx, tenantId: number, userId: number) {
  await repo.deleteTotp(tx, tenantId, userId);
  await repo.deleteRecoveryCodes(tx, tenantId, userId);
  await repo.deleteCredentials(tx, tenantId, userId);
}
