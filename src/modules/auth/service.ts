/**
 * Password login, refresh rotation, logout, password change and self-registration (API.md §5).
 * Password hashing happens outside database transactions, so a connection is never held during argon2.
 */
import { type AuditContext, type AuditEvent, writeAudit } from '../../platform/audit/writer.js';
import type { AppContext } from '../../platform/context.js';
import { AppError, badRequest, forbidden, unauthorized } from '../../platform/http/errors.js';
import { passwordChangedMail } from '../../platform/mail/templates.js';
import * as sessionsRepo from '../sessions/repository.js';
import {
  type ClientInfo,
  createRefreshToken,
  isSessionActive,
  openSession,
  parseRefreshToken,
  publishRevocations,
  signAccessFor,
} from '../sessions/service.js';
import { findTenantById } from '../tenants/repository.js';
import { resolveTenantHeader, resolveTenantId } from '../tenants/service.js';
import { resolveSettings, type TenantSettings } from '../tenants/settings.js';
import type { TenantRow } from '../tenants/tables.js';
import {
  findUserByEmail,
  findUserById,
  insertUser,
  touchLastLogin,
  updateUserPassword,
} from '../users/repository.js';
import { toUserRead } from '../users/serialize.js';
import type { UserRow } from '../users/tables.js';
import { clearLoginAttempts, recordLoginFailure, reserveLoginAttempt } from './lockout.js';
import { validatePassword } from './password-policy.js';

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
  message: string;
}

/** Audit outside the request's transaction: for failures, whose transaction (if any) does not commit. */
export function auditAlone(ctx: AppContext, tenantId: number, audit: AuditContext, event: AuditEvent) {
  return ctx.database.withTenant(tenantId, (tx) => writeAudit(tx, tenantId, audit, event));
}

export const MFA_STEP_TOKEN = 'mfa_step';

export async function login(
  ctx: AppContext,
  tenantHeader: string | string[] | undefined,
  body: { email: string; password: string; mfa_code?: string },
  client: ClientInfo,
  audit: AuditContext,
): Promise<LoginResponse> {
  const tenantId = await resolveTenantId(ctx, tenantHeader);
  const email = body.email.toLowerCase();
  // One transaction loads the tenant, the user and their MFA state.
  const found = tenantId
    ? await ctx.database.withTenant(tenantId, async (tx) => {
        const tenant = await findTenantById(tx, tenantId);
        if (tenant?.status !== 'active') return null;
        const user = await findUserByEmail(tx, tenantId, email);
        const mfa = user ? await ctx.mfa.status(tx, tenantId, user.id) : null;
        return { tenant, user, mfa };
      })
    : null;
  if (!found) {
    await ctx.hasher.verifyDummy(body.password);
    ctx.metrics.logins.inc({ result: 'failure' });
    throw unauthorized('INVALID_CREDENTIALS');
  }
  const { tenant, user } = found;
  const ticket = await reserveLoginAttempt(ctx, tenant.id, email).catch(async (err) => {
    if (err instanceof AppError) {
      await auditAlone(ctx, tenant.id, audit, {
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
    await auditAlone(ctx, tenant.id, audit, {
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
      await auditAlone(ctx, tenant.id, audit, {
        eventType: 'auth.account_locked',
        success: false,
        actorType: 'system',
        resourceType: 'user',
        resourceId: user?.id ?? null,
        metadata: { email },
      });
    }
    ctx.metrics.logins.inc({ result: 'failure' });
    throw unauthorized('INVALID_CREDENTIALS');
  }
  await clearLoginAttempts(ctx, tenant.id, email);
  const rehash = ctx.hasher.needsRehash(user.passwordHash!) ? await ctx.hasher.hash(body.password) : null;
  const userAudit = { ...audit, actorType: 'user' as const, actorId: String(user.id) };

  const mfa = found.mfa!;
  if (mfa.enabled) {
    if (rehash)
      await ctx.database.withTenant(tenant.id, (tx) => touchLastLogin(tx, tenant.id, user.id, rehash));
    if (body.mfa_code && ctx.mfa.inlineLogin) {
      return ctx.mfa.inlineLogin(tenant, user, body.mfa_code, client, userAudit) as Promise<LoginResponse>;
    }
    const token = await ctx.jwt.signPurpose(
      MFA_STEP_TOKEN,
      { sub: String(user.id), tenant_id: tenant.id, email: user.email },
      ctx.config.mfaSessionLifetime,
    );
    await auditAlone(ctx, tenant.id, userAudit, {
      eventType: 'auth.mfa_required',
      resourceType: 'user',
      resourceId: user.id,
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
      message: 'MFA requis',
    };
  }
  const tokens = await completeLogin(ctx, tenant, user, client, userAudit, {
    method: 'password',
    rehash,
    mfaEnrolmentPending: mfa.required,
  });
  return loginResponse(
    tokens,
    mfa.required ? 'Connexion réussie, activation MFA requise' : 'Connexion réussie',
  );
}

export function loginResponse(
  tokens: { access_token: string; refresh_token: string; expires_in: number },
  message: string,
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

/** The last step of every sign-in: session, tokens, last_login_at, audit, all in one transaction. */
export async function completeLogin(
  ctx: AppContext,
  tenant: TenantRow,
  user: UserRow,
  client: ClientInfo,
  audit: AuditContext,
  opts: { method: string; rehash?: string | null; mfaEnrolmentPending?: boolean },
) {
  const settings = resolveSettings(tenant.settings, ctx.config);
  const tokens = await ctx.database.withTenant(tenant.id, async (tx) => {
    const issued = await openSession(ctx, tx, user, client, settings, opts.mfaEnrolmentPending ?? false);
    await touchLastLogin(tx, tenant.id, user.id, opts.rehash ?? null);
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
        },
      },
    );
    return issued;
  });
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

type RefreshOutcome =
  | {
      kind: 'ok';
      tokens: { access_token: string; refresh_token: string; token_type: 'bearer'; expires_in: number };
    }
  | { kind: 'fail'; code: string; revoked?: string[] };

export async function refresh(ctx: AppContext, rawToken: string, audit: AuditContext) {
  const parsed = parseRefreshToken(rawToken);
  if (!parsed) throw unauthorized('TOKEN_INVALID');
  const { tenantId } = parsed;
  const outcome = await ctx.database.withTenant(tenantId, async (tx): Promise<RefreshOutcome> => {
    const claimed = await sessionsRepo.claimRefreshToken(tx, tenantId, parsed.id, parsed.secretHash);
    if (!claimed) {
      const existing = await sessionsRepo.findRefreshToken(tx, tenantId, parsed.id, parsed.secretHash);
      if (!existing) return { kind: 'fail', code: 'TOKEN_INVALID' };
      // A rotated token presented again: someone holds a copy. End the whole session.
      const session = await sessionsRepo.findSession(tx, tenantId, existing.sessionId);
      const revoked = session
        ? await sessionsRepo.revokeSessions(
            tx,
            tenantId,
            { userId: session.userId, sessionIds: [session.id] },
            'token_replay',
          )
        : [];
      await writeAudit(
        tx,
        tenantId,
        {
          ...audit,
          actorType: 'user',
          actorId: session ? String(session.userId) : null,
          sessionId: existing.sessionId,
        },
        {
          eventType: 'auth.token_replay',
          success: false,
          resourceType: 'session',
          resourceId: existing.sessionId,
          metadata: { refresh_token_id: parsed.id, session_revoked: revoked.length > 0 },
        },
      );
      return { kind: 'fail', code: 'TOKEN_REPLAY', revoked };
    }
    if (claimed.expiresAt.getTime() <= Date.now()) return { kind: 'fail', code: 'TOKEN_EXPIRED' };
    const session = await sessionsRepo.findSession(tx, tenantId, claimed.sessionId);
    if (!session || session.revokedAt) return { kind: 'fail', code: 'SESSION_REVOKED' };
    if (!isSessionActive(session)) return { kind: 'fail', code: 'SESSION_EXPIRED' };
    // Sequential: one connection runs one query at a time.
    const user = await findUserById(tx, tenantId, session.userId);
    const tenant = await findTenantById(tx, tenantId);
    if (!user?.isActive || !tenant || tenant.status !== 'active')
      return { kind: 'fail', code: 'TOKEN_REVOKED' };
    const settings = resolveSettings(tenant.settings, ctx.config);
    const mfa = await ctx.mfa.status(tx, tenantId, user.id);
    const next = await createRefreshToken(
      tx,
      tenantId,
      session.id,
      settings.session.refresh_ttl,
      session.expiresAt,
    );
    await sessionsRepo.markReplaced(tx, tenantId, parsed.id, next.id);
    await sessionsRepo.touchSession(tx, tenantId, session.id);
    await writeAudit(
      tx,
      tenantId,
      { ...audit, actorType: 'user', actorId: String(user.id), sessionId: session.id },
      {
        eventType: 'auth.token_refreshed',
        resourceType: 'session',
        resourceId: session.id,
      },
    );
    const access = await signAccessFor(ctx, user, session.id, settings, mfa.required && !mfa.enabled);
    return {
      kind: 'ok',
      tokens: {
        access_token: access,
        refresh_token: next.raw,
        token_type: 'bearer',
        expires_in: settings.session.access_ttl,
      },
    };
  });
  if (outcome.kind === 'fail') {
    if (outcome.revoked?.length) await publishRevocations(ctx, outcome.revoked);
    throw unauthorized(outcome.code);
  }
  return outcome.tokens;
}

export async function logout(
  ctx: AppContext,
  principal: { tenantId: number; userId: number; sessionId: string | null },
  body: { refresh_token?: string; session_id?: string; all_sessions?: boolean },
  audit: AuditContext,
) {
  const { tenantId, userId } = principal;
  const revoked = await ctx.database.withTenant(tenantId, async (tx) => {
    const ids = new Set<string>();
    const add = (list: string[]) => {
      for (const id of list) ids.add(id);
    };
    if (body.all_sessions) add(await sessionsRepo.revokeSessions(tx, tenantId, { userId }, 'logout_all'));
    const targets = [principal.sessionId, body.session_id].filter((x): x is string => Boolean(x));
    const parsed = body.refresh_token ? parseRefreshToken(body.refresh_token) : null;
    if (parsed && parsed.tenantId === tenantId) {
      const rt = await sessionsRepo.findRefreshToken(tx, tenantId, parsed.id, parsed.secretHash);
      if (rt) targets.push(rt.sessionId);
    }
    if (targets.length)
      add(await sessionsRepo.revokeSessions(tx, tenantId, { userId, sessionIds: targets }, 'logout'));
    await writeAudit(tx, tenantId, audit, {
      eventType: 'auth.logout',
      resourceType: 'session',
      resourceId: principal.sessionId,
      metadata: { sessions_ended: ids.size, all_sessions: body.all_sessions ?? false },
    });
    return [...ids];
  });
  // The current session is always refused from now on, even if it had already ended in the database.
  await publishRevocations(ctx, [
    ...new Set([...revoked, ...(principal.sessionId ? [principal.sessionId] : [])]),
  ]);
  return revoked.length;
}

export async function me(ctx: AppContext, principal: { tenantId: number; userId: number }) {
  return ctx.database.withTenant(principal.tenantId, async (tx) => {
    const user = await findUserById(tx, principal.tenantId, principal.userId);
    if (!user?.isActive) throw unauthorized('TOKEN_REVOKED');
    const mfa = await ctx.mfa.status(tx, principal.tenantId, principal.userId);
    return {
      authenticated: true as const,
      user_id: user.id,
      tenant_id: user.tenantId,
      email: user.email,
      mfa_required: mfa.required,
      mfa_enabled: mfa.enabled,
    };
  });
}

export async function tenantSettings(ctx: AppContext, tenantId: number): Promise<TenantSettings> {
  const t = await ctx.database.withTenant(tenantId, (tx) => findTenantById(tx, tenantId));
  return resolveSettings(t?.settings, ctx.config);
}

export function assertStrongPassword(
  password: string,
  email: string,
  settings: TenantSettings,
  minLength?: number,
) {
  const reasons = validatePassword(password, email, settings.password_policy, minLength);
  if (reasons.length > 0) throw new AppError(422, 'PASSWORD_TOO_WEAK', { reasons });
}

export async function changePassword(
  ctx: AppContext,
  principal: { tenantId: number; userId: number; sessionId: string | null },
  body: { current_password: string; new_password: string },
  audit: AuditContext,
) {
  const { tenantId, userId } = principal;
  const user = await ctx.database.withTenant(tenantId, (tx) => findUserById(tx, tenantId, userId));
  if (!user) throw unauthorized('TOKEN_REVOKED');
  if (!(await ctx.hasher.verify(user.passwordHash, body.current_password))) {
    await auditAlone(ctx, tenantId, audit, {
      eventType: 'auth.password_change_failed',
      success: false,
      resourceType: 'user',
      resourceId: userId,
      metadata: { reason: 'bad_current_password' },
    });
    throw badRequest('INVALID_CURRENT_PASSWORD');
  }
  if (body.current_password === body.new_password) {
    throw new AppError(422, 'PASSWORD_TOO_WEAK', { reasons: ['same_as_current'] });
  }
  assertStrongPassword(body.new_password, user.email, await tenantSettings(ctx, tenantId));
  const hash = await ctx.hasher.hash(body.new_password);
  const revoked = await ctx.database.withTenant(tenantId, async (tx) => {
    await updateUserPassword(tx, tenantId, userId, hash);
    const ids = await sessionsRepo.revokeSessions(
      tx,
      tenantId,
      { userId, exceptSessionId: principal.sessionId },
      'password_changed',
    );
    await writeAudit(tx, tenantId, audit, {
      eventType: 'auth.password_changed',
      resourceType: 'user',
      resourceId: userId,
      metadata: { sessions_ended: ids.length },
    });
    return ids;
  });
  await publishRevocations(ctx, revoked);
  await ctx.mailer
    .send(passwordChangedMail(user.email, new Date(), 'change'))
    .catch((err) => ctx.log.warn({ err }, 'password-changed alert mail failed'));
  return revoked.length;
}

export async function register(
  ctx: AppContext,
  tenantHeader: string | string[] | undefined,
  body: { email: string; password: string; first_name: string; last_name: string },
  audit: AuditContext,
) {
  const tenant = await resolveTenantHeader(ctx, tenantHeader);
  if (!tenant) throw forbidden('REGISTRATION_DISABLED');
  const settings = resolveSettings(tenant.settings, ctx.config);
  if (!settings.self_registration) throw forbidden('REGISTRATION_DISABLED');
  assertStrongPassword(body.password, body.email, settings, 12);
  const hash = await ctx.hasher.hash(body.password);
  const user = await ctx.database.withTenant(tenant.id, async (tx) => {
    if (await findUserByEmail(tx, tenant.id, body.email)) throw new AppError(409, 'EMAIL_ALREADY_EXISTS');
    const created = await insertUser(tx, tenant.id, {
      email: body.email,
      passwordHash: hash,
      firstName: body.first_name,
      lastName: body.last_name,
    });
    for (const hook of ctx.hooks.userCreated) await hook(tx, tenant.id, created.id, 'register');
    await writeAudit(
      tx,
      tenant.id,
      { ...audit, actorType: 'user', actorId: String(created.id) },
      {
        eventType: 'user.registered',
        resourceType: 'user',
        resourceId: created.id,
        metadata: { email: created.email },
      },
    );
    return created;
  });
  return toUserRead(user);
}
