/** SQL only for roles and role assignments; tenant_id in every WHERE, RLS behind it. */
import { and, asc, eq, gt, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { type UserRow, users } from '../users/tables.js';
import { SYSTEM_ROLE_CODES, SYSTEM_ROLES } from './permissions.js';
import { type RoleRow, roles, userRoles } from './tables.js';

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

export async function findRoleById(tx: Executor, tenantId: number, id: string): Promise<RoleRow | null> {
  const rows = await tx
    .select()
    .from(roles)
    .where(and(eq(roles.tenantId, tenantId), eq(roles.id, id)))
    .limit(1);
  return rows[0] ?? null;
}

export async function findRoleByCode(tx: Executor, tenantId: number, code: string): Promise<RoleRow | null> {
  const rows = await tx
    .select()
    .from(roles)
    .where(and(eq(roles.tenantId, tenantId), eq(roles.code, code)))
    .limit(1);
  return rows[0] ?? null;
}

export async function listRoles(tx: Executor, tenantId: number): Promise<RoleRow[]> {
  return tx
    .select()
    .from(roles)
    .where(eq(roles.tenantId, tenantId))
    .orderBy(asc(roles.isSystem), asc(roles.code))
    .limit(1000);
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
  const rows = await tx
    .insert(roles)
    .values({ tenantId, ...r, isSystem: false })
    .returning();
  return rows[0]!;
}

export async function updateRole(
  tx: Executor,
  tenantId: number,
  id: string,
  patch: Partial<Omit<RoleInput, 'code'>>,
): Promise<RoleRow | null> {
  const rows = await tx
    .update(roles)
    .set({ ...patch, updatedAt: new Date() })
    .where(and(eq(roles.tenantId, tenantId), eq(roles.id, id), eq(roles.isSystem, false)))
    .returning();
  return rows[0] ?? null;
}

export async function deleteRole(tx: Executor, tenantId: number, id: string): Promise<boolean> {
  const rows = await tx
    .delete(roles)
    .where(and(eq(roles.tenantId, tenantId), eq(roles.id, id), eq(roles.isSystem, false)))
    .returning({ id: roles.id });
  return rows.length > 0;
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

/** What permission resolution needs, in ONE statement: the user, the tenant flag and the roles it inherits. */
export interface GrantSource {
  exists: boolean;
  isActive: boolean;
  isSuperuser: boolean;
  isPlatform: boolean;
  /** The soonest expiry of an assignment that contributed; the cached set is stale from then on. */
  nextExpiry: Date | null;
  roles: { code: string; system: boolean; permissions: string[] }[];
}

export async function loadUserGrants(tx: Executor, tenantId: number, userId: number): Promise<GrantSource> {
  const r = await tx.execute<{
    is_active: boolean | null;
    is_superuser: boolean | null;
    is_platform: boolean | null;
    next_expiry: string | null;
    roles: GrantSource['roles'] | string;
  }>(sql`
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
      (select is_active from users where tenant_id = ${tenantId} and id = ${userId}) as is_active,
      (select is_superuser from users where tenant_id = ${tenantId} and id = ${userId}) as is_superuser,
      (select is_platform from tenants where id = ${tenantId}) as is_platform,
      (select min(expires_at)::text from direct) as next_expiry,
      coalesce((select json_agg(json_build_object('code', r.code, 'system', r.is_system, 'permissions', r.permissions))
                  from roles r where r.tenant_id = ${tenantId} and r.id in (select id from chain)), '[]'::json) as roles`);
  return toGrantSource(r.rows[0]!);
}

export async function loadRoleGrants(tx: Executor, tenantId: number, roleId: string): Promise<GrantSource> {
  const r = await tx.execute<{ is_platform: boolean | null; roles: GrantSource['roles'] | string }>(sql`
    with recursive chain(id, depth) as (
      select id, 0 from roles where tenant_id = ${tenantId} and id = ${roleId}::uuid
      union
      select r.parent_role_id, c.depth + 1 from chain c join roles r on r.tenant_id = ${tenantId} and r.id = c.id
       where r.parent_role_id is not null and c.depth < ${MAX_ROLE_DEPTH}
    )
    select (select is_platform from tenants where id = ${tenantId}) as is_platform,
      coalesce((select json_agg(json_build_object('code', r.code, 'system', r.is_system, 'permissions', r.permissions))
                  from roles r where r.tenant_id = ${tenantId} and r.id in (select id from chain)), '[]'::json) as roles`);
  const row = r.rows[0]!;
  return toGrantSource({ is_active: true, is_superuser: false, next_expiry: null, ...row });
}

function toGrantSource(row: {
  is_active: boolean | null;
  is_superuser: boolean | null;
  is_platform: boolean | null;
  next_expiry: string | null;
  roles: GrantSource['roles'] | string;
}): GrantSource {
  const list = typeof row.roles === 'string' ? (JSON.parse(row.roles) as GrantSource['roles']) : row.roles;
  return {
    exists: row.is_active !== null,
    isActive: row.is_active === true,
    isSuperuser: row.is_superuser === true,
    isPlatform: row.is_platform === true,
    nextExpiry: row.next_expiry ? new Date(row.next_expiry) : null,
    roles: list,
  };
}

const activeAssignment = () => or(isNull(userRoles.expiresAt), gt(userRoles.expiresAt, new Date()));

export async function upsertAssignment(
  tx: Executor,
  tenantId: number,
  a: { userId: number; roleId: string; expiresAt: Date | null; grantedBy: number | null },
): Promise<{ created: boolean; before: { expiresAt: Date | null } | null }> {
  const existing = await tx
    .select({ expiresAt: userRoles.expiresAt })
    .from(userRoles)
    .where(
      and(eq(userRoles.tenantId, tenantId), eq(userRoles.userId, a.userId), eq(userRoles.roleId, a.roleId)),
    )
    .for('update');
  await tx
    .insert(userRoles)
    .values({ tenantId, ...a })
    .onConflictDoUpdate({
      target: [userRoles.tenantId, userRoles.userId, userRoles.roleId],
      set: { expiresAt: a.expiresAt, grantedBy: a.grantedBy, createdAt: new Date() },
    });
  return { created: existing.length === 0, before: existing[0] ?? null };
}

export async function deleteAssignment(
  tx: Executor,
  tenantId: number,
  userId: number,
  roleId: string,
): Promise<boolean> {
  const rows = await tx
    .delete(userRoles)
    .where(and(eq(userRoles.tenantId, tenantId), eq(userRoles.userId, userId), eq(userRoles.roleId, roleId)))
    .returning({ roleId: userRoles.roleId });
  return rows.length > 0;
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
    .where(and(eq(userRoles.tenantId, tenantId), eq(userRoles.userId, userId), activeAssignment()))
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
    .where(and(eq(userRoles.tenantId, tenantId), inArray(userRoles.userId, userIds), activeAssignment()))
    .orderBy(asc(roles.code));
  for (const r of rows) out.get(r.userId)?.push(r.code);
  return out;
}

/**
 * A user and their active role codes in one round trip (GET /users/{id} is a hot read: the bench compares it
 * with GET /auth/me).
 */
export async function findUserWithRoleCodes(
  tx: Executor,
  tenantId: number,
  userId: number,
): Promise<{ user: UserRow; roles: string[] } | null> {
  const rows = await tx
    .select({
      user: users,
      roles: sql<string[]>`coalesce((
        select array_agg(r.code order by r.code) from ${userRoles} ur
          join ${roles} r on r.tenant_id = ur.tenant_id and r.id = ur.role_id
         where ur.tenant_id = users.tenant_id and ur.user_id = users.id
           and (ur.expires_at is null or ur.expires_at > now())), '{}')`,
    })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.id, userId)))
    .limit(1);
  return rows[0] ?? null;
}

/** Active holders of a role among active users (guards removing the tenant's last owner). */
export async function countActiveHolders(tx: Executor, tenantId: number, roleId: string): Promise<number> {
  const r = await tx.execute<{ n: string }>(sql`
    select count(*)::text as n from user_roles ur join users u on u.tenant_id = ur.tenant_id and u.id = ur.user_id
     where ur.tenant_id = ${tenantId} and ur.role_id = ${roleId}::uuid and u.is_active
       and (ur.expires_at is null or ur.expires_at > now())`);
  return Number(r.rows[0]!.n);
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
  const rows = await tx
    .select({ id: roles.id })
    .from(roles)
    .where(and(eq(roles.tenantId, tenantId), eq(roles.id, roleId)))
    .limit(1);
  return rows.length > 0;
}
