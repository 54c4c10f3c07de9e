/**
 * Users administration (API.md §6). An administrator may only act on a user whose permissions they hold
 * themselves (a manager cannot deactivate or delete the owner), only a superuser touches `is_superuser`, and
 * nobody deactivates, verifies or deletes their own account here. Changes that alter what a user may do bump
 * the tenant's permission version after they commit; deactivation and deletion end the user's sessions.
 */

import { type AuditContext, SYSTEM_AUDIT_CONTEXT, writeAudit } from '../../platform/audit/writer.js';
import type { UserDeactivationReason, UsersProvider } from '../../platform/context.js';
import { assertStrongPassword, type PasswordPolicy } from '../../platform/crypto/password-policy.js';
import type { Executor, Tx } from '../../platform/db/client.js';
import { notFound, platformErrors, validationError } from '../../platform/http/errors.js';
import type { Locale } from '../../platform/http/messages.js';
import { keys } from '../../platform/store/keys.js';
import { bumpUserVersion } from '../../platform/store/versions.js';
import {
  type Actor,
  assertNotLastOwner as assertNotLastOwnerOfRoles,
  bumpPermissionVersion,
  canGrant,
  resolveUserPermissions,
  roleCodesOf,
} from '../rbac/index.js';
import { publishRevocations, revokeUserSessions } from '../sessions/index.js';
import { getTenant, tenantSettings } from '../tenants/index.js';
import type { UsersDeps } from './deps.js';
import { usersErrors, usersText } from './errors.js';
import * as repo from './repository.js';
import type { Profile, ProfileUpdate, UserCreate, UserListQuery, UserUpdate } from './schemas.js';
import { commonTrigrams, indexPatternFor, SearchTrigrams } from './search-index-pattern.js';
import { auditView, fullName, toUserListItem, toUserRead, toUserReadFull } from './serialize.js';
import type { UserRow } from './tables.js';

export type { Actor };

// ---- THE user creation (admin route, self-registration, first admin of a tenant, CLI, test factories) ----

/** Who creates the user; decides the audit event and the userCreated hooks' `source`. */
export type UserCreationSource = 'register' | 'admin' | 'cli' | 'sso' | 'scim' | 'first_admin' | 'invitation';

/** A user to create, before the password is checked and hashed (the row's fields, less the hash). */
export type NewUser = Omit<repo.NewUser, 'passwordHash'>;

/** A new user whose password has been checked and hashed (outside any transaction: argon2 holds no connection). */
export type PreparedUser = repo.NewUser;

/**
 * Step 1, before the transaction: the address lower-cased and trimmed, the password checked against `policy`
 * (422 PASSWORD_TOO_WEAK; null skips the check, for passwords the caller generated) and hashed. `password:
 * null` creates a user without a password (SSO); `passwordHash` passes an already hashed one (tests).
 */
export async function prepareUser(
  ctx: UsersDeps,
  input: (NewUser & { password: string | null }) | (NewUser & { passwordHash: string }),
  policy: PasswordPolicy | null,
  minLength?: number,
): Promise<PreparedUser> {
  const email = input.email.trim().toLowerCase();
  if ('passwordHash' in input) return { ...input, email };
  const { password, ...rest } = input;
  if (password !== null && policy) assertStrongPassword(password, email, policy, minLength);
  return { ...rest, email, passwordHash: password === null ? null : await ctx.hasher.hash(password) };
}

/**
 * Step 2, THE insertion, inside the caller's tenant transaction: 409 EMAIL_ALREADY_EXISTS for a taken address,
 * the row, the userCreated hooks (RBAC gives self-registered users `member`) and the audit record
 * (`user.registered` by the user themself for self-registration, `user.created` otherwise).
 */
export async function createUserInTx(
  ctx: UsersDeps,
  tx: Tx,
  tenantId: number,
  user: PreparedUser,
  opts: { source: UserCreationSource; audit: AuditContext; metadata?: Record<string, unknown> },
): Promise<UserRow> {
  if (await repo.findUserByEmail(tx, tenantId, user.email)) throw usersErrors.error('EMAIL_ALREADY_EXISTS');
  const created = await repo.insertUser(tx, tenantId, user);
  const hookSource = opts.source === 'first_admin' ? 'admin' : opts.source;
  for (const hook of ctx.hooks.userCreated) await hook(tx, tenantId, created.id, hookSource);
  const registered = opts.source === 'register';
  await writeAudit(
    tx,
    tenantId,
    registered ? { ...opts.audit, actorType: 'user', actorId: String(created.id) } : opts.audit,
    {
      eventType: registered ? 'user.registered' : 'user.created',
      resourceType: 'user',
      resourceId: created.id,
      metadata: { after: auditView(created), source: opts.source, ...(opts.metadata ?? {}) },
    },
  );
  return created;
}

/**
 * Both steps in one call, in the tenant's own transaction, against the tenant's password policy (`policy:
 * 'skip'` for a generated password). `check` runs in the transaction before the insertion (the admin route's
 * superuser rule).
 */
export async function createUser(
  ctx: UsersDeps,
  tenantId: number,
  input: NewUser & { password: string | null },
  opts: {
    source: UserCreationSource;
    audit?: AuditContext;
    policy?: 'tenant' | 'skip';
    minLength?: number;
    check?: (tx: Tx) => Promise<void>;
  },
): Promise<UserRow> {
  const policy = opts.policy === 'skip' ? null : (await tenantSettings(ctx, tenantId)).password_policy;
  const prepared = await prepareUser(ctx, input, policy, opts.minLength);
  return ctx.database.withTenant(tenantId, async (tx) => {
    await opts.check?.(tx);
    return createUserInTx(ctx, tx, tenantId, prepared, {
      source: opts.source,
      audit: opts.audit ?? SYSTEM_AUDIT_CONTEXT,
    });
  });
}

async function full(ctx: UsersDeps, tx: Tx, u: UserRow) {
  const [roles, mfa] = [
    await roleCodesOf(tx, u.tenantId, [u.id]),
    await ctx.mfa.status(tx, u.tenantId, u.id),
  ];
  return toUserReadFull(u, { roles: roles.get(u.id) ?? [], hasMfa: mfa.enabled });
}

/**
 * The actor must hold everything the target holds: no acting on someone more powerful than yourself. This check and
 * the asserts built on it take only what they read, so modules calling them (GDPR) need not provide all of UsersDeps.
 */
async function assertDominates(
  ctx: Pick<UsersDeps, 'database' | 'log' | 'store' | 'users'>,
  actor: Actor,
  targetId: number,
) {
  if (actor.userId === targetId) return;
  const target = await resolveUserPermissions(ctx, actor.tenantId, targetId);
  // The target's set is already filtered for its tenant; judging it as a platform tenant keeps every code.
  const missing = [...target].filter((p) => !canGrant(actor.permissions, p, true));
  if (missing.length > 0)
    throw platformErrors.error('PERMISSION_DENIED', {
      reason: 'the user holds permissions you do not hold',
      permissions: missing,
    });
}

async function assertSuperuserActor(tx: Tx, actor: Actor) {
  const me = actor.userId === null ? null : await repo.findUserById(tx, actor.tenantId, actor.userId);
  if (!me?.isSuperuser || !me.isActive) throw usersErrors.error('SUPERUSER_REQUIRED');
}

/**
 * Deactivating or deleting the tenant's last active owner would leave nobody able to administer it. Call inside
 * the removing transaction, with the user's row locked (GDPR erasure and anonymisation use it too).
 */
export async function assertNotLastOwner(tx: Tx, tenantId: number, userId: number) {
  await assertNotLastOwnerOfRoles(tx, tenantId, userId, (ids) => repo.countActiveUsers(tx, tenantId, ids));
}

function notSelf(actor: Actor, id: number) {
  if (actor.userId === id) throw usersErrors.error('OWN_ACCOUNT');
}

// ---- self ----

export async function getProfile(ctx: UsersDeps, tenantId: number, userId: number) {
  return ctx.database.withTenant(tenantId, async (tx) => {
    const u = await repo.findUserById(tx, tenantId, userId);
    if (!u) throw notFound('user');
    return profileOf(ctx, tx, u);
  });
}

async function profileOf(ctx: UsersDeps, tx: Tx, u: UserRow): Promise<Profile> {
  const tenant = await getTenant(tx, u.tenantId);
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
  ctx: UsersDeps,
  tenantId: number,
  userId: number,
  body: ProfileUpdate,
  audit: AuditContext,
) {
  const profile = await ctx.database.withTenant(tenantId, async (tx) => {
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
  // After the commit: every replica's cached identity of the user is re-read (platform/store/versions.ts).
  await bumpUserVersion(ctx.store, tenantId, userId);
  return profile;
}

// ---- administration ----

/** Per app (its database handle), the tenants' common search trigrams (search-index-pattern.ts). */
const trigramCaches = new WeakMap<object, SearchTrigrams>();

/** The part of `search` the trigram indexes should be asked for; the tenant's sample is read once an hour. */
async function searchIndexPattern(ctx: UsersDeps, tx: Executor, tenantId: number, search: string) {
  let cache = trigramCaches.get(ctx.database);
  if (!cache) {
    cache = new SearchTrigrams();
    trigramCaches.set(ctx.database, cache);
  }
  const now = ctx.clock.now();
  let common = cache.get(tenantId, now);
  if (!common) {
    const sample = await repo.searchTrigramSample(tx, tenantId);
    common = commonTrigrams(sample.counts, sample.sampled);
    cache.set(tenantId, common, now);
  }
  return indexPatternFor(search, common);
}

export async function listUsers(ctx: UsersDeps, tenantId: number, q: UserListQuery) {
  // The cursor is an id: it orders nothing but the default order (docs/api.md §6, with a sort, page with skip).
  if (q.sort && q.cursor !== undefined)
    throw validationError('querystring.cursor', 'cannot be combined with sort (page with skip)');
  const search = q.search?.trim() || undefined;
  // Listing and search may be served by the read replica (platform/db/replica.ts).
  const page = await ctx.database.withTenantRead(tenantId, async (tx) =>
    repo.listUsers(tx, tenantId, {
      skip: q.skip ?? 0,
      limit: q.limit ?? 20,
      search,
      searchIndexPattern: search ? await searchIndexPattern(ctx, tx, tenantId, search) : null,
      isActive: q.is_active,
      ...(q.sort ? { sort: q.sort } : {}),
      annotate: { hasMfa: ctx.mfa.enabledSql },
      // Ids are int4: a larger cursor is past every id (and must not reach the database as out of range).
      ...(q.cursor !== undefined ? { afterId: Math.min(Number(q.cursor), 2_147_483_647) } : {}),
    }),
  );
  const last = page.rows.at(-1);
  return {
    users: page.rows.map((r) => toUserListItem(r.user, { roles: r.roles ?? [], hasMfa: r.hasMfa === true })),
    total: page.total,
    total_is_exact: page.totalIsExact,
    next_cursor: page.more && last && !q.sort ? String(last.user.id) : null,
  };
}

export async function getUser(ctx: UsersDeps, tenantId: number, id: number) {
  // Both reads leave together behind the tenant context: one database round trip on PostgreSQL.
  const [found, mfa] = await ctx.database.readTenant(tenantId, (tx) =>
    Promise.all([repo.findUserWithRoleCodes(tx, tenantId, id), ctx.mfa.status(tx, tenantId, id)]),
  );
  if (!found) throw notFound('user');
  return toUserReadFull(found.user, { roles: found.roles, hasMfa: mfa.enabled });
}

/** POST /users: an administrator creates a user (only a superuser creates a superuser). */
export async function createUserAsAdmin(ctx: UsersDeps, actor: Actor, body: UserCreate) {
  const { password, first_name, last_name, phone, is_active, is_verified, is_superuser, email } = body;
  const user = await createUser(
    ctx,
    actor.tenantId,
    {
      email,
      password,
      firstName: first_name ?? null,
      lastName: last_name ?? null,
      phone: phone ?? null,
      isActive: is_active ?? true,
      isVerified: is_verified ?? false,
      isSuperuser: is_superuser ?? false,
    },
    {
      source: 'admin',
      audit: actor.audit,
      check: async (tx) => {
        if (is_superuser) await assertSuperuserActor(tx, actor);
      },
    },
  );
  return toUserRead(user);
}

/**
 * `inTx` runs in the updating transaction, after the row changed and before the audit record: a caller that changes
 * more than the row (SCIM stores the IdP's externalId) does it atomically; what it returns joins the record.
 */
export interface UpdateUserOptions {
  inTx?: (tx: Tx, before: UserRow, after: UserRow) => Promise<Record<string, unknown> | undefined>;
}

export async function updateUser(
  ctx: UsersDeps,
  actor: Actor,
  id: number,
  body: UserUpdate,
  opts: UpdateUserOptions = {},
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
      throw usersErrors.error('EMAIL_ALREADY_EXISTS');
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
        ? await revokeUserSessions(tx, tenantId, id, 'user_deactivated')
        : [];
    if (!after.isActive && body.is_active === false)
      await runUserDeactivated(ctx, tx, tenantId, id, 'deactivated', actor.audit);
    // A reset link mailed to the old address must not take over the account after the change (the
    // password-reset module voids its links through this hook and says how many in the audit record).
    const emailChange = after.email !== before.email ? await runUserEmailChanged(ctx, tx, tenantId, id) : {};
    const extra = (await opts.inTx?.(tx, before, after)) ?? {};
    await writeAudit(tx, tenantId, actor.audit, {
      eventType: 'user.updated',
      resourceType: 'user',
      resourceId: id,
      metadata: {
        before: auditView(before),
        after: auditView(after),
        sessions_ended: ended.length,
        ...emailChange,
        ...extra,
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
  await bumpUserVersion(ctx.store, tenantId, id);
  if (permsChanged) await bumpPermissionVersion(ctx, tenantId);
  return user;
}

/** After the change commits: every replica refuses (or accepts again) the user's API keys from the next request. */
async function publishActiveState(ctx: UsersDeps, tenantId: number, userId: number, active: boolean) {
  if (active) await ctx.store.del(keys.userInactive(tenantId, userId));
  else await ctx.store.set(keys.userInactive(tenantId, userId), 'deactivated');
}

export type FlagAction = 'activate' | 'deactivate' | 'verify';

export async function setFlag(ctx: UsersDeps, actor: Actor, id: number, action: FlagAction, locale: Locale) {
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
      action === 'deactivate' ? await revokeUserSessions(tx, tenantId, id, 'user_deactivated') : [];
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
  await bumpUserVersion(ctx.store, tenantId, id);
  if (action !== 'verify') {
    await publishActiveState(ctx, tenantId, id, action === 'activate');
    await bumpPermissionVersion(ctx, tenantId);
  }
  const messages = {
    activate: 'USER_ACTIVATED',
    deactivate: 'USER_DEACTIVATED',
    verify: 'USER_VERIFIED',
  } as const;
  return { success: true, message: usersText(messages[action], locale), data: null };
}

/**
 * What taking a user out of the tenant requires before its transaction (deletion here, GDPR erasure and
 * anonymisation): not one's own account (400), a user of the caller's tenant (404), one the caller dominates
 * (403). Inside the transaction, an active user must also not be the last owner (assertNotLastOwner).
 */
export async function assertMayRemoveUser(
  ctx: Pick<UsersDeps, 'database' | 'log' | 'store' | 'users'>,
  actor: Actor,
  id: number,
): Promise<void> {
  notSelf(actor, id);
  await assertMayManageUser(ctx, actor, id);
}

/** A user of the caller's tenant (else 404) whom the caller dominates (else 403): admin routes acting on them. */
export async function assertMayManageUser(
  ctx: Pick<UsersDeps, 'database' | 'log' | 'store' | 'users'>,
  actor: Actor,
  id: number,
): Promise<void> {
  await assertUserExists(ctx, actor.tenantId, id);
  await assertDominates(ctx, actor, id);
}

/** In the transaction that changed a user's address: modules end what the old address could do; audit notes. */
async function runUserEmailChanged(ctx: UsersDeps, tx: Tx, tenantId: number, userId: number) {
  const notes: Record<string, unknown> = {};
  for (const hook of ctx.hooks.userEmailChanged) Object.assign(notes, await hook(tx, tenantId, userId));
  return notes;
}

/** In the deactivating or deleting transaction: modules end the access they gave the user (WireGuard peers). */
export async function runUserDeactivated(
  ctx: Pick<UsersDeps, 'hooks'>,
  tx: Tx,
  tenantId: number,
  userId: number,
  reason: UserDeactivationReason,
  audit: AuditContext,
): Promise<void> {
  for (const hook of ctx.hooks.userDeactivated) await hook(tx, tenantId, userId, reason, audit);
}

export async function deleteUser(ctx: UsersDeps, actor: Actor, id: number): Promise<void> {
  const { tenantId } = actor;
  await assertMayRemoveUser(ctx, actor, id);
  const revoked = await ctx.database.withTenant(tenantId, async (tx) => {
    const before = await repo.findUserForUpdate(tx, tenantId, id);
    if (!before) throw notFound('user');
    if (before.isActive) await assertNotLastOwner(tx, tenantId, id);
    // Revoked before the rows go (sessions cascade), so their ids can be published to every replica.
    const ended = await revokeUserSessions(tx, tenantId, id, 'user_deleted');
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
  await bumpUserVersion(ctx.store, tenantId, id);
  await bumpPermissionVersion(ctx, tenantId);
}

/** 404 unless the user is in the caller's tenant (admin session routes). */
export async function assertUserExists(ctx: Pick<UsersDeps, 'database'>, tenantId: number, id: number) {
  const u = await ctx.database.withTenant(tenantId, (tx) => repo.findUserById(tx, tenantId, id));
  if (!u) throw notFound('user');
  return u;
}

// ---- what other modules use (through index.ts): the users table stays behind these ----

/** The user with this address in the tenant (addresses are stored lower-cased), in the caller's transaction. */
export function userByEmail(tx: Executor, tenantId: number, email: string): Promise<UserRow | null> {
  return repo.findUserByEmail(tx, tenantId, email);
}

export function userById(tx: Executor, tenantId: number, id: number): Promise<UserRow | null> {
  return repo.findUserById(tx, tenantId, id);
}

/** The emails of the tenant's users among `ids`, read together (a page of audit records names its actors). */
export function userEmailsById(tx: Executor, tenantId: number, ids: number[]): Promise<Map<number, string>> {
  return repo.findUserEmails(tx, tenantId, ids);
}

/** Is the user active? False for an unknown user. */
export async function isUserActive(tx: Executor, tenantId: number, id: number): Promise<boolean> {
  return (await repo.findUserById(tx, tenantId, id))?.isActive === true;
}

/** Stores a new password hash (change or reset); the caller ends the sessions and audits in the same transaction. */
export function setUserPassword(
  tx: Executor,
  tenantId: number,
  id: number,
  passwordHash: string,
): Promise<void> {
  return repo.updateUserPassword(tx, tenantId, id, passwordHash);
}

/** The users of the tenant whose address is in one of these (lower-case) domains: sso_required's reach. */
export function userIdsInDomains(tx: Executor, tenantId: number, domains: string[]): Promise<number[]> {
  return repo.userIdsInDomains(tx, tenantId, domains);
}

/**
 * The address is proven (a password reset link was opened from its mailbox): is_verified. The caller audits and
 * bumps the user's version once committed.
 */
export async function markEmailVerified(tx: Executor, tenantId: number, id: number): Promise<void> {
  await repo.updateUser(tx, tenantId, id, { isVerified: true });
}

/** A sign-in: last_login_at, and the new hash when the stored one used outdated parameters. */
export function recordUserLogin(
  tx: Executor,
  tenantId: number,
  id: number,
  rehash: string | null,
): Promise<void> {
  return repo.touchLastLogin(tx, tenantId, id, rehash);
}

/** The users provider: what RBAC (below users) asks about users without reading their table. */
export function userLookups(): UsersProvider {
  return {
    grantFlags: async (tx, tenantId, userId) => {
      const u = await repo.findUserById(tx, tenantId, userId);
      return u ? { isActive: u.isActive, isSuperuser: u.isSuperuser } : null;
    },
    countActive: (tx, tenantId, userIds) => repo.countActiveUsers(tx, tenantId, userIds),
  };
}

/** Whether the user exists in the tenant (in the caller's transaction): other modules' user_id fields. */
export async function userExistsInTenant(tx: Executor, tenantId: number, id: number): Promise<boolean> {
  return (await repo.findUserById(tx, tenantId, id)) !== null;
}
