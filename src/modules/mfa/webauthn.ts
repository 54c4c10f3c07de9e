import { notFound, platformErrors } from '../../platform/http/errors.js';
import type { MfaDeps } from './deps.js';
/**
 * WebAuthn (passkeys, security keys) as a second factor with @simplewebauthn/server. Challenges live in the
 * store for 5 minutes and are consumed once; the relying party id and origin come from config
 * (WEBAUTHN_RP_ID, WEBAUTHN_ORIGIN). Attestation is `none`: we trust the key, not the vendor.
 */

import {
  type AuthenticationResponseJSON,
  type AuthenticatorTransportFuture,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type { Static } from '@sinclair/typebox';
import { type AuditContext, writeAudit } from '../../platform/audit/writer.js';
import { keys } from '../../platform/store/keys.js';
import { bumpUserVersion } from '../../platform/store/versions.js';
import { userById } from '../users/index.js';
import { mfaErrors } from './errors.js';
import { alert } from './factors.js';
import { assertMfaNotLocked, clearMfaAttempts, recordMfaFailure, reserveMfaAttempt } from './lockout.js';
import * as repo from './repository.js';
import type { RegisterVerifyBody } from './schemas.js';
import { assertFactorLeft, recordStepUp, requireStepUp, type StepUpCaller } from './step-up.js';
import type { WebauthnCredentialRow } from './tables.js';

const CHALLENGE_TTL = 300;
const RP_NAME = 'MassaCorp';

export function credentialRead(c: WebauthnCredentialRow) {
  return {
    id: c.id,
    name: c.name,
    credential_id: c.credentialId,
    transports: c.transports,
    device_type: c.deviceType,
    backed_up: c.backedUp,
    created_at: c.createdAt.toISOString(),
    last_used_at: c.lastUsedAt?.toISOString() ?? null,
  };
}

/** Reads a stored challenge and makes sure only one request can ever use it. */
async function takeChallenge(ctx: MfaDeps, key: string): Promise<string | null> {
  const challenge = await ctx.store.get(key);
  if (!challenge) return null;
  if (!(await ctx.store.setIfAbsent(keys.mfaConsumed(`wa:${challenge}`), '1', CHALLENGE_TTL))) return null;
  await ctx.store.del(key);
  return challenge;
}

type Caller = StepUpCaller & { email: string | null };

/** Adding a key is a factor change: step-up once the user has a factor (checked here and at verify). */
export async function registrationOptions(ctx: MfaDeps, caller: Caller) {
  const { tenantId, userId } = caller;
  await requireStepUp(ctx, caller);
  const { user, creds } = await ctx.database.withTenant(tenantId, async (tx) => ({
    user: await userById(tx, tenantId, userId),
    creds: await repo.listCredentials(tx, tenantId, userId),
  }));
  if (!user) throw notFound('user');
  const options = await generateRegistrationOptions({
    rpName: RP_NAME,
    rpID: ctx.config.webauthnRpId,
    userName: user.email,
    // A stable, opaque handle: no email or database id inside the authenticator.
    userID: new TextEncoder().encode(`${tenantId}.${userId}`),
    attestationType: 'none',
    excludeCredentials: creds.map((c) => ({
      id: c.credentialId,
      transports: c.transports as AuthenticatorTransportFuture[],
    })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    timeout: CHALLENGE_TTL * 1000,
  });
  await ctx.store.set(keys.webauthnChallenge('reg', tenantId, userId), options.challenge, CHALLENGE_TTL);
  return options;
}

export async function registerCredential(
  ctx: MfaDeps,
  caller: Caller,
  body: Static<typeof RegisterVerifyBody>,
  audit: AuditContext,
) {
  const { tenantId, userId } = caller;
  await requireStepUp(ctx, caller);
  const challenge = await takeChallenge(ctx, keys.webauthnChallenge('reg', tenantId, userId));
  if (!challenge)
    throw mfaErrors.error('WEBAUTHN_VERIFICATION_FAILED', {
      reason: 'no pending registration (call register/options first)',
    });
  const verification = await verifyRegistrationResponse({
    response: body.response as RegistrationResponseJSON,
    expectedChallenge: challenge,
    expectedOrigin: ctx.config.webauthnOrigin,
    expectedRPID: ctx.config.webauthnRpId,
    requireUserVerification: false,
  }).catch((err: Error) => {
    throw mfaErrors.error('WEBAUTHN_VERIFICATION_FAILED', { reason: err.message.slice(0, 200) });
  });
  if (!verification.verified) throw mfaErrors.error('WEBAUTHN_VERIFICATION_FAILED');
  const info = verification.registrationInfo;
  const row = await ctx.database.withTenant(tenantId, async (tx) => {
    if (await repo.findCredentialByCredentialId(tx, tenantId, userId, info.credential.id))
      throw platformErrors.error('ALREADY_EXISTS', { field: 'credential_id' });
    const created = await repo.insertCredential(tx, tenantId, {
      userId,
      credentialId: info.credential.id,
      publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
      counter: info.credential.counter,
      transports: info.credential.transports ?? [],
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      name: body.name?.trim() || 'Security key',
    });
    await writeAudit(tx, tenantId, audit, {
      eventType: 'mfa.webauthn_registered',
      resourceType: 'webauthn_credential',
      resourceId: created.id,
      metadata: { name: created.name, device_type: created.deviceType },
    });
    return created;
  });
  // After the commit: every replica's cached identity (/auth/me mfa_enabled) is re-read.
  await bumpUserVersion(ctx.store, tenantId, userId);
  // A new second factor is worth telling the owner about: a stolen session could plant its own key.
  const to =
    caller.email ??
    (await ctx.database.withTenant(tenantId, (tx) => userById(tx, tenantId, userId)))?.email ??
    null;
  await alert(
    ctx,
    to,
    'clé de sécurité ajoutée / security key added',
    `The security key "${row.name}" was added to your account. If this was not you, remove it and contact your administrator at once.`,
  );
  return credentialRead(row);
}

export async function listCredentials(ctx: MfaDeps, caller: { tenantId: number; userId: number }) {
  const rows = await ctx.database.withTenant(caller.tenantId, (tx) =>
    repo.listCredentials(tx, caller.tenantId, caller.userId),
  );
  return { credentials: rows.map(credentialRead), total: rows.length };
}

/** Needs step-up; the last factor stays while the tenant or a role requires MFA (409 LAST_MFA_FACTOR). */
export async function deleteCredential(ctx: MfaDeps, caller: Caller, id: string, audit: AuditContext) {
  const { tenantId, userId } = caller;
  await requireStepUp(ctx, caller);
  const deleted = await ctx.database.withTenant(tenantId, async (tx) => {
    await repo.lockUserFactors(tx, tenantId, userId);
    const row = await repo.deleteCredential(tx, tenantId, userId, id);
    if (!row) throw notFound('webauthn_credential');
    await assertFactorLeft(tx, tenantId, userId);
    await writeAudit(tx, tenantId, audit, {
      eventType: 'mfa.webauthn_deleted',
      resourceType: 'webauthn_credential',
      resourceId: id,
      metadata: { name: row.name },
    });
    return row;
  });
  await bumpUserVersion(ctx.store, tenantId, userId);
  await alert(
    ctx,
    caller.email,
    'clé de sécurité supprimée / security key removed',
    `The security key "${deleted.name}" was removed from your account. If this was not you, contact your administrator at once.`,
  );
  return { success: true, message: 'mfa.key_removed' as const, data: null };
}

/**
 * Challenge for an assertion: the login step (`auth`, holder of the MFA step token) or a signed-in user's
 * step-up (`step`). Separate challenges, so one flow does not overwrite the other's.
 */
export async function authenticationOptions(
  ctx: MfaDeps,
  tenantId: number,
  userId: number,
  kind: 'auth' | 'step' = 'auth',
) {
  await assertMfaNotLocked(ctx, tenantId, userId);
  const creds = await ctx.database.withTenant(tenantId, (tx) => repo.listCredentials(tx, tenantId, userId));
  if (creds.length === 0) throw mfaErrors.error('WEBAUTHN_NOT_CONFIGURED');
  const options = await generateAuthenticationOptions({
    rpID: ctx.config.webauthnRpId,
    allowCredentials: creds.map((c) => ({
      id: c.credentialId,
      transports: c.transports as AuthenticatorTransportFuture[],
    })),
    userVerification: 'preferred',
    timeout: CHALLENGE_TTL * 1000,
  });
  await ctx.store.set(keys.webauthnChallenge(kind, tenantId, userId), options.challenge, CHALLENGE_TTL);
  return options;
}

/** Verifies an assertion as a second factor; counted toward the MFA lock like a code. */
export async function acceptAssertion(
  ctx: MfaDeps,
  tenantId: number,
  userId: number,
  response: unknown,
  audit: AuditContext,
  kind: 'auth' | 'step' = 'auth',
) {
  const ticket = await reserveMfaAttempt(ctx, tenantId, userId);
  const fail = async (reason: string): Promise<never> => {
    await recordMfaFailure(
      ctx,
      ticket,
      audit,
      kind === 'auth' ? 'login_webauthn' : 'step_up_webauthn',
      reason,
    );
    throw mfaErrors.error('WEBAUTHN_VERIFICATION_FAILED');
  };
  const assertion = response as AuthenticationResponseJSON;
  const cred =
    typeof assertion?.id === 'string'
      ? await ctx.database.withTenant(tenantId, (tx) =>
          repo.findCredentialByCredentialId(tx, tenantId, userId, assertion.id),
        )
      : null;
  if (!cred) return fail('unknown_credential');
  const challenge = await takeChallenge(ctx, keys.webauthnChallenge(kind, tenantId, userId));
  if (!challenge) return fail('no_challenge');
  const verification = await verifyAuthenticationResponse({
    response: assertion,
    expectedChallenge: challenge,
    expectedOrigin: ctx.config.webauthnOrigin,
    expectedRPID: ctx.config.webauthnRpId,
    credential: {
      id: cred.credentialId,
      publicKey: new Uint8Array(Buffer.from(cred.publicKey, 'base64url')),
      counter: cred.counter,
      transports: cred.transports as AuthenticatorTransportFuture[],
    },
    requireUserVerification: false,
  }).catch(() => null);
  if (!verification?.verified) return fail('bad_assertion');
  const bumped = await ctx.database.withTenant(tenantId, async (tx) => {
    if (
      !(await repo.bumpCredentialCounter(tx, tenantId, cred.id, verification.authenticationInfo.newCounter))
    )
      return false;
    await writeAudit(tx, tenantId, audit, {
      eventType: 'mfa.verified',
      resourceType: 'webauthn_credential',
      resourceId: cred.id,
      metadata: { method: 'webauthn', via: kind === 'auth' ? 'login' : 'step_up' },
    });
    return true;
  });
  if (!bumped) return fail('counter_regressed');
  await clearMfaAttempts(ctx, tenantId, userId);
  return cred;
}

/** POST /mfa/webauthn/verify: a signed-in user proves a security key (step-up; the only way with keys alone). */
export async function stepUpVerify(ctx: MfaDeps, caller: Caller, response: unknown, audit: AuditContext) {
  await acceptAssertion(ctx, caller.tenantId, caller.userId, response, audit, 'step');
  await recordStepUp(ctx, caller, 'webauthn');
  return { success: true, message: 'mfa.key_verified' as const, data: { valid: true } };
}
