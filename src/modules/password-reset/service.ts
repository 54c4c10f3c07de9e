/**
 * Password reset (API.md §9). A token is `<tenantId>.<43 base64url chars>` (256 random bits); only its SHA-256
 * is stored. The tenant prefix lets /confirm and /validate, which carry no X-Tenant-ID, find the right tenant
 * under RLS. A token lasts 1 h, works once (atomic claim) and a newer one supersedes it.
 *
 * /request answers before it does anything that depends on the address: the lookup, the token and the mail
 * happen in the background, so known and unknown addresses get the same answer in the same time.
 */

import type { Static } from '@sinclair/typebox';
import { type AuditContext, writeAudit } from '../../platform/audit/writer.js';
import { assertStrongPassword } from '../../platform/crypto/password-policy.js';
import { randomToken, sha256Hex } from '../../platform/crypto/tokens.js';
import type { Tx } from '../../platform/db/client.js';
import { notFound, platformErrors } from '../../platform/http/errors.js';
import { runInBackground } from '../../platform/mail/background.js';
import { passwordChangedMail, passwordResetMail } from '../../platform/mail/templates.js';
import { bumpUserVersion } from '../../platform/store/versions.js';
import { clearLoginAttempts } from '../auth/index.js';
import { publishRevocations, revokeSessions } from '../sessions/index.js';
import { getTenant, resolveSettings, resolveTenantHeader, type TenantRow } from '../tenants/index.js';
import {
  type Actor,
  assertMayManageUser,
  markEmailVerified,
  setUserPassword,
  type UserRow,
  userByEmail,
  userById,
} from '../users/index.js';
import type { PasswordResetDeps } from './deps.js';
import { type InvalidReason, resetError } from './errors.js';
import * as repo from './repository.js';
import type { ConfirmBody } from './schemas.js';

export const RESET_TTL_SECONDS = 3600;
/** Links per user per hour: stops anyone from mail-bombing an inbox through /request. */
export const MAX_REQUESTS_PER_HOUR = 3;
const TOKEN = /^(\d{1,9})\.([A-Za-z0-9_-]{43})$/;

export type { InvalidReason } from './errors.js';

export function parseToken(raw: string): { tenantId: number; hash: string } | null {
  const m = TOKEN.exec(raw);
  if (!m || Number(m[1]) < 1) return null;
  return { tenantId: Number(m[1]), hash: sha256Hex(raw) };
}

export async function requestReset(
  ctx: PasswordResetDeps,
  tenantHeader: string | string[] | undefined,
  email: string,
  audit: AuditContext,
): Promise<void> {
  const tenant = await resolveTenantHeader(ctx, tenantHeader);
  if (!tenant) return;
  runInBackground(ctx, 'password reset request', () => issueToken(ctx, tenant, email.toLowerCase(), audit));
}

/**
 * The link a mail carries: PASSWORD_RESET_URL (default PUBLIC_URL/admin/reset-password) with the token as its
 * `token` query parameter, next to any query the configured URL already has.
 */
export function resetLink(baseUrl: string, token: string): string {
  const url = new URL(baseUrl);
  url.searchParams.set('token', token);
  return url.toString();
}

async function issueToken(
  ctx: PasswordResetDeps,
  tenant: TenantRow,
  email: string,
  audit: AuditContext,
): Promise<void> {
  const raw = `${tenant.id}.${randomToken(32)}`;
  const user = await ctx.database.withTenant(tenant.id, async (tx) => {
    const u = await userByEmail(tx, tenant.id, email);
    const refused = !u ? 'unknown_email' : !u.isActive ? 'inactive' : null;
    const throttled =
      u &&
      !refused &&
      (await repo.countRecent(tx, tenant.id, u.id, new Date(Date.now() - 3600_000))) >= MAX_REQUESTS_PER_HOUR;
    if (refused || throttled) {
      await writeAudit(tx, tenant.id, audit, {
        eventType: 'password_reset.requested',
        success: false,
        resourceType: 'user',
        resourceId: u?.id ?? null,
        metadata: { email, reason: refused ?? 'too_many_requests' },
      });
      return null;
    }
    await repo.expirePending(tx, tenant.id, u!.id);
    const expiresAt = new Date(Date.now() + RESET_TTL_SECONDS * 1000);
    await repo.insertToken(tx, tenant.id, { userId: u!.id, tokenHash: sha256Hex(raw), expiresAt });
    await writeAudit(tx, tenant.id, audit, {
      eventType: 'password_reset.requested',
      resourceType: 'user',
      resourceId: u!.id,
      metadata: { email, expires_at: expiresAt.toISOString() },
    });
    return u;
  });
  if (!user) return;
  await ctx.mailer.send(
    passwordResetMail(user.email, resetLink(ctx.config.passwordResetUrl, raw), RESET_TTL_SECONDS / 60),
  );
}

/**
 * POST /users/{id}/password-reset (issue 20): an administrator who may manage the user (a user of the tenant they
 * dominate) has the reset link mailed to them. The same token as a request by mail (superseding older links),
 * audited as asked by the administrator; the mail leaves in the background after the commit.
 */
export async function sendResetLinkAsAdmin(
  ctx: PasswordResetDeps,
  actor: Actor,
  userId: number,
): Promise<void> {
  await assertMayManageUser(ctx, actor, userId);
  const { tenantId } = actor;
  const raw = `${tenantId}.${randomToken(32)}`;
  const expiresAt = new Date(Date.now() + RESET_TTL_SECONDS * 1000);
  const user = await ctx.database.withTenant(tenantId, async (tx) => {
    const u = await userById(tx, tenantId, userId);
    if (!u) throw notFound('user');
    // A link for an account that cannot sign in would only fail at /confirm.
    if (!u.isActive) throw platformErrors.error('ACCOUNT_INACTIVE', undefined, { status: 409 });
    await repo.expirePending(tx, tenantId, u.id);
    await repo.insertToken(tx, tenantId, { userId: u.id, tokenHash: sha256Hex(raw), expiresAt });
    await writeAudit(tx, tenantId, actor.audit, {
      eventType: 'password_reset.requested',
      resourceType: 'user',
      resourceId: u.id,
      metadata: { email: u.email, expires_at: expiresAt.toISOString(), by_admin: true },
    });
    return u;
  });
  const mail = passwordResetMail(
    user.email,
    resetLink(ctx.config.passwordResetUrl, raw),
    RESET_TTL_SECONDS / 60,
  );
  runInBackground(ctx, 'admin password reset mail', () => ctx.mailer.send(mail));
}

type Inspection =
  | { ok: true; tenant: TenantRow; user: UserRow; tokenHash: string }
  | { ok: false; reason: InvalidReason };

async function inspect(ctx: PasswordResetDeps, raw: string): Promise<Inspection> {
  const parsed = parseToken(raw);
  if (!parsed) return { ok: false, reason: 'INVALID_TOKEN' };
  const { tenantId, hash } = parsed;
  return ctx.database.withTenant(tenantId, async (tx): Promise<Inspection> => {
    const row = await repo.findByHash(tx, tenantId, hash);
    if (!row) return { ok: false, reason: 'INVALID_TOKEN' };
    if (row.usedAt) return { ok: false, reason: 'TOKEN_ALREADY_USED' };
    if (row.expiresAt.getTime() <= Date.now()) return { ok: false, reason: 'TOKEN_EXPIRED' };
    // Sequential: a transaction's connection runs one query at a time.
    const tenant = await getTenant(tx, tenantId);
    const user = await userById(tx, tenantId, row.userId);
    if (tenant?.status !== 'active' || !user?.isActive) return { ok: false, reason: 'INVALID_TOKEN' };
    return { ok: true, tenant, user, tokenHash: hash };
  });
}

export async function validateToken(
  ctx: PasswordResetDeps,
  raw: string,
): Promise<{ valid: boolean; reason?: InvalidReason }> {
  const r = await inspect(ctx, raw);
  return r.ok ? { valid: true } : { valid: false, reason: r.reason };
}

/**
 * A reset of an account whose address was NOT verified (issue 18, pre-account hijack): whoever made the account
 * never proved the mailbox, and may have linked their own social identity to it. The reset link proves it now:
 * the address becomes verified, and what was attached before goes (the SSO module drops the external identities
 * through ctx.hooks.unverifiedAccountReset, audited there). Returns notes for the reset's audit record.
 */
async function mailboxProven(
  ctx: PasswordResetDeps,
  tx: Tx,
  tenantId: number,
  userId: number,
  audit: AuditContext,
): Promise<Record<string, unknown>> {
  await markEmailVerified(tx, tenantId, userId);
  const notes: Record<string, unknown> = { email_verified_by_reset: true };
  // Sequential: one transaction is one connection.
  for (const hook of ctx.hooks.unverifiedAccountReset)
    Object.assign(notes, await hook(tx, tenantId, userId, audit));
  return notes;
}

export async function confirmReset(
  ctx: PasswordResetDeps,
  body: Static<typeof ConfirmBody>,
  audit: AuditContext,
): Promise<number> {
  const state = await inspect(ctx, body.token);
  if (!state.ok) throw resetError(state.reason);
  const { tenant, user, tokenHash } = state;
  assertStrongPassword(
    body.new_password,
    user.email,
    resolveSettings(tenant.settings, ctx.config).password_policy,
  );
  const hash = await ctx.hasher.hash(body.new_password);
  const userAudit: AuditContext = { ...audit, actorType: 'user', actorId: String(user.id) };
  const revoked = await ctx.database.withTenant(tenant.id, async (tx) => {
    // Checked again under the row lock: of two concurrent confirmations only one gets here with a claim.
    const claimed = await repo.claim(tx, tenant.id, tokenHash);
    if (!claimed) throw resetError('TOKEN_ALREADY_USED');
    await setUserPassword(tx, tenant.id, user.id, hash);
    // Only the latest link is ever pending, but whatever else is must not work after the password changed.
    await repo.voidPending(tx, tenant.id, user.id);
    const ids = await revokeSessions(tx, tenant.id, { userId: user.id }, 'password_reset');
    const proven = user.isVerified ? {} : await mailboxProven(ctx, tx, tenant.id, user.id, userAudit);
    await writeAudit(tx, tenant.id, userAudit, {
      eventType: 'auth.password_reset',
      resourceType: 'user',
      resourceId: user.id,
      metadata: { sessions_ended: ids.length, token_id: claimed.id, ...proven },
    });
    return ids;
  });
  await publishRevocations(ctx, revoked);
  await bumpUserVersion(ctx.store, tenant.id, user.id);
  // Whoever locked the account out by guessing is not a reason to keep its owner out after a reset.
  await clearLoginAttempts(ctx, tenant.id, user.email);
  runInBackground(ctx, 'password-changed mail', () =>
    ctx.mailer.send(passwordChangedMail(user.email, new Date(), 'reset')),
  );
  return revoked.length;
}
