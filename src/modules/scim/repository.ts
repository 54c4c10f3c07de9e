import { and, asc, eq, gt, ilike, inArray, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { tenantRows } from '../../platform/db/tenant-rows.js';
import {
  type DirectoryGroupRow,
  directoryGroupMembers,
  directoryGroupRoles,
  directoryGroups,
  type ScimExternalIdRow,
  scimExternalIds,
} from './tables.js';

/** Every column a DirectoryGroupRow carries, named (docs/extending.md "Repositories"). */
const groupColumns = {
  id: directoryGroups.id,
  tenantId: directoryGroups.tenantId,
  displayName: directoryGroups.displayName,
  externalId: directoryGroups.externalId,
  version: directoryGroups.version,
  createdAt: directoryGroups.createdAt,
  updatedAt: directoryGroups.updatedAt,
};
const groupRows = tenantRows(directoryGroups, groupColumns);
/** Memberships and group roles are read one id at a time (the other key is the group asked about). */
const memberRows = tenantRows(directoryGroupMembers, { userId: directoryGroupMembers.userId });
const groupRoleRows = tenantRows(directoryGroupRoles, { roleId: directoryGroupRoles.roleId });

// ---------- SCIM users (scim_external_ids) ----------

export type ScimProfile = Pick<
  ScimExternalIdRow,
  'externalId' | 'userName' | 'attributes' | 'version' | 'updatedAt'
>;
const profileColumns = {
  userId: scimExternalIds.userId,
  externalId: scimExternalIds.externalId,
  userName: scimExternalIds.userName,
  attributes: scimExternalIds.attributes,
  version: scimExternalIds.version,
  updatedAt: scimExternalIds.updatedAt,
};
const profileRows = tenantRows(scimExternalIds, profileColumns);

export async function profileOf(tx: Executor, tenantId: number, userId: number): Promise<ScimProfile | null> {
  return profileRows.find(tx, tenantId, eq(scimExternalIds.userId, userId));
}

export async function profilesOf(tx: Executor, tenantId: number, userIds: number[]) {
  const out = new Map<number, ScimProfile>();
  if (userIds.length === 0) return out;
  const rows = await profileRows.list(tx, tenantId, {
    where: [inArray(scimExternalIds.userId, userIds)],
  });
  for (const r of rows) out.set(r.userId, r);
  return out;
}

export async function userIdByExternalId(
  tx: Executor,
  tenantId: number,
  externalId: string,
): Promise<number | null> {
  return profileRows.pick(tx, tenantId, scimExternalIds.userId, eq(scimExternalIds.externalId, externalId));
}

/** The user whose userName (the stored one, else the email) is this one, case-insensitively. */
export async function userIdByUserName(
  tx: Executor,
  tenantId: number,
  userName: string,
): Promise<number | null> {
  const r = await tx.execute<{ id: number }>(sql`
    select u.id from users u
      left join scim_external_ids s on s.tenant_id = u.tenant_id and s.user_id = u.id
     where u.tenant_id = ${tenantId} and lower(coalesce(s.user_name, u.email)) = lower(${userName})
     limit 1`);
  return r.rows[0] ? Number(r.rows[0].id) : null;
}

/** Creates or replaces what SCIM stores of the user, bumping its version. */
export async function saveProfile(
  tx: Executor,
  tenantId: number,
  userId: number,
  p: { externalId: string | null; userName: string | null; attributes: Record<string, unknown> },
): Promise<void> {
  await tx
    .insert(scimExternalIds)
    .values({ tenantId, userId, ...p })
    .onConflictDoUpdate({
      target: [scimExternalIds.tenantId, scimExternalIds.userId],
      set: { ...p, version: sql`${scimExternalIds.version} + 1`, updatedAt: sql`now()` },
    });
}

/** A page of a filtered list: the compiled filter (null: everything), its order, and the window. */
export interface FilterPage {
  where: SQL | null;
  orderBy: SQL;
  offset: number;
  limit: number;
}

/** One page of the users matching a compiled filter (over `u` and `s`), ordered; with the total. */
export async function filterUserIds(
  tx: Executor,
  tenantId: number,
  { where, orderBy, offset, limit }: FilterPage,
): Promise<{ ids: number[]; total: number }> {
  const cond = where ?? sql`true`;
  const r = await tx.execute<{ id: number; total: number }>(sql`
    select u.id, count(*) over () as total from users u
      left join scim_external_ids s on s.tenant_id = u.tenant_id and s.user_id = u.id
     where u.tenant_id = ${tenantId} and ${cond}
     order by ${orderBy}
     offset ${offset} limit ${limit}`);
  if (r.rows.length > 0)
    return { ids: r.rows.map((x) => Number(x.id)), total: Number(r.rows[0]?.total ?? 0) };
  const c = await tx.execute<{ total: number }>(sql`
    select count(*) as total from users u
      left join scim_external_ids s on s.tenant_id = u.tenant_id and s.user_id = u.id
     where u.tenant_id = ${tenantId} and ${cond}`);
  return { ids: [], total: Number(c.rows[0]?.total ?? 0) };
}

// ---------- directory groups ----------

export async function insertGroup(
  tx: Executor,
  tenantId: number,
  g: { displayName: string; externalId: string | null },
): Promise<DirectoryGroupRow> {
  return groupRows.insert(tx, tenantId, g);
}

export const groupById = groupRows.findById;

/** Locks the group's row for the rest of the transaction (a push at a time per group). */
export const lockGroup = groupRows.lockById;

export async function groupIdByName(
  tx: Executor,
  tenantId: number,
  displayName: string,
): Promise<string | null> {
  return groupRows.pick(
    tx,
    tenantId,
    directoryGroups.id,
    sql`lower(${directoryGroups.displayName}) = lower(${displayName})`,
  );
}

/** Renames the group or changes its externalId (undefined: unchanged), and bumps its version. */
export async function touchGroup(
  tx: Executor,
  tenantId: number,
  id: string,
  g: { displayName?: string; externalId?: string | null },
): Promise<void> {
  await tx
    .update(directoryGroups)
    .set({ ...g, version: sql`${directoryGroups.version} + 1`, updatedAt: sql`now()` })
    .where(groupRows.where(tenantId, eq(directoryGroups.id, id)));
}

export async function deleteGroup(tx: Executor, tenantId: number, id: string): Promise<boolean> {
  return (await groupRows.delete(tx, tenantId, eq(directoryGroups.id, id))) > 0;
}

export function groupMemberIds(tx: Executor, tenantId: number, groupId: string): Promise<number[]> {
  return memberRows.pluck(tx, tenantId, directoryGroupMembers.userId, {
    where: [eq(directoryGroupMembers.groupId, groupId)],
    orderBy: [asc(directoryGroupMembers.userId)],
  });
}

export async function addGroupMembers(tx: Executor, tenantId: number, groupId: string, userIds: number[]) {
  if (userIds.length === 0) return;
  await tx
    .insert(directoryGroupMembers)
    .values(userIds.map((userId) => ({ tenantId, groupId, userId })))
    .onConflictDoNothing();
}

export async function removeGroupMembers(tx: Executor, tenantId: number, groupId: string, userIds: number[]) {
  if (userIds.length === 0) return;
  await memberRows.delete(
    tx,
    tenantId,
    eq(directoryGroupMembers.groupId, groupId),
    inArray(directoryGroupMembers.userId, userIds),
  );
}

export function groupRoleIds(tx: Executor, tenantId: number, groupId: string): Promise<string[]> {
  return groupRoleRows.pluck(tx, tenantId, directoryGroupRoles.roleId, {
    where: [eq(directoryGroupRoles.groupId, groupId)],
    orderBy: [asc(directoryGroupRoles.roleId)],
  });
}

export async function setGroupRoleIds(tx: Executor, tenantId: number, groupId: string, roleIds: string[]) {
  await groupRoleRows.delete(tx, tenantId, eq(directoryGroupRoles.groupId, groupId));
  if (roleIds.length > 0)
    await tx.insert(directoryGroupRoles).values(roleIds.map((roleId) => ({ tenantId, groupId, roleId })));
}

/** The roles the user's groups grant (over every group of the user), among `roleIds`. */
export async function rolesFromGroups(
  tx: Executor,
  tenantId: number,
  userId: number,
  roleIds: string[],
): Promise<Set<string>> {
  if (roleIds.length === 0) return new Set();
  const rows = await tx
    .selectDistinct({ roleId: directoryGroupRoles.roleId })
    .from(directoryGroupMembers)
    .innerJoin(
      directoryGroupRoles,
      and(
        eq(directoryGroupRoles.tenantId, directoryGroupMembers.tenantId),
        eq(directoryGroupRoles.groupId, directoryGroupMembers.groupId),
      ),
    )
    .where(
      memberRows.where(
        tenantId,
        eq(directoryGroupMembers.userId, userId),
        inArray(directoryGroupRoles.roleId, roleIds),
      ),
    );
  return new Set(rows.map((r) => r.roleId));
}

/** One page of the groups matching a compiled filter (over `g`), ordered; with the total. */
export async function filterGroupIds(
  tx: Executor,
  tenantId: number,
  { where, orderBy, offset, limit }: FilterPage,
): Promise<{ ids: string[]; total: number }> {
  const cond = where ?? sql`true`;
  const c = await tx.execute<{ total: number }>(sql`
    select count(*) as total from directory_groups g where g.tenant_id = ${tenantId} and ${cond}`);
  const r = await tx.execute<{ id: string }>(sql`
    select g.id from directory_groups g where g.tenant_id = ${tenantId} and ${cond}
     order by ${orderBy} offset ${offset} limit ${limit}`);
  return { ids: r.rows.map((x) => String(x.id)), total: Number(c.rows[0]?.total ?? 0) };
}

/** /api/v1/directory/groups: by display name, `search` a case-insensitive substring, after the cursor (an id). */
export async function listGroups(
  tx: Executor,
  tenantId: number,
  q: { search?: string; cursor?: string; limit: number },
): Promise<DirectoryGroupRow[]> {
  return groupRows.list(tx, tenantId, {
    where: [
      q.search ? ilike(directoryGroups.displayName, `%${q.search.replace(/[\\%_]/g, '\\$&')}%`) : undefined,
      q.cursor ? gt(directoryGroups.id, q.cursor) : undefined,
    ],
    orderBy: [asc(directoryGroups.id)],
    limit: q.limit,
  });
}

/** How many members each group has. */
export async function memberCounts(tx: Executor, tenantId: number, groupIds: string[]) {
  const out = new Map<string, number>();
  if (groupIds.length === 0) return out;
  const rows = await tx
    .select({ groupId: directoryGroupMembers.groupId, n: sql<number>`count(*)::int` })
    .from(directoryGroupMembers)
    .where(memberRows.where(tenantId, inArray(directoryGroupMembers.groupId, groupIds)))
    .groupBy(directoryGroupMembers.groupId);
  for (const r of rows) out.set(r.groupId, Number(r.n));
  return out;
}

/** userName (the stored one, else the email) of each of these users of the tenant; unknown ids are absent. */
export async function userNamesOf(
  tx: Executor,
  tenantId: number,
  userIds: number[],
): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  if (userIds.length === 0) return out;
  const r = await tx.execute<{ id: number; name: string }>(sql`
    select u.id, coalesce(s.user_name, u.email) as name from users u
      left join scim_external_ids s on s.tenant_id = u.tenant_id and s.user_id = u.id
     where u.tenant_id = ${tenantId} and u.id in (${sql.join(
       userIds.map((id) => sql`${id}`),
       sql`, `,
     )})`);
  for (const row of r.rows) out.set(Number(row.id), String(row.name));
  return out;
}
