/**
 * Users administration (API.md §6). An administrator may only act on a user whose permissions they hold
 * themselves (a manager cannot deactivate or delete the owner), only a superuser touches `is_superuser`, and
 * nobody deactivates, verifies or deletes their own account here. Changes that alter what a user may do bump
 * the tenant's permission version after they commit; deactivation and deletion end the user's sessions.
 */
import { type AuditContext, writeAudit } from '../../platform/audit/writer.js';
import type { AppContext, UserDeactivationReason } from '../../platform/context.js';
import type { Executor, Tx } from '../../platform/db/client.js';
import { AppError, badRequest, forbidden, notFound } from '../../platform/http/errors.js';
import { registerMessages } from '../../platform/http/messages.js';
import { keys } from '../../platform/store/keys.js';
import { assertStrongPassword, tenantSettings } from '../auth/service.js';
import { voidPending as voidPendingResets } from '../password-reset/repository.js';
import { canGrant } from '../rbac/permissions.js';
import {
  countActiveHolders,
  findRoleByCode,
  findUserWithRoleCodes,
  lockRoleGraph,
  roleCodesOf,
} from '../rbac/repository.js';
import { bumpPermissionVersion, resolveUserPermissions } from '../rbac/resolver.js';
import * as sessionsRepo from '../sessions/repository.js';
import { publishRevocations } from '../sessions/service.js';
import { findTenantById } from '../tenants/repository.js';
import * as repo from './repository.js';
import { auditView, fullName, toUserRead, toUserReadFull } from './serialize.js';
import type { UserRow } from './tables.js';

registerMessages({
  OWN_ACCOUNT: {
    fr: 'Action impossible sur votre propre compte',
    en: 'This action is not allowed on your own account',
  },
  SUPERUSER_REQUIRED: {
    fr: 'Seul un super-utilisateur peut accorder ce droit',
    en: 'Only a superuser may grant this',
  },
});

export interface Actor {
  tenantId: number;
  userId: number | null;
  permissions: ReadonlySet<string>;
  audit: AuditContext;
}

async function full(ctx: AppContext, tx: Tx, u: UserRow) {
  const [roles, mfa] = [
    await roleCodesOf(tx, u.tenantId, [u.id]),
    await ctx.mfa.status(tx, u.tenantId, u.id),
  ];
  return toUserReadFull(u, { roles: roles.get(u.id) ?? [], hasMfa: mfa.enabled });
}

/** The actor must hold everything the target holds: no acting on someone more powerful than yourself. */
async function assertDominates(ctx: AppContext, actor: Actor, targetId: number) {
  if (actor.userId === targetId) return;
  const target = await resolveUserPermissions(ctx, actor.tenantId, targetId);
  // The target's set is already filtered for its tenant; judging it as a platform tenant keeps every code.
  const missing = [...target].filter((p) => !canGrant(actor.permissions, p, true));
  if (missing.length > 0)
    throw forbidden('PERMISSION_DENIED', {
      reason: 'the user holds permissions you do not hold',
      permissions: missing,
    });
}

async function assertSuperuserActor(tx: Tx, actor: Actor) {
  const me = actor.userId === null ? null : await repo.findUserById(tx, actor.tenantId, actor.userId);
  if (!me?.isSuperuser || !me.isActive) throw forbidden('SUPERUSER_REQUIRED');
}

/**
 * Deactivating or deleting the tenant's last active owner would leave nobody able to administer it. Call inside
 * the removing transaction, with the user's row locked (GDPR erasure and anonymisation use it too).
 */
export async function assertNotLastOwner(tx: Tx, tenantId: number, userId: number) {
  const owner = await findRoleByCode(tx, tenantId, 'owner');
  if (!owner) return;
  await lockRoleGraph(tx, tenantId);
  const codes = (await roleCodesOf(tx, tenantId, [userId])).get(userId) ?? [];
  if (codes.includes('owner') && (await countActiveHolders(tx, tenantId, owner.id)) <= 1)
    throw new AppError(409, 'LAST_OWNER');
}

function notSelf(actor: Actor, id: number) {
  if (actor.userId === id) throw badRequest('OWN_ACCOUNT');
}

// ---- self ----

export async function getProfile(ctx: AppContext, tenantId: number, userId: number) {
  return ctx.database.withTenant(tenantId, async (tx) => {
    const u = await repo.findUserById(tx, tenantId, userId);
    if (!u) throw notFound('user');
    return profileOf(ctx, tx, u);
  });
}

async function profileOf(ctx: AppContext, tx: Tx, u: UserRow) {
  const tenant = await findTenantById(tx, u.tenantId);
  const mfa = await ctx.mfa.status(tx, u.tenantId, u.id);
  return {
    id: u.id,
    email: u.email,
    first_name: u.firstName,
    last_name: u.lastName,
    full_name: fullName(u),
    phone: u.phone,
    is_verified: u.isVerified,
    has_mfa: mfa.enabled,
    tenant_id: u.tenantId,
    tenant_name: tenant?.name ?? '',
    created_at: u.createdAt.toISOString(),
    last_login_at: u.lastLoginAt?.toISOString() ?? null,
  };
}

export async function updateProfile(
  ctx: AppContext,
  tenantId: number,
  userId: number,
  body: { first_name?: string | null; last_name?: string | null; phone?: string | null },
  audit: AuditContext,
) {
  return ctx.database.withTenant(tenantId, async (tx) => {
    const before = await repo.findUserForUpdate(tx, tenantId, userId);
    if (!before) throw notFound('user');
    const after = (await repo.updateUser(tx, tenantId, userId, {
      ...(body.first_name !== undefined ? { firstName: body.first_name } : {}),
      ...(body.last_name !== undefined ? { lastName: body.last_name } : {}),
      ...(body.phone !== undefined ? { phone: body.phone } : {}),
    }))!;
    await writeAudit(tx, tenantId, audit, {
      eventType: 'user.profile_updated',
      resourceType: 'user',
      resourceId: userId,
      metadata: { before: auditView(before), after: auditView(after) },
    });
    return profileOf(ctx, tx, after);
  });
}

// ---- administration ----

export async function listUsers(
  ctx: AppContext,
  tenantId: number,
  q: { skip?: number; limit?: number; search?: string; is_active?: boolean },
) {
  const { rows, total } = await ctx.database.withTenant(tenantId, (tx) =>
    repo.listUsers(tx, tenantId, {
      skip: q.skip ?? 0,
      limit: q.limit ?? 20,
      search: q.search?.trim() || undefined,
      isActive: q.is_active,
    }),
  );
  return { users: rows.map(toUserRead), total };
}

export async function getUser(ctx: AppContext, tenantId: number, id: number) {
  return ctx.database.withTenant(tenantId, async (tx) => {
    const found = await findUserWithRoleCodes(tx, tenantId, id);
    if (!found) throw notFound('user');
    const mfa = await ctx.mfa.status(tx, tenantId, id);
    return toUserReadFull(found.user, { roles: found.roles, hasMfa: mfa.enabled });
  });
}

export async function createUser(
  ctx: AppContext,
  actor: Actor,
  body: {
    email: string;
    password: string;
    first_name?: string | null;
    last_name?: string | null;
    phone?: string | null;
    is_active?: boolean;
    is_verified?: boolean;
    is_superuser?: boolean;
  },
) {
  const { tenantId } = actor;
  const email = body.email.toLowerCase();
  assertStrongPassword(body.password, email, await tenantSettings(ctx, tenantId));
  // argon2 outside the transaction: no connection is held while hashing.
  const hash = await ctx.hasher.hash(body.password);
  const user = await ctx.database.withTenant(tenantId, async (tx) => {
    if (body.is_superuser) await assertSuperuserActor(tx, actor);
    if (await repo.findUserByEmail(tx, tenantId, email)) throw new AppError(409, 'EMAIL_ALREADY_EXISTS');
    const created = await repo.insertUser(tx, tenantId, {
      email,
      passwordHash: hash,
      firstName: body.first_name ?? null,
      lastName: body.last_name ?? null,
      phone: body.phone ?? null,
      isActive: body.is_active ?? true,
      isVerified: body.is_verified ?? false,
      isSuperuser: body.is_superuser ?? false,
    });
    for (const hook of ctx.hooks.userCreated) await hook(tx, tenantId, created.id, 'admin');
    await writeAudit(tx, tenantId, actor.audit, {
      eventType: 'user.created',
      resourceType: 'user',
      resourceId: created.id,
      metadata: { after: auditView(created) },
    });
    return created;
  });
  return toUserRead(user);
}

export async function updateUser(
  ctx: AppContext,
  actor: Actor,
  id: number,
  body: {
    first_name?: string | null;
    last_name?: string | null;
    phone?: string | null;
    email?: string;
    is_active?: boolean;
    is_verified?: boolean;
    is_superuser?: boolean;
  },
) {
  const { tenantId } = actor;
  if (body.is_active === false) notSelf(actor, id);
  const exists = await ctx.database.withTenant(tenantId, (tx) => repo.findUserById(tx, tenantId, id));
  if (!exists) throw notFound('user');
  await assertDominates(ctx, actor, id);
  const { user, revoked, permsChanged } = await ctx.database.withTenant(tenantId, async (tx) => {
    const before = await repo.findUserForUpdate(tx, tenantId, id);
    if (!before) throw notFound('user');
    if (body.is_superuser !== undefined && body.is_superuser !== before.isSuperuser)
      await assertSuperuserActor(tx, actor);
    if (before.isActive && body.is_active === false) await assertNotLastOwner(tx, tenantId, id);
    const email = body.email?.toLowerCase();
    if (email && email !== before.email && (await repo.findUserByEmail(tx, tenantId, email)))
      throw new AppError(409, 'EMAIL_ALREADY_EXISTS');
    const after = (await repo.updateUser(tx, tenantId, id, {
      ...(body.first_name !== undefined ? { firstName: body.first_name } : {}),
      ...(body.last_name !== undefined ? { lastName: body.last_name } : {}),
      ...(body.phone !== undefined ? { phone: body.phone } : {}),
      ...(email !== undefined ? { email } : {}),
      ...(body.is_active !== undefined ? { isActive: body.is_active } : {}),
      ...(body.is_verified !== undefined ? { isVerified: body.is_verified } : {}),
      ...(body.is_superuser !== undefined ? { isSuperuser: body.is_superuser } : {}),
    }))!;
    const ended =
      before.isActive && !after.isActive
        ? await sessionsRepo.revokeSessions(tx, tenantId, { userId: id }, 'user_deactivated')
        : [];
    if (!after.isActive && body.is_active === false)
      await runUserDeactivated(ctx, tx, tenantId, id, 'deactivated', actor.audit);
    // A reset link mailed to the old address must not take over the account after the change.
    const resetLinksVoided = after.email !== before.email ? await voidPendingResets(tx, tenantId, id) : 0;
    await writeAudit(tx, tenantId, actor.audit, {
      eventType: 'user.updated',
      resourceType: 'user',
      resourceId: id,
      metadata: {
        before: auditView(before),
        after: auditView(after),
        sessions_ended: ended.length,
        ...(resetLinksVoided ? { reset_links_voided: resetLinksVoided } : {}),
      },
    });
    return {
      user: await full(ctx, tx, after),
      revoked: ended,
      permsChanged: before.isActive !== after.isActive || before.isSuperuser !== after.isSuperuser,
    };
  });
  await publishRevocations(ctx, revoked);
  if (body.is_active !== undefined) await publishActiveState(ctx, tenantId, id, user.is_active);
  if (permsChanged) await bumpPermissionVersion(ctx, tenantId);
  return user;
}

/** After the change commits: every replica refuses (or accepts again) the user's API keys from the next request. */
async function publishActiveState(ctx: AppContext, tenantId: number, userId: number, active: boolean) {
  if (active) await ctx.store.del(keys.userInactive(tenantId, userId));
  else await ctx.store.set(keys.userInactive(tenantId, userId), 'deactivated');
}

export type FlagAction = 'activate' | 'deactivate' | 'verify';

export async function setFlag(ctx: AppContext, actor: Actor, id: number, action: FlagAction) {
  const { tenantId } = actor;
  notSelf(actor, id);
  const exists = await ctx.database.withTenant(tenantId, (tx) => repo.findUserById(tx, tenantId, id));
  if (!exists) throw notFound('user');
  await assertDominates(ctx, actor, id);
  const revoked = await ctx.database.withTenant(tenantId, async (tx) => {
    const before = await repo.findUserForUpdate(tx, tenantId, id);
    if (!before) throw notFound('user');
    if (action === 'deactivate' && before.isActive) await assertNotLastOwner(tx, tenantId, id);
    const patch = action === 'verify' ? { isVerified: true } : { isActive: action === 'activate' };
    const after = (await repo.updateUser(tx, tenantId, id, patch))!;
    const ended =
      action === 'deactivate'
        ? await sessionsRepo.revokeSessions(tx, tenantId, { userId: id }, 'user_deactivated')
        : [];
    // Idempotent (only peers not yet revoked), so deactivating again also ends access granted while inactive.
    if (action === 'deactivate') await runUserDeactivated(ctx, tx, tenantId, id, 'deactivated', actor.audit);
    await writeAudit(tx, tenantId, actor.audit, {
      eventType: `user.${action === 'verify' ? 'verified' : `${action}d`}`,
      resourceType: 'user',
      resourceId: id,
      metadata: { before: auditView(before), after: auditView(after), sessions_ended: ended.length },
    });
    return ended;
  });
  await publishRevocations(ctx, revoked);
  if (action !== 'verify') {
    await publishActiveState(ctx, tenantId, id, action === 'activate');
    await bumpPermissionVersion(ctx, tenantId);
  }
  const messages: Record<FlagAction, string> = {
    activate: 'Utilisateur activé',
    deactivate: 'Utilisateur désactivé',
    verify: 'Utilisateur vérifié',
  };
  return { success: true, message: messages[action], data: null };
}

/**
 * What taking a user out of the tenant requires before its transaction (deletion here, GDPR erasure and
 * anonymisation): not one's own account (400), a user of the caller's tenant (404), one the caller dominates
 * (403). Inside the transaction, an active user must also not be the last owner (assertNotLastOwner).
 */
export async function assertMayRemoveUser(ctx: AppContext, actor: Actor, id: number): Promise<void> {
  notSelf(actor, id);
  await assertMayManageUser(ctx, actor, id);
}

/** A user of the caller's tenant (else 404) whom the caller dominates (else 403): admin routes acting on them. */
export async function assertMayManageUser(ctx: AppContext, actor: Actor, id: number): Promise<void> {
  await assertUserExists(ctx, actor.tenantId, id);
  await assertDominates(ctx, actor, id);
}

/** In the deactivating or deleting transaction: modules end the access they gave the user (WireGuard peers). */
export async function runUserDeactivated(
  ctx: AppContext,
  tx: Tx,
  tenantId: number,
  userId: number,
  reason: UserDeactivationReason,
  audit: AuditContext,
): Promise<void> {
  for (const hook of ctx.hooks.userDeactivated) await hook(tx, tenantId, userId, reason, audit);
}

export async function deleteUser(ctx: AppContext, actor: Actor, id: number): Promise<void> {
  const { tenantId } = actor;
  await assertMayRemoveUser(ctx, actor, id);
  const revoked = await ctx.database.withTenant(tenantId, async (tx) => {
    const before = await repo.findUserForUpdate(tx, tenantId, id);
    if (!before) throw notFound('user');
    if (before.isActive) await assertNotLastOwner(tx, tenantId, id);
    // Revoked before the rows go (sessions cascade), so their ids can be published to every replica.
    const ended = await sessionsRepo.revokeSessions(tx, tenantId, { userId: id }, 'user_deleted');
    await runUserDeactivated(ctx, tx, tenantId, id, 'deleted', actor.audit);
    await repo.deleteUser(tx, tenantId, id);
    await writeAudit(tx, tenantId, actor.audit, {
      eventType: 'user.deleted',
      resourceType: 'user',
      resourceId: id,
      metadata: { before: auditView(before), sessions_ended: ended.length },
    });
    return ended;
  });
  await publishRevocations(ctx, revoked);
  // Ids are never reused; a day outlives every cache of the user's keys.
  await ctx.store.set(keys.userInactive(tenantId, id), 'deleted', 86_400);
  await bumpPermissionVersion(ctx, tenantId);
}

/** 404 unless the user is in the caller's tenant (admin session routes). */
export async function assertUserExists(ctx: AppContext, tenantId: number, id: number) {
  const u = await ctx.database.withTenant(tenantId, (tx) => repo.findUserById(tx, tenantId, id));
  if (!u) throw notFound('user');
  return u;
}

/** Whether the user exists in the tenant (in the caller's transaction): other modules' user_id fields. */
export async function userExistsInTenant(tx: Executor, tenantId: number, id: number): Promise<boolean> {
  return (await repo.findUserById(tx, tenantId, id)) !== null;
}
