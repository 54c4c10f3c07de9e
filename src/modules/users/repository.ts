import { and, asc, desc, eq, gt, gte, inArray, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { reusableQuery } from '../../platform/db/prepared.js';
import { firstOrNull } from '../../platform/db/rows.js';
import { tenantRows } from '../../platform/db/tenant-rows.js';
import { activeRoleCodesSql } from '../rbac/index.js';
import type { UserSort } from './schemas.js';
import { likePattern } from './search-index-pattern.js';
import { type UserRow, userCounts, users } from './tables.js';

/**
 * Every column a UserRow carries, named: a column added to `users` reaches no read until it is listed here (or
 * selected by the one function that needs it). `passwordHash` is here because every read of a user answers
 * `has_password` and login/password change verify it (issue 23 notes: a `hasPassword` boolean would do for most).
 */
const userColumns = {
  id: users.id,
  tenantId: users.tenantId,
  email: users.email,
  passwordHash: users.passwordHash,
  firstName: users.firstName,
  lastName: users.lastName,
  phone: users.phone,
  isActive: users.isActive,
  isVerified: users.isVerified,
  isSuperuser: users.isSuperuser,
  createdAt: users.createdAt,
  updatedAt: users.updatedAt,
  lastLoginAt: users.lastLoginAt,
  passwordChangedAt: users.passwordChangedAt,
};
const userRows = tenantRows(users, userColumns);

export async function findUserByEmail(
  tx: Executor,
  tenantId: number,
  email: string,
): Promise<UserRow | null> {
  return userRows.find(tx, tenantId, eq(users.email, email));
}

// Hot path (every cold identity read, every login): the SQL is built once (platform/db/prepared.ts).
const userByIdQuery = reusableQuery<{ tenantId: number; id: number }, UserRow[]>((tx) =>
  tx
    .select(userColumns)
    .from(users)
    .where(and(eq(users.tenantId, sql.placeholder('tenantId')), eq(users.id, sql.placeholder('id'))))
    .limit(1)
    .prepare('user_by_id'),
);

export async function findUserById(tx: Executor, tenantId: number, id: number): Promise<UserRow | null> {
  return firstOrNull(await userByIdQuery(tx, { tenantId, id }));
}

/** The emails of the tenant's users among `ids`, in one statement (ids of other tenants or deleted users: absent). */
export async function findUserEmails(
  tx: Executor,
  tenantId: number,
  ids: number[],
): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const rows = await tx
    .select({ id: users.id, email: users.email })
    .from(users)
    .where(userRows.where(tenantId, inArray(users.id, ids)));
  return new Map(rows.map((r) => [r.id, r.email]));
}

export interface NewUser {
  email: string;
  passwordHash: string | null;
  firstName?: string | null;
  lastName?: string | null;
  phone?: string | null;
  isActive?: boolean;
  isVerified?: boolean;
  isSuperuser?: boolean;
}

export async function insertUser(tx: Executor, tenantId: number, u: NewUser): Promise<UserRow> {
  return userRows.insert(tx, tenantId, {
    email: u.email,
    passwordHash: u.passwordHash,
    firstName: u.firstName ?? null,
    lastName: u.lastName ?? null,
    phone: u.phone ?? null,
    isActive: u.isActive ?? true,
    isVerified: u.isVerified ?? false,
    isSuperuser: u.isSuperuser ?? false,
    passwordChangedAt: u.passwordHash ? new Date() : null,
  });
}

export async function updateUserPassword(
  tx: Executor,
  tenantId: number,
  id: number,
  passwordHash: string,
): Promise<void> {
  const now = new Date();
  await tx
    .update(users)
    .set({ passwordHash, passwordChangedAt: now, updatedAt: now })
    .where(userRows.where(tenantId, eq(users.id, id)));
}

export async function touchLastLogin(
  tx: Executor,
  tenantId: number,
  id: number,
  rehashed: string | null,
): Promise<void> {
  const now = new Date();
  await tx
    .update(users)
    .set(rehashed ? { lastLoginAt: now, passwordHash: rehashed } : { lastLoginAt: now })
    .where(userRows.where(tenantId, eq(users.id, id)));
}

/**
 * ORDER BY of each sort, ending with the id so that equal values keep one order from page to page. A user who
 * never signed in counts as the oldest sign-in: first in `last_login_at`, last in `-last_login_at`, which is the
 * index's order read forwards and backwards.
 */
const ORDERS: Record<UserSort | 'id', SQL[]> = {
  id: [asc(users.id)],
  // Unique within the tenant: no tie to break.
  email: [asc(users.email)],
  '-email': [desc(users.email)],
  created_at: [asc(users.createdAt), asc(users.id)],
  '-created_at': [desc(users.createdAt), desc(users.id)],
  last_login_at: [sql`${users.lastLoginAt} asc nulls first`, asc(users.id)],
  '-last_login_at': [sql`${users.lastLoginAt} desc nulls last`, desc(users.id)],
};

export interface UserListFilter {
  skip: number;
  limit: number;
  search?: string;
  /**
   * What the trigram indexes are asked for instead of the whole search (its rarest run, search-index-pattern.ts):
   * the whole search is still what the rows must match.
   */
  searchIndexPattern?: string | null;
  isActive?: boolean;
  /** Keyset pagination: only ids above this one (the previous page's last id); `skip` then counts from there. */
  afterId?: number;
  /** Another order than by id (not with `afterId`: the cursor is an id). */
  sort?: UserSort;
  /**
   * The list's columns (issue 20): each row's active role codes and MFA status, as sub-selects of the page's own
   * statement (no query per user). `hasMfa` is the MFA module's SQL (ctx.mfa), given the outer row's columns.
   */
  annotate?: { hasMfa: (tenantIdColumn: SQL, userIdColumn: SQL) => SQL<boolean> };
}

/** A listed user, with the list's columns when `annotate` asked for them (null otherwise). */
export interface ListedUser {
  user: UserRow;
  roles: string[] | null;
  hasMfa: boolean | null;
}

export interface UserListPage {
  rows: ListedUser[];
  total: number;
  /** False when `total` is the search cap (SEARCH_COUNT_CAP), not the exact number of matches. */
  totalIsExact: boolean;
  /** Whether rows follow this page (the keyset cursor is then the last row's id). */
  more: boolean;
}

/** A search counts its matches up to here; above, `total` is this cap and not exact (docs/api.md §6). */
export const SEARCH_COUNT_CAP = 1000;

/**
 * The search: the email or the full name. A match on the first or the last name is a match on the full name,
 * which contains both; each side has its pg_trgm index (drizzle/0020). The matching ids come from
 * `app_user_search` (drizzle/0031), which runs as the owner so that the indexes serve it: under RLS an ILIKE
 * written here could not be an index condition (it is not leakproof) and the search would read the whole tenant.
 * The function confines itself to the transaction's tenant; the rows are still read here, under RLS.
 */
function searchCondition(search: string, indexPattern: string | null): SQL {
  return indexPattern === null
    ? sql`${users.id} in (select s.id from app_user_search(${likePattern(search)}) s)`
    : sql`${users.id} in (select s.id from app_user_search(${likePattern(search)}, ${indexPattern}) s)`;
}

/**
 * How often each trigram occurs among a spread sample of the tenant's users: 20 windows of 50 consecutive ids,
 * evenly spaced between the tenant's lowest and highest id (two index probes and 20 short index ranges; the
 * newest users alone would make their own id digits look common). `users` counts the sampled users whose email
 * or full name has the trigram (search-index-pattern.ts).
 */
export async function searchTrigramSample(
  tx: Executor,
  tenantId: number,
): Promise<{ sampled: number; counts: { trigram: string; users: number }[] }> {
  const r = await tx.execute<{ trigram: string | null; users: number; sampled: number }>(sql`
    with bounds as (
      select (select id from ${users} where tenant_id = ${tenantId} order by id limit 1) as lo,
             (select id from ${users} where tenant_id = ${tenantId} order by id desc limit 1) as hi
    ), sample as (
      select w.id, w.email, coalesce(w.first_name, '') || ' ' || coalesce(w.last_name, '') as full_name
      from bounds, generate_series(0, 19) g,
        lateral (select id, email, first_name, last_name from ${users}
                 where tenant_id = ${tenantId} and id >= bounds.lo + ((bounds.hi - bounds.lo)::bigint * g / 20)
                 order by id limit 50) w
    ), distinct_sample as (
      select distinct on (id) id, email, full_name from sample
    ), grams as (
      select distinct s.id, t as trigram
      from distinct_sample s, unnest(show_trgm(s.email) || show_trgm(s.full_name)) t
    )
    select trigram, count(*)::int as users, (select count(*)::int from distinct_sample) as sampled
    from grams group by trigram
    union all
    select null, 0, (select count(*)::int from distinct_sample)`);
  const sampled = r.rows[0]?.sampled ?? 0;
  return {
    sampled: Number(sampled),
    counts: r.rows
      .filter((x) => x.trigram !== null)
      .map((x) => ({ trigram: x.trigram as string, users: Number(x.users) })),
  };
}

/**
 * What a list row selects: the user and, when annotated, the list's columns. Qualified references: inside a
 * select list drizzle names columns bare, which the sub-selects would capture.
 */
function listSelection(f: UserListFilter) {
  const tenantColumn = sql`${users}.${sql.identifier(users.tenantId.name)}`;
  const idColumn = sql`${users}.${sql.identifier(users.id.name)}`;
  return {
    user: userColumns,
    roles: f.annotate ? activeRoleCodesSql(tenantColumn, idColumn) : sql<null>`null`,
    hasMfa: f.annotate ? f.annotate.hasMfa(tenantColumn, idColumn) : sql<null>`null`,
  };
}

function toListed(r: { user: UserRow; roles: string[] | null; hasMfa: boolean | null }): ListedUser {
  return { user: r.user, roles: r.roles, hasMfa: r.hasMfa === null ? null : Boolean(r.hasMfa) };
}

/**
 * A page of the tenant's users, by id or by `sort`. Costs what the page costs, whatever the tenant's size:
 * `total` is the per-tenant counter (drizzle/0020) unless a search is given (then a count capped at
 * SEARCH_COUNT_CAP); a keyset page (`afterId`) starts in the index; a deep `skip` without search walks only an
 * index (an index-only scan of (tenant_id[, is_active], id), or of the sort's covering index, finds the page's
 * ids), then reads the page's rows.
 */
export async function listUsers(tx: Executor, tenantId: number, f: UserListFilter): Promise<UserListPage> {
  if (f.search) return searchUsers(tx, tenantId, { ...f, search: f.search });
  const conditions: SQL[] = [];
  if (f.isActive !== undefined) conditions.push(eq(users.isActive, f.isActive));
  if (f.afterId !== undefined) conditions.push(gt(users.id, f.afterId));
  const order = ORDERS[f.sort ?? 'id'];
  let offset = f.skip;
  if (offset > 0 && f.sort) {
    // Deferred join: the page's ids come from the sort's covering index alone (drizzle/0038), never the table.
    const pageIds = tx
      .select({ id: users.id })
      .from(users)
      .where(userRows.where(tenantId, ...conditions))
      .orderBy(...order)
      .offset(offset)
      .limit(f.limit + 1);
    conditions.push(inArray(users.id, pageIds));
    offset = 0;
  } else if (offset > 0) {
    // Deferred join: the skipped entries are read from the index alone, never from the table.
    const first = tx
      .select({ id: users.id })
      .from(users)
      .where(userRows.where(tenantId, ...conditions))
      .orderBy(asc(users.id))
      .offset(offset)
      .limit(1);
    conditions.push(gte(users.id, sql`(${first})`));
    offset = 0;
  }
  const page = tx
    .select(listSelection(f))
    .from(users)
    .where(userRows.where(tenantId, ...conditions))
    .orderBy(...order)
    .limit(f.limit + 1);
  // Issued together: under readTenant both travel in one round trip (one snapshot); elsewhere they queue.
  const [rows, total] = await Promise.all([page, countUsers(tx, tenantId, f)]);
  const more = rows.length > f.limit;
  return { rows: (more ? rows.slice(0, f.limit) : rows).map(toListed), more, ...total };
}

/**
 * A search page and its capped count in ONE statement (issue 25): the matches are found once, by one call of
 * app_user_search in a CTE that both the page and the count read. Two statements ran the trigram search twice,
 * which was most of the route's time at a million users. The count rides on every row of the page (an
 * uncorrelated sub-select, computed once); only an empty page past the first needs the count on its own.
 */
/** The tenant's users a search (and the active filter, when given) keeps: the page's and the count's WHERE. */
function searchWhere(
  tenantId: number,
  search: string,
  indexPattern: string | null,
  isActive: boolean | undefined,
) {
  return userRows.where(
    tenantId,
    searchCondition(search, indexPattern),
    isActive === undefined ? undefined : eq(users.isActive, isActive),
  );
}

async function searchUsers(
  tx: Executor,
  tenantId: number,
  f: UserListFilter & { search: string },
): Promise<UserListPage> {
  const matches = tx.$with('matches').as(
    tx
      .select({ id: users.id })
      .from(users)
      .where(searchWhere(tenantId, f.search, f.searchIndexPattern ?? null, f.isActive)),
  );
  const capped = sql<string>`(select count(*)::text from (select 1 from ${matches} limit ${SEARCH_COUNT_CAP + 1}) capped)`;
  const query = tx
    .with(matches)
    .select({ ...listSelection(f), n: capped })
    .from(users)
    .where(
      userRows.where(
        tenantId,
        inArray(users.id, tx.select({ id: matches.id }).from(matches)),
        f.afterId === undefined ? undefined : gt(users.id, f.afterId),
      ),
    )
    .orderBy(...ORDERS[f.sort ?? 'id'])
    .limit(f.limit + 1)
    .$dynamic();
  // A skip within a search walks only the matches (at most what app_user_search found), not the tenant.
  const rows = await (f.skip > 0 ? query.offset(f.skip) : query);
  const more = rows.length > f.limit;
  const page = (more ? rows.slice(0, f.limit) : rows).map(toListed);
  let total: { total: number; totalIsExact: boolean };
  if (rows.length > 0) total = capTotal(Number(rows[0]!.n));
  else if (f.skip === 0 && f.afterId === undefined) total = { total: 0, totalIsExact: true };
  else total = await countUsers(tx, tenantId, f);
  return { rows: page, more, ...total };
}

function capTotal(n: number): { total: number; totalIsExact: boolean } {
  return n > SEARCH_COUNT_CAP
    ? { total: SEARCH_COUNT_CAP, totalIsExact: false }
    : { total: n, totalIsExact: true };
}

/** The total of a listing: the counter row without search, a capped count with it. */
async function countUsers(
  tx: Executor,
  tenantId: number,
  f: UserListFilter,
): Promise<{ total: number; totalIsExact: boolean }> {
  if (!f.search) {
    const rows = await tx
      .select({ total: userCounts.total, active: userCounts.active })
      .from(userCounts)
      .where(eq(userCounts.tenantId, tenantId));
    const c = firstOrNull(rows) ?? { total: 0, active: 0 };
    const total = f.isActive === undefined ? c.total : f.isActive ? c.active : c.total - c.active;
    return { total: Number(total), totalIsExact: true };
  }
  const matches = tx
    .select({ one: sql`1` })
    .from(users)
    .where(searchWhere(tenantId, f.search, f.searchIndexPattern ?? null, f.isActive))
    .limit(SEARCH_COUNT_CAP + 1)
    .as('matches');
  const r = await tx.select({ n: sql<string>`count(*)::text` }).from(matches);
  return capTotal(Number(r[0]!.n));
}

export type UserPatch = Partial<
  Pick<UserRow, 'email' | 'firstName' | 'lastName' | 'phone' | 'isActive' | 'isVerified' | 'isSuperuser'>
>;

export async function updateUser(
  tx: Executor,
  tenantId: number,
  id: number,
  patch: UserPatch,
): Promise<UserRow | null> {
  return userRows.updateOne(tx, tenantId, { ...patch, updatedAt: new Date() }, eq(users.id, id));
}

/** Ids of the tenant's users whose address is in one of these domains (lower-case; the part after the last @). */
export async function userIdsInDomains(tx: Executor, tenantId: number, domains: string[]): Promise<number[]> {
  if (domains.length === 0) return [];
  const rows = await tx
    .select({ id: users.id })
    .from(users)
    .where(userRows.where(tenantId, inArray(sql`lower(split_part(${users.email}, '@', -1))`, domains)));
  return rows.map((r) => r.id);
}

/** Locks the row for a read-modify-write (concurrent admin edits of one user serialise). */
export const findUserForUpdate = userRows.lockById;

export async function deleteUser(tx: Executor, tenantId: number, id: number): Promise<boolean> {
  return (await userRows.delete(tx, tenantId, eq(users.id, id))) > 0;
}

/**
 * A user and their active role codes in one round trip (GET /users/{id} is a hot read: the bench compares it
 * with GET /auth/me). The role sub-select is the RBAC module's.
 */
// GET /users/{id}: the SQL is built once (platform/db/prepared.ts).
const userWithRoleCodesQuery = reusableQuery<
  { tenantId: number; userId: number },
  { user: UserRow; roles: string[] }[]
>((tx) =>
  tx
    .select({
      user: userColumns,
      // Qualified: inside a select list drizzle names columns bare, which the sub-select would capture.
      roles: activeRoleCodesSql(
        sql`${users}.${sql.identifier(users.tenantId.name)}`,
        sql`${users}.${sql.identifier(users.id.name)}`,
      ),
    })
    .from(users)
    .where(and(eq(users.tenantId, sql.placeholder('tenantId')), eq(users.id, sql.placeholder('userId'))))
    .limit(1)
    .prepare('user_with_role_codes'),
);

export async function findUserWithRoleCodes(
  tx: Executor,
  tenantId: number,
  userId: number,
): Promise<{ user: UserRow; roles: string[] } | null> {
  return firstOrNull(await userWithRoleCodesQuery(tx, { tenantId, userId }));
}

/** How many of these users of the tenant are active. */
export async function countActiveUsers(tx: Executor, tenantId: number, ids: number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const r = await tx
    .select({ n: sql<string>`count(*)::text` })
    .from(users)
    .where(userRows.where(tenantId, inArray(users.id, ids), eq(users.isActive, true)));
  return Number(r[0]!.n);
}
