import { type SQL, type SQLWrapper, sql } from 'drizzle-orm';
/**
 * The RBAC policy: custom roles (inheritance, no cycles), assignments, and the rule that nobody grants what they
 * do not hold. Every change writes its audit record in its transaction and bumps the tenant's permission
 * version once it has committed.
 */
import { writeAuditAlone } from '../../platform/audit/alone.js';
import type { AuditContext } from '../../platform/audit/writer.js';
import { writeAudit } from '../../platform/audit/writer.js';
import type { Executor, Tx } from '../../platform/db/client.js';
import { AppError, notFound, platformErrors, validationError } from '../../platform/http/errors.js';
import { isPlatformTenant } from '../tenants/index.js';
import type { RbacDeps } from './deps.js';
import { rbacErrors } from './errors.js';
import {
  canGrant,
  expandPermission,
  grants,
  isKnownPermission,
  PERMISSION_CODES,
  PERMISSIONS,
  PLATFORM_ONLY,
  SYSTEM_ROLES,
  type SystemRoleCode,
} from './permissions.js';
import * as repo from './repository.js';
import {
  bumpPermissionVersion,
  loadRoleGrants,
  permissionsFrom,
  resolveUserPermissions,
} from './resolver.js';
import type { AssignBody, RoleCreate, RoleUpdate } from './schemas.js';
import type { RoleRow } from './tables.js';

/** Who is acting: their effective permissions (already resolved by the guard) and their user id, if any. */
export interface Actor {
  tenantId: number;
  userId: number | null;
  permissions: ReadonlySet<string>;
  audit: AuditContext;
}

export function toRoleRead(r: RoleRow) {
  return {
    id: r.id,
    tenant_id: r.tenantId,
    code: r.code,
    name: r.name,
    description: r.description,
    is_system: r.isSystem,
    permissions: r.isSystem
      ? [...(SYSTEM_ROLES[r.code as SystemRoleCode]?.permissions ?? [])]
      : r.permissions,
    parent_role_id: r.parentRoleId,
    mfa_required: r.mfaRequired,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}

/** Refuses (403) when the actor does not hold every code of `codes` themselves. */
function assertCanGrant(actor: Actor, codes: Iterable<string>, isPlatform: boolean) {
  const missing = [...new Set(codes)].filter((c) => !canGrant(actor.permissions, c, isPlatform));
  refuseUngrantable(missing);
}

function refuseUngrantable(missing: string[]) {
  if (missing.length > 0)
    throw platformErrors.error('PERMISSION_DENIED', {
      reason: 'cannot grant permissions you do not hold',
      permissions: missing,
    });
}

function assertKnown(codes: string[]) {
  const unknown = codes.filter((c) => !isKnownPermission(c));
  if (unknown.length > 0)
    throw validationError(
      'body.permissions',
      `unknown permission(s): ${unknown.join(', ')}`,
      'unknown_permission',
    );
}

/** The raw codes a role stands for once its parents are included (what assigning it hands over). */
async function roleRawCodes(tx: Executor, tenantId: number, roleId: string): Promise<string[]> {
  const src = await repo.loadRoleChainGrants(tx, tenantId, roleId);
  return src.roles.flatMap((r) =>
    r.system ? [...(SYSTEM_ROLES[r.code as SystemRoleCode]?.permissions ?? [])] : r.permissions,
  );
}

/** A parent must exist in the tenant and keep the chain acyclic and shallow. */
async function checkParent(tx: Tx, tenantId: number, roleId: string | null, parentId: string): Promise<void> {
  const parent = await repo.findRoleById(tx, tenantId, parentId);
  if (!parent) throw notFound('role');
  const chain = await repo.ancestorIds(tx, tenantId, parentId);
  if (roleId !== null && chain.includes(roleId)) {
    throw rbacErrors.error('ROLE_CYCLE', {
      errors: [{ field: 'body.parent_role_id', message: 'inheritance cycle', type: 'cycle' }],
    });
  }
  if (chain.length >= repo.MAX_ROLE_DEPTH)
    throw validationError('body.parent_role_id', `inheritance deeper than ${repo.MAX_ROLE_DEPTH}`, 'depth');
}

const WILDCARDS = ['*', ...new Set(PERMISSION_CODES.map((c) => `${c.split('.')[0]}.*`))];

/** GET /permissions: the catalogue and the wildcards it allows. */
export function permissionCatalogue() {
  return {
    permissions: PERMISSION_CODES.map((code) => ({
      code,
      description: PERMISSIONS[code],
      platform_only: PLATFORM_ONLY.has(code),
    })),
    wildcards: WILDCARDS,
  };
}

export async function getRole(ctx: RbacDeps, tenantId: number, id: string) {
  return ctx.database.withTenant(tenantId, async (tx) => {
    const role = await repo.findRoleById(tx, tenantId, id);
    if (!role) throw notFound('role');
    const src = await loadRoleGrants(tx, tenantId, id);
    return { ...toRoleRead(role), effective_permissions: [...permissionsFrom(src)].sort() };
  });
}

export async function listRoles(ctx: RbacDeps, tenantId: number) {
  const rows = await ctx.database.withTenant(tenantId, (tx) => repo.listRoles(tx, tenantId));
  return { roles: rows.map(toRoleRead), total: rows.length };
}

export async function createRole(ctx: RbacDeps, actor: Actor, input: RoleCreate) {
  const { tenantId } = actor;
  assertKnown(input.permissions);
  if (input.code in SYSTEM_ROLES) throw platformErrors.error('ALREADY_EXISTS', { field: 'code' });
  const role = await ctx.database.withTenant(tenantId, async (tx) => {
    await repo.lockRoleGraph(tx, tenantId);
    const isPlatform = await isPlatformTenant(tx, tenantId);
    const granted = [...input.permissions];
    if (input.parent_role_id) {
      await checkParent(tx, tenantId, null, input.parent_role_id);
      granted.push(...(await roleRawCodes(tx, tenantId, input.parent_role_id)));
    }
    assertCanGrant(actor, granted, isPlatform);
    if (await repo.findRoleByCode(tx, tenantId, input.code))
      throw platformErrors.error('ALREADY_EXISTS', { field: 'code' });
    const created = await repo.insertRole(tx, tenantId, {
      code: input.code,
      name: input.name,
      description: input.description ?? null,
      permissions: input.permissions,
      parentRoleId: input.parent_role_id ?? null,
      mfaRequired: input.mfa_required ?? false,
    });
    await writeAudit(tx, tenantId, actor.audit, {
      eventType: 'role.created',
      resourceType: 'role',
      resourceId: created.id,
      metadata: { after: toRoleRead(created) },
    });
    return created;
  });
  await bumpPermissionVersion(ctx, tenantId);
  return toRoleRead(role);
}

export async function updateRole(ctx: RbacDeps, actor: Actor, id: string, input: RoleUpdate) {
  const { tenantId } = actor;
  if (input.permissions) assertKnown(input.permissions);
  const role = await ctx.database.withTenant(tenantId, async (tx) => {
    await repo.lockRoleGraph(tx, tenantId);
    const before = await repo.findRoleById(tx, tenantId, id);
    if (!before) throw notFound('role');
    if (before.isSystem) throw rbacErrors.error('SYSTEM_ROLE_IMMUTABLE');
    const isPlatform = await isPlatformTenant(tx, tenantId);
    const parentAfter = input.parent_role_id !== undefined ? input.parent_role_id : before.parentRoleId;
    if (parentAfter !== null && parentAfter !== before.parentRoleId)
      await checkParent(tx, tenantId, id, parentAfter);
    // Changing a role changes what its holders may do (and its MFA rule for them): the caller must be able to
    // grant everything it hands over, parents included, both before the change and after it.
    const granted = await roleRawCodes(tx, tenantId, id);
    granted.push(...(input.permissions ?? before.permissions));
    if (parentAfter !== null) granted.push(...(await roleRawCodes(tx, tenantId, parentAfter)));
    assertCanGrant(actor, granted, isPlatform);
    const updated = await repo.updateRole(tx, tenantId, id, {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.permissions !== undefined ? { permissions: input.permissions } : {}),
      ...(input.parent_role_id !== undefined ? { parentRoleId: input.parent_role_id } : {}),
      ...(input.mfa_required !== undefined ? { mfaRequired: input.mfa_required } : {}),
    });
    if (!updated) throw notFound('role');
    await writeAudit(tx, tenantId, actor.audit, {
      eventType: 'role.updated',
      resourceType: 'role',
      resourceId: id,
      metadata: { before: toRoleRead(before), after: toRoleRead(updated) },
    });
    return updated;
  });
  await bumpPermissionVersion(ctx, tenantId);
  return toRoleRead(role);
}

export async function deleteRole(ctx: RbacDeps, actor: Actor, id: string): Promise<void> {
  const { tenantId } = actor;
  await ctx.database.withTenant(tenantId, async (tx) => {
    await repo.lockRoleGraph(tx, tenantId);
    const before = await repo.findRoleById(tx, tenantId, id);
    if (!before) throw notFound('role');
    if (before.isSystem) throw rbacErrors.error('SYSTEM_ROLE_IMMUTABLE');
    // Deleting takes what the role grants (parents included) from its holders: managing it, like removing it.
    assertCanGrant(actor, await roleRawCodes(tx, tenantId, id), await isPlatformTenant(tx, tenantId));
    await repo.deleteRole(tx, tenantId, id);
    await writeAudit(tx, tenantId, actor.audit, {
      eventType: 'role.deleted',
      resourceType: 'role',
      resourceId: id,
      metadata: { before: toRoleRead(before) },
    });
  });
  await bumpPermissionVersion(ctx, tenantId);
}

/**
 * The rule of role assignment, in the caller's transaction: 403 PERMISSION_DENIED unless the actor could grant
 * every code the role stands for, its parents' included (platform-only codes count only in the platform tenant).
 * Assigning and removing a role use it, and so does everything else that hands a role's permissions over: a
 * tenant-owned API key's role (api-keys), a SCIM group push (scim, through assignRoleInTx).
 */
export async function assertCanGrantRole(tx: Executor, actor: Actor, roleId: string): Promise<void> {
  const codes = await roleRawCodes(tx, actor.tenantId, roleId);
  const isPlatform = await isPlatformTenant(tx, actor.tenantId);
  refuseUngrantable([...new Set(codes)].filter((c) => !canGrant(actor.permissions, c, isPlatform)));
}

/**
 * The same rule as assertCanGrantRole, as a report: the catalogue permissions the role gives (parents included)
 * that `held` could not grant, sorted; empty when it could grant them all. `massacorp keys audit` lists them.
 */
export async function roleGrantExcess(
  tx: Executor,
  tenantId: number,
  held: ReadonlySet<string>,
  roleId: string,
): Promise<string[]> {
  const codes = await roleRawCodes(tx, tenantId, roleId);
  const isPlatform = await isPlatformTenant(tx, tenantId);
  const excess = new Set<string>();
  for (const c of new Set(codes)) {
    if (canGrant(held, c, isPlatform)) continue;
    for (const p of expandPermission(c))
      if ((isPlatform || !PLATFORM_ONLY.has(p)) && !grants(held, p)) excess.add(p);
  }
  return [...excess].sort();
}

function toAssignmentRead(a: repo.AssignmentView) {
  return {
    role_id: a.roleId,
    code: a.code,
    name: a.name,
    is_system: a.isSystem,
    expires_at: a.expiresAt?.toISOString() ?? null,
    granted_by: a.grantedBy,
    granted_at: a.createdAt.toISOString(),
  };
}

/** 404 unless the tenant has this user (asked of the users module through ctx.users: rbac sits below it). */
async function requireUserIn(ctx: RbacDeps, tx: Executor, tenantId: number, userId: number) {
  if (!(await ctx.users.grantFlags(tx, tenantId, userId))) throw notFound('user');
}

export async function listUserRoles(ctx: RbacDeps, tenantId: number, userId: number) {
  return ctx.database.withTenant(tenantId, async (tx) => {
    await requireUserIn(ctx, tx, tenantId, userId);
    const rows = await repo.listAssignments(tx, tenantId, userId);
    return { roles: rows.map(toAssignmentRead), total: rows.length };
  });
}

export async function assignRole(ctx: RbacDeps, actor: Actor, userId: number, input: AssignBody) {
  const view = await ctx.database.withTenant(actor.tenantId, (tx) =>
    assignRoleInTx(ctx, tx, actor, userId, input),
  );
  await bumpPermissionVersion(ctx, actor.tenantId);
  return toAssignmentRead(view);
}

/**
 * The grant itself, inside the caller's transaction, so a batch of changes (a SCIM group push) commits or fails as
 * a whole. The caller bumps the permission version once after its commit.
 */
export async function assignRoleInTx(
  ctx: RbacDeps,
  tx: Executor,
  actor: Actor,
  userId: number,
  input: AssignBody,
) {
  const { tenantId } = actor;
  const expiresAt = input.expires_at ? new Date(input.expires_at) : null;
  if (expiresAt && expiresAt.getTime() <= Date.now())
    throw validationError('body.expires_at', 'must be in the future');
  await requireUserIn(ctx, tx, tenantId, userId);
  const role = await repo.findRoleById(tx, tenantId, input.role_id);
  if (!role) throw notFound('role');
  await assertCanGrantRole(tx, actor, role.id);
  const { created, before } = await repo.upsertAssignment(tx, tenantId, {
    userId,
    roleId: role.id,
    expiresAt,
    grantedBy: actor.userId,
  });
  await writeAudit(tx, tenantId, actor.audit, {
    eventType: created ? 'role.assigned' : 'role.assignment_updated',
    resourceType: 'user',
    resourceId: userId,
    metadata: {
      role_id: role.id,
      role_code: role.code,
      before: before ? { expires_at: before.expiresAt?.toISOString() ?? null } : null,
      after: { expires_at: expiresAt?.toISOString() ?? null },
    },
  });
  const all = await repo.listAssignments(tx, tenantId, userId);
  return all.find((a) => a.roleId === role.id)!;
}

/**
 * POST /users/bulk/roles, before any user: the role is the tenant's (else 404) and the caller may grant it (else
 * 403), so a refused role refuses the request rather than each user. Each user is then assignRole's (the
 * route, platform/http/bulk.ts).
 */
export async function assertMayAssignRole(ctx: RbacDeps, actor: Actor, roleId: string): Promise<void> {
  await ctx.database.withTenant(actor.tenantId, async (tx) => {
    if (!(await repo.findRoleById(tx, actor.tenantId, roleId))) throw notFound('role');
    await assertCanGrantRole(tx, actor, roleId);
  });
}

export async function removeRole(ctx: RbacDeps, actor: Actor, userId: number, roleId: string): Promise<void> {
  await ctx.database.withTenant(actor.tenantId, (tx) => removeRoleInTx(ctx, tx, actor, userId, roleId));
  await bumpPermissionVersion(ctx, actor.tenantId);
}

/** Taking a role away inside the caller's transaction (see assignRoleInTx). */
export async function removeRoleInTx(
  ctx: RbacDeps,
  tx: Executor,
  actor: Actor,
  userId: number,
  roleId: string,
): Promise<void> {
  const { tenantId } = actor;
  await requireUserIn(ctx, tx, tenantId, userId);
  const role = await repo.findRoleById(tx, tenantId, roleId);
  if (!role) throw notFound('role');
  // Taking a role away is managing it: the same rule as granting it, so a manager cannot demote an owner.
  await assertCanGrantRole(tx, actor, role.id);
  if (role.isSystem && role.code === 'owner') {
    await repo.lockRoleGraph(tx, tenantId);
    if ((await countActiveHolders(ctx, tx, tenantId, role.id)) <= 1) throw rbacErrors.error('LAST_OWNER');
  }
  if (!(await repo.deleteAssignment(tx, tenantId, userId, role.id))) throw notFound('role_assignment');
  await writeAudit(tx, tenantId, actor.audit, {
    eventType: 'role.unassigned',
    resourceType: 'user',
    resourceId: userId,
    metadata: { role_id: role.id, role_code: role.code },
  });
}

/**
 * A directory group's share of an assignment (API.md §20): `viaGroup` true when a mapped group of the user grants
 * the role, false when none does any more. The role itself comes or goes only when no other source holds it
 * (a direct assignment, or another group: the caller computes `viaGroup` over all the user's groups). Bounded like
 * any assignment by what the actor may grant (assertCanGrantRole), checked by the caller before the push; the
 * change is audited with `source: directory_group`. Taking away the last active owner is 409 LAST_OWNER.
 */
export async function setGroupGrantInTx(
  ctx: RbacDeps,
  tx: Tx,
  actor: Actor,
  userId: number,
  roleId: string,
  viaGroup: boolean,
  group: { id: string; display_name: string },
): Promise<'granted' | 'removed' | 'unchanged'> {
  const { tenantId } = actor;
  const role = await repo.findRoleById(tx, tenantId, roleId);
  if (!role) throw notFound('role');
  if (!viaGroup && role.isSystem && role.code === 'owner') {
    await repo.lockRoleGraph(tx, tenantId);
    const holders = await repo.holderIds(tx, tenantId, role.id);
    if (holders.includes(userId) && (await ctx.users.countActive(tx, tenantId, holders)) <= 1) {
      const still = await repo.setGroupSource(tx, tenantId, userId, role.id, false);
      if (still.deleted) throw rbacErrors.error('LAST_OWNER');
      return 'unchanged';
    }
  }
  const r = await repo.setGroupSource(tx, tenantId, userId, role.id, viaGroup);
  if (!r.created && !r.deleted) return 'unchanged';
  await writeAudit(tx, tenantId, actor.audit, {
    eventType: r.created ? 'role.assigned' : 'role.unassigned',
    resourceType: 'user',
    resourceId: userId,
    metadata: {
      role_id: role.id,
      role_code: role.code,
      source: 'directory_group',
      group_id: group.id,
      group_display_name: group.display_name,
    },
  });
  return r.created ? 'granted' : 'removed';
}

/** Active holders of a role among active users (the users module says which users are active). */
async function countActiveHolders(ctx: RbacDeps, tx: Executor, tenantId: number, roleId: string) {
  return ctx.users.countActive(tx, tenantId, await repo.holderIds(tx, tenantId, roleId));
}

/**
 * Deactivating or deleting the tenant's last active owner would leave nobody able to administer it (409
 * LAST_OWNER). Call inside the removing transaction, with the user's row locked; `countActive` is the users
 * module's count of active users among ids (it calls this from its own assertNotLastOwner).
 */
export async function assertNotLastOwner(
  tx: Tx,
  tenantId: number,
  userId: number,
  countActive: (userIds: number[]) => Promise<number>,
) {
  const owner = await repo.findRoleByCode(tx, tenantId, 'owner');
  if (!owner) return;
  await repo.lockRoleGraph(tx, tenantId);
  const codes = (await repo.roleCodesOf(tx, tenantId, [userId])).get(userId) ?? [];
  if (codes.includes('owner') && (await countActive(await repo.holderIds(tx, tenantId, owner.id))) <= 1)
    throw rbacErrors.error('LAST_OWNER');
}

/** Active role codes of several users at once (UserReadFull.roles). */
export function roleCodesOf(
  tx: Executor,
  tenantId: number,
  userIds: number[],
): Promise<Map<number, string[]>> {
  return repo.roleCodesOf(tx, tenantId, userIds);
}

/** GET /users/{id}/permissions: 404 for a user outside the tenant. */
export async function getUserPermissions(ctx: RbacDeps, tenantId: number, userId: number) {
  await ctx.database.withTenant(tenantId, (tx) => requireUserIn(ctx, tx, tenantId, userId));
  const perms = await resolveUserPermissions(ctx, tenantId, userId);
  return { user_id: userId, permissions: [...perms].sort() };
}

/** tenantCreated: the system roles, and `owner` for the first admin. */
export async function seedTenantRoles(
  tx: Tx,
  tenantId: number,
  firstAdminUserId: number | null,
): Promise<void> {
  const ids = await repo.insertSystemRoles(tx, tenantId);
  const owner = ids.get('owner');
  if (firstAdminUserId !== null && owner) {
    await repo.upsertAssignment(tx, tenantId, {
      userId: firstAdminUserId,
      roleId: owner,
      expiresAt: null,
      grantedBy: null,
    });
  }
}

/** Gives a user a system role by code inside an open transaction (registration, factories). */
export async function grantSystemRole(
  tx: Tx,
  tenantId: number,
  userId: number,
  code: SystemRoleCode,
  grantedBy: number | null = null,
): Promise<void> {
  const role = await repo.findRoleByCode(tx, tenantId, code);
  if (!role) return;
  await repo.upsertAssignment(tx, tenantId, { userId, roleId: role.id, expiresAt: null, grantedBy });
}

/** A role of the tenant by its code (system or custom); null when the tenant has none. */
export async function roleIdByCode(tx: Executor, tenantId: number, code: string): Promise<string | null> {
  return (await repo.findRoleByCode(tx, tenantId, code))?.id ?? null;
}

/** Gives a user the role named by `code` (SSO JIT users get their connection's default role). */
export async function grantRoleByCode(
  tx: Tx,
  tenantId: number,
  userId: number,
  code: string,
): Promise<boolean> {
  const role = await repo.findRoleByCode(tx, tenantId, code);
  if (!role) return false;
  await repo.upsertAssignment(tx, tenantId, { userId, roleId: role.id, expiresAt: null, grantedBy: null });
  return true;
}

/**
 * Gives a role by id with no actor check, for a grant someone already had the right to make: an accepted
 * invitation gives the roles its inviter was checked for (assertCanGrantRole) when inviting. A role deleted since
 * is skipped (null). The caller audits.
 */
export async function grantRoleById(
  tx: Tx,
  tenantId: number,
  userId: number,
  roleId: string,
  grantedBy: number | null,
): Promise<{ id: string; code: string } | null> {
  const role = await repo.findRoleById(tx, tenantId, roleId);
  if (!role) return null;
  await repo.upsertAssignment(tx, tenantId, { userId, roleId: role.id, expiresAt: null, grantedBy });
  return { id: role.id, code: role.code };
}

/**
 * Runs a privileged change and, when policy refuses it (403: granting what one does not hold, touching a
 * system role, acting on a more powerful user), records the refusal on its own: the change's transaction rolled
 * back, but an attempted escalation must leave a trace.
 */
export async function auditRefusals<T>(
  ctx: RbacDeps,
  actor: Actor,
  action: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AppError && err.statusCode === 403) {
      await writeAuditAlone(
        ctx,
        actor.tenantId,
        actor.audit,
        {
          eventType: 'access.change_refused',
          success: false,
          resourceType: 'action',
          resourceId: action,
          metadata: { code: err.code, ...(err.details ?? {}) },
        },
        { bestEffort: 'could not audit a refused change' },
      );
    }
    throw err;
  }
}

// --- used by mfa (through index.ts) ---
/**
 * "Does an active (unexpired) role of the user require MFA?" as a SQL boolean, for MFA status's one-round-trip
 * query. The role tables stay this module's: callers get the question, not the tables.
 */
export function userRoleRequiresMfaSql(tenantId: number | SQLWrapper, userId: number | SQLWrapper): SQL {
  return sql`exists (
    select 1 from user_roles ur join roles r on r.tenant_id = ur.tenant_id and r.id = ur.role_id
     where ur.tenant_id = ${tenantId} and ur.user_id = ${userId} and r.mfa_required
       and (ur.expires_at is null or ur.expires_at > now()))`;
}

/**
 * When the answer of userRoleRequiresMfaSql may change with no write: the first expiry of the user's active
 * assignments to a role requiring MFA (timestamptz or null). Caches of MFA status end their entries then.
 */
export function userRoleMfaChangesAtSql(tenantId: number | SQLWrapper, userId: number | SQLWrapper): SQL {
  return sql`(
    select min(ur.expires_at) from user_roles ur join roles r on r.tenant_id = ur.tenant_id and r.id = ur.role_id
     where ur.tenant_id = ${tenantId} and ur.user_id = ${userId} and r.mfa_required and ur.expires_at > now())`;
}

/** The roles a user (or a tenant-owned key's role) holds now, parents included: feature flag overrides by role. */
export function heldRoleIds(
  tx: Executor,
  tenantId: number,
  subject: { userId: number | null; roleId: string | null },
): Promise<string[]> {
  return repo.heldRoleIds(tx, tenantId, subject);
}

/** Whether the role id names a role of the tenant (tenant-owned API keys act with one). */
export function roleExists(tx: Executor, tenantId: number, roleId: string): Promise<boolean> {
  return repo.roleExists(tx, tenantId, roleId);
}

// --- used by scim (through index.ts): groups are roles, members are active holders ---
/** The tenant's role with this code (codes are lower-case), in the caller's transaction. */
export function roleByCode(tx: Executor, tenantId: number, code: string): Promise<RoleRow | null> {
  return repo.findRoleByCode(tx, tenantId, code);
}

export function roleById(tx: Executor, tenantId: number, roleId: string): Promise<RoleRow | null> {
  return repo.findRoleById(tx, tenantId, roleId);
}

/** The tenant's roles, system ones first (at most 1000). */
export function tenantRoles(tx: Executor, tenantId: number): Promise<RoleRow[]> {
  return repo.listRoles(tx, tenantId);
}

/** The users holding the role now (unexpired assignments). */
export function roleHolderIds(tx: Executor, tenantId: number, roleId: string): Promise<number[]> {
  return repo.holderIds(tx, tenantId, roleId);
}
