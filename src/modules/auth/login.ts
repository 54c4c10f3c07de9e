/**
 * Password sign-in (API.md §5 POST /auth/login) and the last step every sign-in shares (completeLogin), also
 * used by the MFA and SSO steps. Hashing happens outside database transactions.
 */

import type { Static } from '@sinclair/typebox';
import { writeAuditAlone } from '../../platform/audit/alone.js';
import { type AuditContext, writeAudit } from '../../platform/audit/writer.js';
import type { SignInVia } from '../../platform/context.js';
import { AppError } from '../../platform/http/errors.js';
import { type ClientInfo, openSession } from '../sessions/index.js';
import { getTenant, resolveSettings, resolveTenantId, type TenantRow } from '../tenants/index.js';
import { recordUserLogin, type UserRow, userByEmail } from '../users/index.js';
import type { AuthDeps } from './deps.js';
import { type AuthMessage, authError } from './errors.js';
import { passwordSignInRefusal, signInRefusal } from './hooks.js';
import { clearLoginAttempts, recordLoginFailure, reserveLoginAttempt } from './lockout.js';
import type { LoginBody } from './schemas.js';

/** The body of a sign-in answer; `message` is a catalogue key, which the route turns into the caller's language. */
export interface LoginResponse {
  success: boolean;
  access_token: string | null;
  refresh_token: string | null;
  token_type: 'bearer';
  expires_in: number | null;
  mfa_required: boolean;
  mfa_session_token: string | null;
  captcha_required: boolean;
  captcha_site_key: string | null;
  message: AuthMessage;
}

export const MFA_STEP_TOKEN = 'mfa_step';

export async function login(
  ctx: AuthDeps,
  tenantHeader: string | string[] | undefined,
  body: Static<typeof LoginBody>,
  client: ClientInfo,
  audit: AuditContext,
): Promise<LoginResponse> {
  const tenantId = await resolveTenantId(ctx, tenantHeader);
  const email = body.email.toLowerCase();
  // One transaction loads the tenant, the user and their MFA state.
  const found = tenantId
    ? await ctx.database.withTenant(tenantId, async (tx) => {
        const tenant = await getTenant(tx, tenantId);
        if (tenant?.status !== 'active') return null;
        // Refusals by policy (SSO required for the domain) come before the password is looked at: they
        // depend on the address only, so they neither reveal whether the account exists nor test the password.
        const refusal = await passwordSignInRefusal(ctx, tx, tenant, email);
        if (refusal) return { tenant, refusal };
        const user = await userByEmail(tx, tenantId, email);
        const mfa = user ? await ctx.mfa.status(tx, tenantId, user.id) : null;
        return { tenant, user, mfa, refusal: null };
      })
    : null;
  if (!found) {
    await ctx.hasher.verifyDummy(body.password);
    ctx.metrics.logins.inc({ result: 'failure' });
    throw authError('INVALID_CREDENTIALS');
  }
  if (found.refusal) {
    const { refusal } = found;
    await writeAuditAlone(ctx, found.tenant.id, audit, {
      eventType: 'auth.login_failed',
      success: false,
      resourceType: 'user',
      metadata: { email, reason: refusal.code.toLowerCase() },
    });
    ctx.metrics.logins.inc({ result: 'failure' });
    throw new AppError(refusal.status, refusal.code, refusal.details);
  }
  const { tenant, user } = found;
  const ticket = await reserveLoginAttempt(ctx, tenant.id, email).catch(async (err) => {
    if (err instanceof AppError) {
      await writeAuditAlone(ctx, tenant.id, audit, {
        eventType: 'auth.login_locked',
        success: false,
        resourceType: 'user',
        metadata: { email },
      });
      ctx.metrics.logins.inc({ result: 'locked' });
    }
    throw err;
  });
  const ok = user
    ? await ctx.hasher.verify(user.passwordHash, body.password)
    : await ctx.hasher.verifyDummy(body.password);
  if (!ok || !user?.isActive) {
    await recordLoginFailure(ctx, tenant.id, email, ticket);
    await writeAuditAlone(ctx, tenant.id, audit, {
      eventType: 'auth.login_failed',
      success: false,
      actorType: user ? 'user' : 'system',
      actorId: user?.id ?? null,
      resourceType: 'user',
      resourceId: user?.id ?? null,
      metadata: {
        email,
        reason: !user ? 'unknown_email' : !ok ? 'bad_password' : 'inactive',
        locked: ticket?.locksOnFailure ?? false,
      },
    });
    if (ticket?.locksOnFailure) {
      await writeAuditAlone(ctx, tenant.id, audit, {
        eventType: 'auth.account_locked',
        success: false,
        actorType: 'system',
        resourceType: 'user',
        resourceId: user?.id ?? null,
        metadata: { email },
      });
    }
    ctx.metrics.logins.inc({ result: 'failure' });
    throw authError('INVALID_CREDENTIALS');
  }
  await clearLoginAttempts(ctx, tenant.id, email);
  const rehash = ctx.hasher.needsRehash(user.passwordHash!) ? await ctx.hasher.hash(body.password) : null;
  const userAudit = { ...audit, actorType: 'user' as const, actorId: String(user.id) };

  const mfa = found.mfa!;
  if (mfa.enabled) {
    if (rehash)
      await ctx.database.withTenant(tenant.id, (tx) => recordUserLogin(tx, tenant.id, user.id, rehash));
    if (body.mfa_code) return ctx.mfa.inlineLogin(tenant, user, body.mfa_code, client, userAudit);
    return mfaRequiredResponse(ctx, tenant, user, userAudit);
  }
  const tokens = await completeLogin(ctx, tenant, user, client, userAudit, {
    method: 'password',
    rehash,
    mfaEnrolmentPending: mfa.required,
  });
  return loginResponse(tokens, mfa.required ? 'auth.login_mfa_enrolment' : 'auth.login_success');
}

/**
 * The first factor is proven and the user has MFA: the answer that sends the client to POST /auth/login/mfa
 * with a short-lived step token (password sign-in, and SSO sign-ins whose connection is not trusted for MFA).
 */
export async function mfaRequiredResponse(
  ctx: AuthDeps,
  tenant: TenantRow,
  user: UserRow,
  audit: AuditContext,
  metadata?: Record<string, unknown>,
  via?: SignInVia,
): Promise<LoginResponse> {
  const token = await ctx.jwt.signPurpose(
    MFA_STEP_TOKEN,
    {
      sub: String(user.id),
      tenant_id: tenant.id,
      email: user.email,
      // The first factor travels (signed) to the MFA step, which opens the session: an SSO sign-in finished
      // with a TOTP code is still a session of its connection for sso_required (mfaStepVia).
      ...(via ? { first_factor: via.method, sso_connection_id: via.ssoConnectionId } : {}),
    },
    ctx.config.mfaSessionLifetime,
  );
  await writeAuditAlone(ctx, tenant.id, audit, {
    eventType: 'auth.mfa_required',
    resourceType: 'user',
    resourceId: user.id,
    ...(metadata ? { metadata } : {}),
  });
  ctx.metrics.logins.inc({ result: 'mfa_required' });
  return {
    success: true,
    access_token: null,
    refresh_token: null,
    token_type: 'bearer',
    expires_in: null,
    mfa_required: true,
    mfa_session_token: token,
    captcha_required: false,
    captcha_site_key: null,
    message: 'auth.mfa_required',
  };
}

export function loginResponse(
  tokens: { access_token: string; refresh_token: string; expires_in: number },
  message: AuthMessage,
): LoginResponse {
  return {
    success: true,
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    token_type: 'bearer',
    expires_in: tokens.expires_in,
    mfa_required: false,
    mfa_session_token: null,
    captcha_required: false,
    captcha_site_key: null,
    message,
  };
}

/** The first factor an MFA step token carries (mfaRequiredResponse); a password sign-in's token carries none. */
export function mfaStepVia(claims: Record<string, unknown>): SignInVia {
  return {
    method: typeof claims.first_factor === 'string' ? claims.first_factor : 'password',
    ssoConnectionId: typeof claims.sso_connection_id === 'string' ? claims.sso_connection_id : null,
  };
}

/**
 * The last step of every sign-in: session, tokens, last_login_at, audit, all in one transaction. `opts.method`
 * is what the audit records (`mfa_totp` for an MFA step); `opts.via` how the session was opened (its first
 * factor; default: `method` itself). The signIn hooks may refuse it first (SSO_REQUIRED), whatever path led
 * here: no session is ever opened for a user whose domain requires another way in.
 */
export async function completeLogin(
  ctx: AuthDeps,
  tenant: TenantRow,
  user: UserRow,
  client: ClientInfo,
  audit: AuditContext,
  opts: { method: string; rehash?: string | null; mfaEnrolmentPending?: boolean; via?: SignInVia },
) {
  const settings = resolveSettings(tenant.settings, ctx.config);
  const via = opts.via ?? { method: opts.method, ssoConnectionId: null };
  const opened = await ctx.database.withTenant(tenant.id, async (tx) => {
    const refusal = await signInRefusal(ctx, tx, tenant, user, via);
    if (refusal) return { refusal };
    const issued = await openSession(ctx, tx, user, client, settings, opts.mfaEnrolmentPending ?? false, via);
    await recordUserLogin(tx, tenant.id, user.id, opts.rehash ?? null);
    await writeAudit(
      tx,
      tenant.id,
      { ...audit, sessionId: issued.session_id },
      {
        eventType: 'auth.login_success',
        resourceType: 'session',
        resourceId: issued.session_id,
        metadata: {
          method: opts.method,
          device_type: issued.session.deviceType,
          browser: issued.session.browser,
          os: issued.session.os,
          rehashed: Boolean(opts.rehash),
          mfa_enrolment_pending: opts.mfaEnrolmentPending ?? false,
          ...(via.method !== opts.method ? { first_factor: via.method } : {}),
          ...(via.ssoConnectionId ? { connection_id: via.ssoConnectionId } : {}),
        },
      },
    );
    return { issued };
  });
  if (opened.refusal) {
    const { refusal } = opened;
    await writeAuditAlone(ctx, tenant.id, audit, {
      eventType: 'auth.login_failed',
      success: false,
      resourceType: 'user',
      resourceId: user.id,
      metadata: {
        email: user.email,
        reason: refusal.code.toLowerCase(),
        method: opts.method,
        first_factor: via.method,
        ...refusal.details,
      },
    });
    ctx.metrics.logins.inc({ result: 'failure' });
    throw new AppError(refusal.status, refusal.code, refusal.details);
  }
  const tokens = opened.issued!;
  ctx.metrics.logins.inc({ result: 'success' });
  for (const hook of ctx.hooks.loginSucceeded) {
    await hook({
      tenantId: tenant.id,
      userId: user.id,
      email: user.email,
      sessionId: tokens.session_id,
      ip: client.ip,
      userAgent: client.userAgent,
      deviceType: tokens.session.deviceType,
      browser: tokens.session.browser,
      os: tokens.session.os,
    }).catch((err) => ctx.log.warn({ err }, 'loginSucceeded hook failed'));
  }
  return tokens;
}
