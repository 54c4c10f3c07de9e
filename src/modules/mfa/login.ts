/**
 * The second sign-in step (POST /auth/login/mfa) and the one-step login with `mfa_code` (ctx.mfa.inlineLogin).
 * The MFA step token (5 min, from the password step) is single-use: once a factor succeeded with it, it is spent.
 */

import type { Static } from '@sinclair/typebox';
import { type AuditContext, writeAudit } from '../../platform/audit/writer.js';
import { JwtError } from '../../platform/crypto/jwt.js';
import { AppError, platformErrors, validationError } from '../../platform/http/errors.js';
import { keys } from '../../platform/store/keys.js';
import { completeLogin, loginResponse, MFA_STEP_TOKEN, mfaStepVia } from '../auth/index.js';
import type { ClientInfo } from '../sessions/index.js';
import { resolveTenantHeader, type TenantRow } from '../tenants/index.js';
import { type UserRow, userById } from '../users/index.js';
import type { MfaDeps } from './deps.js';
import { mfaErrors, totpReplay } from './errors.js';
import { acceptTotp, alert, useRecoveryCode } from './factors.js';
import * as repo from './repository.js';
import type { LoginMfaBody } from './schemas.js';
import { recordStepUp, type StepUpMethod } from './step-up.js';
import { normaliseTotp } from './totp.js';
import { acceptAssertion, authenticationOptions } from './webauthn.js';

type Method = 'mfa_totp' | 'mfa_recovery_code' | 'mfa_webauthn';
const stepUpMethod: Record<Method, StepUpMethod> = {
  mfa_totp: 'totp',
  mfa_recovery_code: 'recovery_code',
  mfa_webauthn: 'webauthn',
};

/** What /auth/login/mfa answers 401 MFA_INVALID for (API.md §8): a wrong, used or replayed code. */
const INVALID_CODE = new Set([
  'INVALID_TOTP_CODE',
  'INVALID_RECOVERY_CODE',
  'TOTP_REPLAY',
  'MFA_NOT_ENABLED',
]);

/** The new session proved its second factor now: it counts as step-up for 5 minutes. */
async function stepUpFromLogin(ctx: MfaDeps, tenantId: number, userId: number, sessionId: string, m: Method) {
  // The session is committed already; a store failure here only means the user steps up again later.
  await recordStepUp(ctx, { tenantId, userId, sessionId }, stepUpMethod[m]).catch((err) =>
    ctx.log.warn({ err }, 'could not record the sign-in step-up'),
  );
}

/** Checks one factor for a user who passed the password step; returns the sign-in method for the audit. */
async function checkFactor(
  ctx: MfaDeps,
  tenant: TenantRow,
  user: UserRow,
  factor: { totp_code?: string; recovery_code?: string; webauthn_response?: unknown },
  audit: AuditContext,
): Promise<Method> {
  const tenantId = tenant.id;
  if (factor.totp_code !== undefined) {
    const { step } = await acceptTotp(ctx, tenantId, user.id, factor.totp_code, audit, 'login');
    await ctx.database.withTenant(tenantId, async (tx) => {
      if (!(await repo.claimTotpStep(tx, tenantId, user.id, step, false))) throw totpReplay(30);
      await writeAudit(tx, tenantId, audit, {
        eventType: 'mfa.verified',
        resourceType: 'user',
        resourceId: user.id,
        metadata: { method: 'totp', via: 'login' },
      });
    });
    return 'mfa_totp';
  }
  if (factor.recovery_code !== undefined) {
    const { remaining } = await useRecoveryCode(
      ctx,
      tenantId,
      user.id,
      factor.recovery_code,
      audit,
      'login_recovery',
      'login',
    );
    await alert(
      ctx,
      user.email,
      'code de récupération utilisé / recovery code used',
      `A recovery code was used to sign in to your account (${remaining} left). If this was not you, contact your administrator at once.`,
    );
    return 'mfa_recovery_code';
  }
  await acceptAssertion(ctx, tenantId, user.id, factor.webauthn_response, audit);
  return 'mfa_webauthn';
}

/** Resolves the MFA step token against the X-Tenant-ID header; any mismatch is an invalid token. */
async function stepHolder(ctx: MfaDeps, tenantHeader: string | string[] | undefined, token: string) {
  const tenant = await resolveTenantHeader(ctx, tenantHeader);
  const claims = await ctx.jwt.verifyPurpose(token, MFA_STEP_TOKEN).catch((err: unknown) => {
    throw platformErrors.error(
      err instanceof JwtError && err.reason === 'expired' ? 'TOKEN_EXPIRED' : 'TOKEN_INVALID',
    );
  });
  if (!tenant || claims.tenant_id !== tenant.id) throw platformErrors.error('TOKEN_INVALID');
  if (await ctx.store.get(keys.mfaConsumed(`step:${claims.jti}`)))
    throw platformErrors.error('TOKEN_INVALID');
  const user = await ctx.database.withTenant(tenant.id, (tx) => userById(tx, tenant.id, Number(claims.sub)));
  if (!user?.isActive) throw platformErrors.error('TOKEN_INVALID');
  return { tenant, user, jti: claims.jti, via: mfaStepVia(claims) };
}

export async function loginMfa(
  ctx: MfaDeps,
  tenantHeader: string | string[] | undefined,
  body: Static<typeof LoginMfaBody>,
  client: ClientInfo,
  audit: AuditContext,
) {
  const given = [body.totp_code, body.recovery_code, body.webauthn_response].filter(
    (v) => v !== undefined,
  ).length;
  if (given !== 1)
    throw validationError('body', 'exactly one of totp_code, recovery_code, webauthn_response is required');
  const { tenant, user, jti, via } = await stepHolder(ctx, tenantHeader, body.mfa_session_token);
  const userAudit: AuditContext = { ...audit, actorType: 'user', actorId: String(user.id) };
  const method = await checkFactor(ctx, tenant, user, body, userAudit).catch((err: unknown) => {
    // Codes only: the lock stays 429 MFA_LOCKED, a WebAuthn failure keeps its own 400 code.
    if (err instanceof AppError && INVALID_CODE.has(err.code) && body.webauthn_response === undefined)
      throw mfaErrors.error('MFA_INVALID');
    throw err;
  });
  // Two racing requests with one step token (say a TOTP and a recovery code) open at most one session.
  if (
    !(await ctx.store.setIfAbsent(keys.mfaConsumed(`step:${jti}`), '1', ctx.config.mfaSessionLifetime + 60))
  ) {
    throw platformErrors.error('TOKEN_INVALID');
  }
  // The session is one of the first factor's (an SSO sign-in stays one for sso_required).
  const tokens = await completeLogin(ctx, tenant, user, client, userAudit, { method, via });
  await stepUpFromLogin(ctx, tenant.id, user.id, tokens.session_id, method);
  return {
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    token_type: 'bearer' as const,
    expires_in: tokens.expires_in,
  };
}

export async function loginWebauthnOptions(
  ctx: MfaDeps,
  tenantHeader: string | string[] | undefined,
  token: string,
) {
  const { tenant, user } = await stepHolder(ctx, tenantHeader, token);
  return authenticationOptions(ctx, tenant.id, user.id);
}

/** ctx.mfa.inlineLogin: `mfa_code` sent with the password; 6 digits is a TOTP code, otherwise a recovery code. */
export async function inlineLogin(
  ctx: MfaDeps,
  tenant: TenantRow,
  user: UserRow,
  code: string,
  client: ClientInfo,
  audit: AuditContext,
) {
  const isTotp = /^\d{6}$/.test(normaliseTotp(code));
  const method = await checkFactor(
    ctx,
    tenant,
    user,
    isTotp ? { totp_code: code } : { recovery_code: code },
    audit,
  );
  const tokens = await completeLogin(ctx, tenant, user, client, audit, {
    method,
    via: { method: 'password', ssoConnectionId: null },
  });
  await stepUpFromLogin(ctx, tenant.id, user.id, tokens.session_id, method);
  return loginResponse(tokens, 'auth.login_success');
}
