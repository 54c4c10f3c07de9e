/**
 * Invitations (issue 20). A token is `<tenantId>.<43 base64url chars>` (256 random bits); only its SHA-256 is
 * stored. The tenant prefix lets the public routes, which carry no X-Tenant-ID, find the right tenant under RLS.
 * One open invitation per address: inviting an address again replaces (revokes) the open one. Accepting works
 * once (an atomic claim), creates the account with the invited roles and the address verified, and answers what
 * a password sign-in answers. Every change is audited in its transaction.
 */

import type { Static } from '@sinclair/typebox';
import { type AuditContext, writeAudit } from '../../platform/audit/writer.js';
import type { InvitedSignUp } from '../../platform/context.js';
import { randomToken, sha256Hex } from '../../platform/crypto/tokens.js';
import type { Tx } from '../../platform/db/client.js';
import { pgErrorOf } from '../../platform/db/errors.js';
import { AppError, notFound, platformErrors, validationError } from '../../platform/http/errors.js';
import { runInBackground } from '../../platform/mail/background.js';
import { invitationMail } from '../../platform/mail/templates.js';
import { completeLogin, type LoginResponse, loginResponse } from '../auth/index.js';
import { type Actor, assertCanGrantRole, grantRoleById, roleById } from '../rbac/index.js';
import type { ClientInfo } from '../sessions/index.js';
import { routesToConnection } from '../sso/index.js';
import { getTenant, resolveSettings, type TenantRow } from '../tenants/index.js';
import { createUserInTx, prepareUser, userByEmail, userEmail } from '../users/index.js';
import type { InvitationsDeps } from './deps.js';
import { type InvalidInvitation, invitationsErrors } from './errors.js';
import * as repo from './repository.js';
import type { AcceptBody, InvitationCreate, InvitationListQuery } from './schemas.js';
import { DEFAULT_EXPIRES_IN } from './schemas.js';

const TOKEN = /^(\d{1,9})\.([A-Za-z0-9_-]{43})$/;

function parseToken(raw: string): { tenantId: number; hash: string } | null {
  const m = TOKEN.exec(raw);
  if (!m || Number(m[1]) < 1) return null;
  return { tenantId: Number(m[1]), hash: sha256Hex(raw) };
}

function newToken(tenantId: number) {
  const raw = `${tenantId}.${randomToken(32)}`;
  return { raw, hash: sha256Hex(raw) };
}

export function toInvitationRead(r: repo.Invitation) {
  return {
    id: r.id,
    email: r.email,
    role_ids: r.roleIds,
    expires_at: r.expiresAt.toISOString(),
    status: repo.statusOf(r),
    invited_by: r.invitedBy,
    accepted_at: r.acceptedAt?.toISOString() ?? null,
    accepted_user_id: r.acceptedUserId,
    revoked_at: r.revokedAt?.toISOString() ?? null,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}

/** GDPR export (art. 15): the person's invitations, who made them, when, with which roles; never a token. */
export async function exportForPerson(tx: Tx, tenantId: number, userId: number) {
  const email = await userEmail(tx, tenantId, userId);
  if (!email) return [];
  const rows = await repo.invitationsOfPerson(tx, tenantId, userId, email.toLowerCase());
  return rows.map(toInvitationRead);
}

/** Each role must be the tenant's (else 422 naming it) and one the actor may grant (rbac's rule, else 403). */
async function assertGrantable(tx: Tx, actor: Actor, roleIds: readonly string[]) {
  for (const [i, id] of roleIds.entries()) {
    if (!(await roleById(tx, actor.tenantId, id)))
      throw validationError(`body.role_ids.${i}`, 'unknown role');
    await assertCanGrantRole(tx, actor, id);
  }
}

async function assertNoAccount(tx: Tx, tenantId: number, email: string) {
  if (await userByEmail(tx, tenantId, email)) throw invitationsErrors.error('USER_EXISTS');
}

/** Two concurrent invitations of one address: the unique open-address index refuses the second (409). */
function raced(err: unknown): never {
  if (pgErrorOf(err)?.code === '23505')
    throw platformErrors.error('CONFLICT', { reason: 'the address was invited concurrently, retry' });
  throw err;
}

/** After the commit: the link goes out in the background (a slow SMTP server never holds the request). */
function mailLink(ctx: InvitationsDeps, tenant: TenantRow, email: string, raw: string, expiresAt: Date) {
  const link = `${ctx.config.publicUrl.replace(/\/+$/, '')}/admin/accept-invite?token=${encodeURIComponent(raw)}`;
  runInBackground(ctx, 'invitation mail', async () => {
    const sso = await routesToConnection(ctx, email, tenant.id);
    await ctx.mailer.send(invitationMail(email, { link, organisation: tenant.name, expiresAt, sso }));
  });
}

export async function createInvitation(
  ctx: InvitationsDeps,
  actor: Actor,
  body: Static<typeof InvitationCreate>,
) {
  const { tenantId } = actor;
  const email = body.email.trim().toLowerCase();
  const roleIds = body.role_ids ?? [];
  const expiresAt = new Date(Date.now() + (body.expires_in ?? DEFAULT_EXPIRES_IN) * 1000);
  const token = newToken(tenantId);
  const { row, tenant } = await ctx.database
    .withTenant(tenantId, async (tx) => {
      await assertNoAccount(tx, tenantId, email);
      await assertGrantable(tx, actor, roleIds);
      const previous = await repo.lockOpenByEmail(tx, tenantId, email);
      if (previous) {
        await repo.revoke(tx, tenantId, previous.id);
        await writeAudit(tx, tenantId, actor.audit, {
          eventType: 'invitation.revoked',
          resourceType: 'invitation',
          resourceId: previous.id,
          metadata: { email, reason: 'replaced' },
        });
      }
      const row = await repo.insertInvitation(tx, tenantId, {
        email,
        roleIds: [...roleIds],
        tokenHash: token.hash,
        invitedBy: actor.userId,
        expiresAt,
      });
      await writeAudit(tx, tenantId, actor.audit, {
        eventType: 'invitation.created',
        resourceType: 'invitation',
        resourceId: row.id,
        metadata: {
          email,
          role_ids: roleIds,
          expires_at: expiresAt.toISOString(),
          ...(previous ? { replaced: previous.id } : {}),
        },
      });
      return { row, tenant: (await getTenant(tx, tenantId))! };
    })
    .catch(raced);
  mailLink(ctx, tenant, email, token.raw, expiresAt);
  return toInvitationRead(row);
}

export async function listInvitations(
  ctx: InvitationsDeps,
  tenantId: number,
  q: Static<typeof InvitationListQuery>,
) {
  const page = await ctx.database.withTenant(tenantId, (tx) =>
    repo.listInvitations(tx, tenantId, {
      status: q.status,
      limit: q.limit ?? 20,
      ...(q.cursor !== undefined ? { beforeSeq: Number(q.cursor) } : {}),
    }),
  );
  const last = page.rows.at(-1);
  return {
    invitations: page.rows.map(toInvitationRead),
    total: page.total,
    next_cursor: page.more && last ? String(last.seq) : null,
  };
}

/** An open invitation of the actor's tenant, locked; 404 outside it, 409 once accepted or revoked. */
async function lockOpen(tx: Tx, tenantId: number, id: string) {
  const row = await repo.lockInvitation(tx, tenantId, id);
  if (!row) throw notFound('invitation');
  if (row.acceptedAt || row.revokedAt)
    throw invitationsErrors.error('INVITATION_NOT_PENDING', { status: repo.statusOf(row) });
  return row;
}

/**
 * A new link for an open invitation (pending or expired): a new token (the old one stops working) and a new
 * expiry. Whoever resends re-issues the invitation, so their own right to grant its roles is checked again.
 */
export async function resendInvitation(
  ctx: InvitationsDeps,
  actor: Actor,
  id: string,
  expiresIn: number = DEFAULT_EXPIRES_IN,
) {
  const { tenantId } = actor;
  const token = newToken(tenantId);
  const expiresAt = new Date(Date.now() + expiresIn * 1000);
  const { row, tenant } = await ctx.database.withTenant(tenantId, async (tx) => {
    const before = await lockOpen(tx, tenantId, id);
    await assertNoAccount(tx, tenantId, before.email);
    // Roles deleted since are left out (they would be skipped at acceptance anyway).
    const kept: string[] = [];
    for (const r of before.roleIds) if (await roleById(tx, tenantId, r)) kept.push(r);
    await assertGrantable(tx, actor, kept);
    const row = (await repo.reissue(tx, tenantId, id, { tokenHash: token.hash, expiresAt }))!;
    await writeAudit(tx, tenantId, actor.audit, {
      eventType: 'invitation.resent',
      resourceType: 'invitation',
      resourceId: id,
      metadata: {
        email: before.email,
        before: { expires_at: before.expiresAt.toISOString() },
        after: { expires_at: expiresAt.toISOString() },
      },
    });
    return { row, tenant: (await getTenant(tx, tenantId))! };
  });
  mailLink(ctx, tenant, row.email, token.raw, expiresAt);
  return toInvitationRead(row);
}

export async function revokeInvitation(ctx: InvitationsDeps, actor: Actor, id: string): Promise<void> {
  const { tenantId } = actor;
  await ctx.database.withTenant(tenantId, async (tx) => {
    const row = await lockOpen(tx, tenantId, id);
    await repo.revoke(tx, tenantId, id);
    await writeAudit(tx, tenantId, actor.audit, {
      eventType: 'invitation.revoked',
      resourceType: 'invitation',
      resourceId: id,
      metadata: { email: row.email, status_before: repo.statusOf(row) },
    });
  });
}

// ---- the invited person (public routes) ----

const REFUSAL: Record<Exclude<repo.InvitationStatus, 'pending'>, InvalidInvitation> = {
  accepted: 'INVITATION_ALREADY_ACCEPTED',
  revoked: 'INVITATION_REVOKED',
  expired: 'INVITATION_EXPIRED',
};

type Inspection = { tenant: TenantRow; invitation: repo.Invitation; tokenHash: string };

/** The pending invitation a link names, or the 4xx saying why it does not work. */
async function inspect(ctx: InvitationsDeps, raw: string): Promise<Inspection> {
  const parsed = parseToken(raw);
  if (!parsed) throw invitationsErrors.error('INVITATION_INVALID');
  const { tenantId, hash } = parsed;
  const found = await ctx.database.withTenant(tenantId, async (tx) => {
    const invitation = await repo.findByTokenHash(tx, tenantId, hash);
    // Sequential: a transaction's connection runs one query at a time.
    const tenant = invitation ? await getTenant(tx, tenantId) : null;
    return { invitation, tenant };
  });
  const { invitation, tenant } = found;
  if (!invitation || tenant?.status !== 'active') throw invitationsErrors.error('INVITATION_INVALID');
  const status = repo.statusOf(invitation);
  if (status !== 'pending') throw invitationsErrors.error(REFUSAL[status]);
  return { tenant, invitation, tokenHash: hash };
}

export async function previewInvitation(ctx: InvitationsDeps, raw: string) {
  const { tenant, invitation } = await inspect(ctx, raw);
  return {
    email: invitation.email,
    tenant_name: tenant.name,
    sso: await routesToConnection(ctx, invitation.email, tenant.id),
  };
}

/** Gives the invited roles that still exist to the new user, each audited as a grant by the inviter's invitation. */
async function grantInvitedRoles(
  tx: Tx,
  invitation: repo.Invitation,
  userId: number,
  audit: AuditContext,
): Promise<string[]> {
  const { tenantId } = invitation;
  const granted: string[] = [];
  for (const roleId of invitation.roleIds) {
    const role = await grantRoleById(tx, tenantId, userId, roleId, invitation.invitedBy);
    if (!role) continue;
    granted.push(role.id);
    await writeAudit(tx, tenantId, audit, {
      eventType: 'role.assigned',
      resourceType: 'user',
      resourceId: userId,
      metadata: { role_id: role.id, role_code: role.code, invitation_id: invitation.id },
    });
  }
  return granted;
}

/** The invitation is accepted: roles, the accepting user recorded, the audit record (in the caller's transaction). */
async function completeAcceptance(
  tx: Tx,
  invitation: repo.Invitation,
  userId: number,
  audit: AuditContext,
  method: 'password' | 'sso',
) {
  const { tenantId } = invitation;
  const userAudit: AuditContext = { ...audit, actorType: 'user', actorId: String(userId) };
  const granted = await grantInvitedRoles(tx, invitation, userId, userAudit);
  await repo.setAcceptedUser(tx, tenantId, invitation.id, userId);
  await writeAudit(tx, tenantId, userAudit, {
    eventType: 'invitation.accepted',
    resourceType: 'invitation',
    resourceId: invitation.id,
    metadata: {
      email: invitation.email,
      user_id: userId,
      method,
      role_ids: granted,
      ...(granted.length < invitation.roleIds.length
        ? { roles_gone: invitation.roleIds.length - granted.length }
        : {}),
    },
  });
  return granted;
}

/**
 * POST /invitations/accept: the account, with the invited roles and the address verified (the link proves the
 * mailbox), and its first session. Of two concurrent accepts of one token exactly one gets here with a claim.
 */
export async function acceptInvitation(
  ctx: InvitationsDeps,
  body: Static<typeof AcceptBody>,
  client: ClientInfo,
  audit: AuditContext,
): Promise<LoginResponse> {
  const { tenant, invitation, tokenHash } = await inspect(ctx, body.token);
  const { id: tenantId } = tenant;
  // A domain the tenant signs in through SSO only takes no password (the SSO module answers SSO_REQUIRED).
  const refusal = await ctx.database.withTenant(tenantId, async (tx) => {
    await assertNoAccount(tx, tenantId, invitation.email);
    for (const hook of ctx.hooks.passwordSignIn) {
      const r = await hook(tx, tenant, invitation.email);
      if (r) return r;
    }
    return null;
  });
  if (refusal) throw new AppError(refusal.status, refusal.code, refusal.details);
  // Hashed before the transaction: argon2 holds no connection. The tenant's policy, with its reasons on failure.
  const prepared = await prepareUser(
    ctx,
    {
      email: invitation.email,
      password: body.password,
      firstName: body.first_name ?? null,
      lastName: body.last_name ?? null,
      isActive: true,
      isSuperuser: false,
      isVerified: true,
    },
    resolveSettings(tenant.settings, ctx.config).password_policy,
  );
  const { user, mfaRequired } = await ctx.database.withTenant(tenantId, async (tx) => {
    const claimed = await repo.claim(tx, tenantId, { tokenHash });
    if (!claimed) {
      const now = await repo.findByTokenHash(tx, tenantId, tokenHash);
      const status = now ? repo.statusOf(now) : 'revoked';
      throw invitationsErrors.error(status === 'pending' ? 'INVITATION_INVALID' : REFUSAL[status]);
    }
    const user = await createUserInTx(ctx, tx, tenantId, prepared, {
      source: 'invitation',
      audit,
      metadata: { invitation_id: claimed.id, invited_by: claimed.invitedBy },
    }).catch((err: unknown) => {
      // An account made for the address since the check (an admin, SCIM): the invitation stays unused.
      if (err instanceof AppError && err.code === 'EMAIL_ALREADY_EXISTS')
        throw invitationsErrors.error('USER_EXISTS');
      throw err;
    });
    await completeAcceptance(tx, claimed, user.id, audit, 'password');
    const mfa = await ctx.mfa.status(tx, tenantId, user.id);
    return { user, mfaRequired: mfa.required };
  });
  const userAudit: AuditContext = { ...audit, actorType: 'user', actorId: String(user.id) };
  const tokens = await completeLogin(ctx, tenant, user, client, userAudit, {
    method: 'password',
    mfaEnrolmentPending: mfaRequired,
  });
  return loginResponse(tokens, mfaRequired ? 'auth.login_mfa_enrolment' : 'auth.login_success');
}

/**
 * ctx.hooks.invitedSignUp: a first SSO sign-in of an invited address accepts the invitation. The open invitation
 * is locked in the sign-in's transaction; an expired one is not offered.
 */
export async function invitedSignUp(tx: Tx, tenantId: number, email: string): Promise<InvitedSignUp | null> {
  const open = await repo.lockOpenByEmail(tx, tenantId, email);
  if (!open || repo.statusOf(open) !== 'pending') return null;
  return {
    invitationId: open.id,
    accept: async (userId, audit) => {
      const claimed = await repo.claim(tx, tenantId, { id: open.id });
      // The row is locked by this transaction since the lookup: the claim cannot lose a race here.
      if (!claimed) return {};
      const granted = await completeAcceptance(tx, claimed, userId, audit, 'sso');
      return { invitation_role_ids: granted };
    },
  };
}
