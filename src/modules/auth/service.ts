/**
 * Refresh rotation, logout, me, password change and self-registration (API.md §5); sign-in is in login.ts.
 * Password hashing happens outside database transactions, so a connection is never held during argon2.
 */

import type { Static } from '@sinclair/typebox';
import { writeAuditAlone } from '../../platform/audit/alone.js';
import { type AuditContext, SYSTEM_AUDIT_CONTEXT, writeAudit } from '../../platform/audit/writer.js';
import type { SignInRefusal } from '../../platform/context.js';
import { assertStrongPassword } from '../../platform/crypto/password-policy.js';
import { AppError, notFound } from '../../platform/http/errors.js';
import { passwordChangedMail } from '../../platform/mail/templates.js';
import { bumpUserVersion } from '../../platform/store/versions.js';
import {
  claimRefreshToken,
  endIdleSession,
  getSession,
  IDLE_REVOKED_REASON,
  isIdle,
  isSessionActive,
  parseRefreshToken,
  publishActivity,
  publishRevocations,
  refreshTokenSessionId,
  revokeSessions,
  rotateRefreshToken,
  signAccessFor,
  storedLastSeen,
} from '../sessions/index.js';
import { getTenant, resolveSettings, resolveTenantHeader, tenantSettings } from '../tenants/index.js';
import {
  createUserInTx,
  prepareUser,
  setUserPassword,
  toUserRead,
  userByEmail,
  userById,
} from '../users/index.js';
import type { AuthDeps } from './deps.js';
import { type AuthErrorCode, authError } from './errors.js';
import { passwordSignInRefusal, runPasswordChanged, signInRefusal } from './hooks.js';
import { identityOf } from './identity.js';
import { clearLoginAttempts } from './lockout.js';
import type { ChangePasswordBody, LogoutBody, RegisterBody } from './schemas.js';

type RefreshOutcome =
  | {
      kind: 'ok';
      tokens: { access_token: string; refresh_token: string; token_type: 'bearer'; expires_in: number };
      sessionId: string;
    }
  | { kind: 'fail'; code: AuthErrorCode; revoked?: string[]; flag?: 'revoked' | 'expired' }
  | { kind: 'refused'; refusal: SignInRefusal; revoked: string[] };

export async function refresh(ctx: AuthDeps, rawToken: string, audit: AuditContext) {
  const parsed = parseRefreshToken(rawToken);
  if (!parsed) throw authError('TOKEN_INVALID');
  const { tenantId } = parsed;
  const now = ctx.clock.now();
  const outcome = await ctx.database.withTenant(tenantId, async (tx): Promise<RefreshOutcome> => {
    const claimed = await claimRefreshToken(tx, tenantId, parsed);
    if (!claimed) {
      const existingSessionId = await refreshTokenSessionId(tx, tenantId, parsed);
      if (!existingSessionId) return { kind: 'fail', code: 'TOKEN_INVALID' };
      // A rotated token presented again: someone holds a copy. End the whole session.
      const session = await getSession(tx, tenantId, existingSessionId);
      const revoked = session
        ? await revokeSessions(
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
          sessionId: existingSessionId,
        },
        {
          eventType: 'auth.token_replay',
          success: false,
          resourceType: 'session',
          resourceId: existingSessionId,
          metadata: { refresh_token_id: parsed.id, session_revoked: revoked.length > 0 },
        },
      );
      return { kind: 'fail', code: 'TOKEN_REPLAY', revoked };
    }
    if (claimed.expiresAt.getTime() <= now) return { kind: 'fail', code: 'TOKEN_EXPIRED' };
    const session = await getSession(tx, tenantId, claimed.sessionId);
    if (session?.revokedAt && session.revokedReason === IDLE_REVOKED_REASON)
      return { kind: 'fail', code: 'SESSION_EXPIRED' };
    if (!session || session.revokedAt) return { kind: 'fail', code: 'SESSION_REVOKED' };
    if (!isSessionActive(session, now)) return { kind: 'fail', code: 'SESSION_EXPIRED' };
    // Sequential: one connection runs one query at a time.
    const user = await userById(tx, tenantId, session.userId);
    const tenant = await getTenant(tx, tenantId);
    if (!user?.isActive || !tenant || tenant.status !== 'active')
      return { kind: 'fail', code: 'TOKEN_REVOKED' };
    // The way this session was opened may no longer be allowed (the user's domain now requires SSO through
    // another connection: an address changed into it, or a session the switch did not reach): it ends here.
    const via = { method: session.signInMethod, ssoConnectionId: session.ssoConnectionId };
    const refusal = await signInRefusal(ctx, tx, tenant, user, via);
    if (refusal) {
      const revoked = await revokeSessions(
        tx,
        tenantId,
        { userId: user.id, sessionIds: [session.id] },
        refusal.code.toLowerCase(),
      );
      await writeAudit(
        tx,
        tenantId,
        { ...audit, actorType: 'user', actorId: String(user.id), sessionId: session.id },
        {
          eventType: 'auth.refresh_refused',
          success: false,
          resourceType: 'session',
          resourceId: session.id,
          metadata: { reason: refusal.code.toLowerCase(), sign_in_method: via.method, ...refusal.details },
        },
      );
      return { kind: 'refused', refusal, revoked };
    }
    const settings = resolveSettings(tenant.settings, ctx.config);
    // Idle timeout: the later of the row's and the store's record of activity (the store is written first).
    const idleTtl = settings.session.idle_ttl;
    const lastSeen = Math.max(session.lastSeenAt.getTime(), (await storedLastSeen(ctx, session.id)) ?? 0);
    if (idleTtl !== null && isIdle(lastSeen, idleTtl, now)) {
      const ended = { userId: session.userId, sessionId: session.id };
      await endIdleSession(tx, tenantId, ended, { lastSeen, idleTtl }, audit);
      return { kind: 'fail', code: 'SESSION_EXPIRED', revoked: [session.id], flag: 'expired' };
    }
    const mfa = await ctx.mfa.status(tx, tenantId, user.id);
    const next = await rotateRefreshToken(
      tx,
      tenantId,
      session,
      parsed.id,
      settings.session.refresh_ttl,
      now,
    );
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
      sessionId: session.id,
    };
  });
  if (outcome.kind === 'refused') {
    await publishRevocations(ctx, outcome.revoked);
    const { status, code, details } = outcome.refusal;
    throw new AppError(status, code, details);
  }
  if (outcome.kind === 'fail') {
    if (outcome.revoked?.length) await publishRevocations(ctx, outcome.revoked, outcome.flag);
    throw authError(outcome.code);
  }
  // A refresh is activity: the store record follows the row written in the transaction.
  await publishActivity(ctx, outcome.sessionId, now);
  return outcome.tokens;
}

export async function logout(
  ctx: AuthDeps,
  principal: { tenantId: number; userId: number; sessionId: string | null },
  body: Static<typeof LogoutBody>,
  audit: AuditContext,
) {
  const { tenantId, userId } = principal;
  const revoked = await ctx.database.withTenant(tenantId, async (tx) => {
    const ids = new Set<string>();
    const add = (list: string[]) => {
      for (const id of list) ids.add(id);
    };
    if (body.all_sessions) add(await revokeSessions(tx, tenantId, { userId }, 'logout_all'));
    const targets = [principal.sessionId, body.session_id].filter((x): x is string => Boolean(x));
    const parsed = body.refresh_token ? parseRefreshToken(body.refresh_token) : null;
    if (parsed && parsed.tenantId === tenantId) {
      const sessionId = await refreshTokenSessionId(tx, tenantId, parsed);
      if (sessionId) targets.push(sessionId);
    }
    if (targets.length) add(await revokeSessions(tx, tenantId, { userId, sessionIds: targets }, 'logout'));
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

/** GET /auth/me: from this replica's identity cache when the versions read by the guard still match. */
export async function me(
  ctx: AuthDeps,
  principal: { tenantId: number; userId: number; identityVersion: string },
) {
  const identity = await identityOf(ctx, principal);
  if (!identity.active) throw authError('TOKEN_REVOKED');
  return {
    authenticated: true as const,
    user_id: identity.userId,
    tenant_id: identity.tenantId,
    email: identity.email,
    mfa_required: identity.mfaRequired,
    mfa_enabled: identity.mfaEnabled,
  };
}

export async function changePassword(
  ctx: AuthDeps,
  principal: { tenantId: number; userId: number; sessionId: string | null },
  body: Static<typeof ChangePasswordBody>,
  audit: AuditContext,
) {
  const { tenantId, userId } = principal;
  const user = await ctx.database.withTenant(tenantId, (tx) => userById(tx, tenantId, userId));
  if (!user) throw authError('TOKEN_REVOKED');
  if (!(await ctx.hasher.verify(user.passwordHash, body.current_password))) {
    await writeAuditAlone(ctx, tenantId, audit, {
      eventType: 'auth.password_change_failed',
      success: false,
      resourceType: 'user',
      resourceId: userId,
      metadata: { reason: 'bad_current_password' },
    });
    throw authError('INVALID_CURRENT_PASSWORD');
  }
  if (body.current_password === body.new_password) {
    throw authError('PASSWORD_TOO_WEAK', { reasons: ['same_as_current'] });
  }
  assertStrongPassword(body.new_password, user.email, (await tenantSettings(ctx, tenantId)).password_policy);
  const hash = await ctx.hasher.hash(body.new_password);
  const revoked = await ctx.database.withTenant(tenantId, async (tx) => {
    await setUserPassword(tx, tenantId, userId, hash);
    const ids = await revokeSessions(
      tx,
      tenantId,
      { userId, exceptSessionId: principal.sessionId },
      'password_changed',
    );
    // A reset link mailed before the change must not undo it (the password-reset module's hook voids them).
    const resetLinksVoided = await runPasswordChanged(ctx, tx, tenantId, userId);
    await writeAudit(tx, tenantId, audit, {
      eventType: 'auth.password_changed',
      resourceType: 'user',
      resourceId: userId,
      metadata: {
        sessions_ended: ids.length,
        ...(resetLinksVoided ? { reset_links_voided: resetLinksVoided } : {}),
      },
    });
    return ids;
  });
  await publishRevocations(ctx, revoked);
  await bumpUserVersion(ctx.store, tenantId, userId);
  await ctx.mailer
    .send(passwordChangedMail(user.email, new Date(), 'change'))
    .catch((err) => ctx.log.warn({ err }, 'password-changed alert mail failed'));
  return revoked.length;
}

export async function register(
  ctx: AuthDeps,
  tenantHeader: string | string[] | undefined,
  body: Static<typeof RegisterBody>,
  audit: AuditContext,
) {
  const tenant = await resolveTenantHeader(ctx, tenantHeader);
  if (!tenant) throw authError('REGISTRATION_DISABLED');
  const settings = resolveSettings(tenant.settings, ctx.config);
  if (!settings.self_registration) throw authError('REGISTRATION_DISABLED');
  // A policy refusal (the tenant requires SSO for the email's domain: the sso module's hook) comes before the
  // password is hashed and before the address is looked up: it depends on the domain only, so it tells nothing
  // about existing accounts. Audited like the refused password login.
  const email = body.email.toLowerCase();
  const refusal = await ctx.database.withTenant(tenant.id, (tx) =>
    passwordSignInRefusal(ctx, tx, tenant, email),
  );
  if (refusal) {
    await writeAuditAlone(ctx, tenant.id, audit, {
      eventType: 'auth.register_failed',
      success: false,
      resourceType: 'user',
      metadata: { email, reason: refusal.code.toLowerCase() },
    });
    throw new AppError(refusal.status, refusal.code, refusal.details);
  }
  // The one user creation of the users module: policy (12 characters at least here), hash, 409, hooks, audit.
  const prepared = await prepareUser(
    ctx,
    { email: body.email, password: body.password, firstName: body.first_name, lastName: body.last_name },
    settings.password_policy,
    12,
  );
  const user = await ctx.database.withTenant(tenant.id, (tx) =>
    createUserInTx(ctx, tx, tenant.id, prepared, { source: 'register', audit }),
  );
  return toUserRead(user);
}

/**
 * `massacorp admin reset-password` (issue 20, a lost admin password): an operator sets a user's password from the
 * machine (no request, no session). `password` null: a generated one (it meets any policy), returned for the
 * caller to show once; otherwise it must pass the tenant's policy. Every session of the user ends, pending reset
 * links are voided, the lockout is cleared, and the change is audited as the system's in the same transaction.
 */
export async function resetPasswordAsOperator(
  ctx: AuthDeps,
  tenantId: number,
  email: string,
  password: { given: string } | { generated: string },
): Promise<{ userId: number; sessionsEnded: number }> {
  const user = await ctx.database.withTenant(tenantId, (tx) =>
    userByEmail(tx, tenantId, email.toLowerCase()),
  );
  if (!user) throw notFound('user');
  if ('given' in password)
    assertStrongPassword(password.given, user.email, (await tenantSettings(ctx, tenantId)).password_policy);
  const hash = await ctx.hasher.hash('given' in password ? password.given : password.generated);
  const revoked = await ctx.database.withTenant(tenantId, async (tx) => {
    await setUserPassword(tx, tenantId, user.id, hash);
    const ids = await revokeSessions(tx, tenantId, { userId: user.id }, 'operator_password_reset');
    const resetLinksVoided = await runPasswordChanged(ctx, tx, tenantId, user.id);
    await writeAudit(tx, tenantId, SYSTEM_AUDIT_CONTEXT, {
      eventType: 'auth.password_reset_by_operator',
      resourceType: 'user',
      resourceId: user.id,
      metadata: {
        via: 'cli',
        generated: 'generated' in password,
        sessions_ended: ids.length,
        ...(resetLinksVoided ? { reset_links_voided: resetLinksVoided } : {}),
      },
    });
    return ids;
  });
  await publishRevocations(ctx, revoked);
  await bumpUserVersion(ctx.store, tenantId, user.id);
  await clearLoginAttempts(ctx, tenantId, user.email);
  return { userId: user.id, sessionsEnded: revoked.length };
}
