/** SQL only for roles and role assignments; tenant_id in every WHERE, RLS behind it. */
import { and, asc, eq, gt, inArray, isNull, or, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { firstOrNull } from '../../platform/db/rows.js';
import { tenantRows } from '../../platform/db/tenant-rows.js';
import { SYSTEM_ROLE_CODES, SYSTEM_ROLES } from './permissions.js';
import { type RoleRow, roles, userRoles } from './tables.js';

const roleColumns = {
  id: roles.id,
  tenantId: roles.tenantId,
  code: roles.code,
  name: roles.name,
  description: roles.description,
  isSystem: roles.isSystem,
  permissions: roles.permissions,
  parentRoleId: roles.parentRoleId,
  mfaRequired: roles.mfaRequired,
  createdAt: roles.createdAt,
  updatedAt: roles.updatedAt,
};
const roleRows = tenantRows(roles, roleColumns);
/** An assignment as its writers read it back: a user holds a role, until when. */
const assignmentRows = tenantRows(userRoles, { roleId: userRoles.roleId, expiresAt: userRoles.expiresAt });

/** Inheritance deeper than this is refused on write and cut on read (a cycle can never loop forever). */
export const MAX_ROLE_DEPTH = 16;

export async function insertSystemRoles(tx: Executor, tenantId: number): Promise<Map<string, string>> {
  const rows = await tx
    .insert(roles)
    .values(
      SYSTEM_ROLE_CODES.map((code) => ({
        tenantId,
        code,
        name: SYSTEM_ROLES[code].name,
        description: SYSTEM_ROLES[code].description,
        isSystem: true,
      })),
    )
    .onConflictDoNothing()
    .returning({ id: roles.id, code: roles.code });
  return new Map(rows.map((r) => [r.code, r.id]));
}

export const findRoleById = roleRows.findById;

export async function findRoleByCode(tx: Executor, tenantId: number, code: string): Promise<RoleRow | null> {
  return roleRows.find(tx, tenantId, eq(roles.code, code));
}

export async function listRoles(tx: Executor, tenantId: number): Promise<RoleRow[]> {
  return roleRows.list(tx, tenantId, { orderBy: [asc(roles.isSystem), asc(roles.code)], limit: 1000 });
}

export interface RoleInput {
  code: string;
  name: string;
  description: string | null;
  permissions: string[];
  parentRoleId: string | null;
  mfaRequired: boolean;
}

export async function insertRole(tx: Executor, tenantId: number, r: RoleInput): Promise<RoleRow> {
  return roleRows.insert(tx, tenantId, { ...r, isSystem: false });
}

export async function updateRole(
  tx: Executor,
  tenantId: number,
  id: string,
  patch: Partial<Omit<RoleInput, 'code'>>,
): Promise<RoleRow | null> {
  return roleRows.updateOne(
    tx,
    tenantId,
    { ...patch, updatedAt: new Date() },
    eq(roles.id, id),
    eq(roles.isSystem, false),
  );
}

export async function deleteRole(tx: Executor, tenantId: number, id: string): Promise<boolean> {
  return (await roleRows.delete(tx, tenantId, eq(roles.id, id), eq(roles.isSystem, false))) > 0;
}

/** Ids from `roleId` up through its parents (itself first); stops at MAX_ROLE_DEPTH + 1 entries. */
export async function ancestorIds(tx: Executor, tenantId: number, roleId: string): Promise<string[]> {
  const r = await tx.execute<{ id: string }>(sql`
    with recursive chain(id, depth) as (
      select ${roleId}::uuid, 0
      union all
      select r.parent_role_id, c.depth + 1 from chain c
        join roles r on r.tenant_id = ${tenantId} and r.id = c.id
       where r.parent_role_id is not null and c.depth <= ${MAX_ROLE_DEPTH}
    )
    select id::text as id from chain order by depth`);
  return r.rows.map((x) => x.id);
}

/** Serialises role graph changes of one tenant, so two concurrent re-parentings cannot build a cycle. */
export async function lockRoleGraph(tx: Executor, tenantId: number): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext('massacorp.roles'), ${tenantId})`);
}

/**
 * What permission resolution needs. The roles part is read here, in one statement; the user's flags come from
 * the users module (ctx.users) and the tenant's platform flag from the tenants module.
 */
export interface GrantSource {
  exists: boolean;
  isActive: boolean;
  isSuperuser: boolean;
  isPlatform: boolean;
  /** The soonest expiry of an assignment that contributed; the cached set is stale from then on. */
  nextExpiry: Date | null;
  roles: { code: string; system: boolean; permissions: string[] }[];
}

export type RoleGrants = Pick<GrantSource, 'nextExpiry' | 'roles'>;

/** The roles a user holds now, with every role they inherit from, and the soonest expiry of an assignment. */
export async function loadUserRoleGrants(
  tx: Executor,
  tenantId: number,
  userId: number,
): Promise<RoleGrants> {
  const r = await tx.execute<{ next_expiry: string | null; roles: GrantSource['roles'] | string }>(sql`
    with recursive
      direct as (
        select ur.role_id, ur.expires_at from user_roles ur
         where ur.tenant_id = ${tenantId} and ur.user_id = ${userId} and (ur.expires_at is null or ur.expires_at > now())
      ),
      chain(id, depth) as (
        select role_id, 0 from direct
        union
        select r.parent_role_id, c.depth + 1 from chain c join roles r on r.tenant_id = ${tenantId} and r.id = c.id
         where r.parent_role_id is not null and c.depth < ${MAX_ROLE_DEPTH}
      )
    select
      (select min(expires_at)::text from direct) as next_expiry,
      coalesce((select json_agg(json_build_object('code', r.code, 'system', r.is_system, 'permissions', r.permissions))
                  from roles r where r.tenant_id = ${tenantId} and r.id in (select id from chain)), '[]'::json) as roles`);
  const row = r.rows[0]!;
  return { nextExpiry: row.next_expiry ? new Date(row.next_expiry) : null, roles: parseRoles(row.roles) };
}

/** A role with every role it inherits from. */
export async function loadRoleChainGrants(
  tx: Executor,
  tenantId: number,
  roleId: string,
): Promise<RoleGrants> {
  const r = await tx.execute<{ roles: GrantSource['roles'] | string }>(sql`
    with recursive chain(id, depth) as (
      select id, 0 from roles where tenant_id = ${tenantId} and id = ${roleId}::uuid
      union
      select r.parent_role_id, c.depth + 1 from chain c join roles r on r.tenant_id = ${tenantId} and r.id = c.id
       where r.parent_role_id is not null and c.depth < ${MAX_ROLE_DEPTH}
    )
    select coalesce((select json_agg(json_build_object('code', r.code, 'system', r.is_system, 'permissions', r.permissions))
                  from roles r where r.tenant_id = ${tenantId} and r.id in (select id from chain)), '[]'::json) as roles`);
  return { nextExpiry: null, roles: parseRoles(r.rows[0]!.roles) };
}

function parseRoles(roles: GrantSource['roles'] | string): GrantSource['roles'] {
  return typeof roles === 'string' ? (JSON.parse(roles) as GrantSource['roles']) : roles;
}

/** The conditions naming one assignment (the tenant's part is the helper's). */
const assignment = (userId: number, roleId: string) => [
  eq(userRoles.userId, userId),
  eq(userRoles.roleId, roleId),
];

const activeAssignment = () => or(isNull(userRoles.expiresAt), gt(userRoles.expiresAt, new Date()));

export async function upsertAssignment(
  tx: Executor,
  tenantId: number,
  a: { userId: number; roleId: string; expiresAt: Date | null; grantedBy: number | null },
): Promise<{ created: boolean; before: { expiresAt: Date | null } | null }> {
  const existing = await assignmentRows.list(tx, tenantId, {
    where: assignment(a.userId, a.roleId),
    lock: true,
  });
  await tx
    .insert(userRoles)
    .values({ tenantId, ...a })
    .onConflictDoUpdate({
      target: [userRoles.tenantId, userRoles.userId, userRoles.roleId],
      set: { expiresAt: a.expiresAt, grantedBy: a.grantedBy, createdAt: new Date(), direct: true },
    });
  const before = firstOrNull(existing);
  return { created: before === null, before: before && { expiresAt: before.expiresAt } };
}

/**
 * Ends the direct assignment: the row goes, unless a directory group still grants the role (drizzle/0030), in
 * which case only its `direct` source goes. True when there was a direct assignment (or a group-held one).
 */
export async function deleteAssignment(
  tx: Executor,
  tenantId: number,
  userId: number,
  roleId: string,
): Promise<boolean> {
  const key = assignment(userId, roleId);
  const kept = await assignmentRows.update(
    tx,
    tenantId,
    { direct: false },
    ...key,
    eq(userRoles.viaGroup, true),
    eq(userRoles.direct, true),
  );
  if (kept > 0) return true;
  return (await assignmentRows.delete(tx, tenantId, ...key, eq(userRoles.viaGroup, false))) > 0;
}

/**
 * Sets or clears the directory-group source of an assignment (drizzle/0030). Setting creates a group-only row
 * when there is none; clearing deletes the row unless it is also direct. `created`/`deleted` say whether the user
 * gained or lost the role itself.
 */
export async function setGroupSource(
  tx: Executor,
  tenantId: number,
  userId: number,
  roleId: string,
  viaGroup: boolean,
): Promise<{ created: boolean; deleted: boolean }> {
  const key = assignment(userId, roleId);
  if (viaGroup) {
    const inserted = await tx
      .insert(userRoles)
      .values({ tenantId, userId, roleId, direct: false, viaGroup: true })
      .onConflictDoNothing()
      .returning({ roleId: userRoles.roleId });
    if (inserted.length > 0) return { created: true, deleted: false };
    await assignmentRows.update(tx, tenantId, { viaGroup: true }, ...key);
    return { created: false, deleted: false };
  }
  if ((await assignmentRows.delete(tx, tenantId, ...key, eq(userRoles.direct, false))) > 0)
    return { created: false, deleted: true };
  await assignmentRows.update(tx, tenantId, { viaGroup: false }, ...key);
  return { created: false, deleted: false };
}

export interface AssignmentView {
  roleId: string;
  code: string;
  name: string;
  isSystem: boolean;
  expiresAt: Date | null;
  grantedBy: number | null;
  createdAt: Date;
}

export async function listAssignments(
  tx: Executor,
  tenantId: number,
  userId: number,
): Promise<AssignmentView[]> {
  return tx
    .select({
      roleId: userRoles.roleId,
      code: roles.code,
      name: roles.name,
      isSystem: roles.isSystem,
      expiresAt: userRoles.expiresAt,
      grantedBy: userRoles.grantedBy,
      createdAt: userRoles.createdAt,
    })
    .from(userRoles)
    .innerJoin(roles, and(eq(roles.tenantId, userRoles.tenantId), eq(roles.id, userRoles.roleId)))
    .where(assignmentRows.where(tenantId, eq(userRoles.userId, userId), activeAssignment()))
    .orderBy(asc(roles.code));
}

/** Active role codes of several users at once (UserReadFull.roles). */
export async function roleCodesOf(
  tx: Executor,
  tenantId: number,
  userIds: number[],
): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>(userIds.map((id) => [id, []]));
  if (userIds.length === 0) return out;
  const rows = await tx
    .select({ userId: userRoles.userId, code: roles.code })
    .from(userRoles)
    .innerJoin(roles, and(eq(roles.tenantId, userRoles.tenantId), eq(roles.id, userRoles.roleId)))
    .where(assignmentRows.where(tenantId, inArray(userRoles.userId, userIds), activeAssignment()))
    .orderBy(asc(roles.code));
  for (const r of rows) out.get(r.userId)?.push(r.code);
  return out;
}

/**
 * The active role codes of the user whose tenant and id columns are given, as a sub-select the users module
 * embeds in its own query: GET /users/{id} is a hot read (the bench compares it with GET /auth/me) and stays one
 * round trip, while the SQL over the role tables stays in this module.
 */
/** `tenantIdColumn`, `userIdColumn`: fully qualified column references of the outer query. */
export function activeRoleCodesSql(tenantIdColumn: SQL, userIdColumn: SQL): SQL<string[]> {
  return sql<string[]>`coalesce((
        select array_agg(r.code order by r.code) from ${userRoles} ur
          join ${roles} r on r.tenant_id = ur.tenant_id and r.id = ur.role_id
         where ur.tenant_id = ${tenantIdColumn} and ur.user_id = ${userIdColumn}
           and (ur.expires_at is null or ur.expires_at > now())), '{}')`;
}

/** Users holding a role now (active or not: the users module counts the active ones). */
export async function holderIds(tx: Executor, tenantId: number, roleId: string): Promise<number[]> {
  const rows = await tx
    .select({ userId: userRoles.userId })
    .from(userRoles)
    .where(assignmentRows.where(tenantId, eq(userRoles.roleId, roleId), activeAssignment()));
  return rows.map((r) => r.userId);
}

/**
 * The roles a subject holds now, with every parent they inherit: a user's active assignments, or a tenant-owned
 * key's role. The same walk as permission resolution (other modules, e.g. feature flags, key overrides by role).
 */
export async function heldRoleIds(
  tx: Executor,
  tenantId: number,
  s: { userId: number | null; roleId: string | null },
): Promise<string[]> {
  const held =
    s.userId !== null
      ? sql`select ur.role_id, 0 from user_roles ur where ur.tenant_id = ${tenantId} and ur.user_id = ${s.userId}
           and (ur.expires_at is null or ur.expires_at > now())`
      : sql`select ${s.roleId}::uuid, 0 where ${s.roleId}::text is not null`;
  const r = await tx.execute<{ id: string }>(sql`
    with recursive chain(id, depth) as (
      ${held}
      union
      select r.parent_role_id, c.depth + 1 from chain c join roles r on r.tenant_id = ${tenantId} and r.id = c.id
       where r.parent_role_id is not null and c.depth < ${MAX_ROLE_DEPTH}
    ) select distinct id::text as id from chain`);
  return r.rows.map((x) => x.id);
}

export async function roleExists(tx: Executor, tenantId: number, roleId: string): Promise<boolean> {
  return (await roleRows.pick(tx, tenantId, roles.id, eq(roles.id, roleId))) !== null;
}
