/**
 * Repository helpers for the shapes every repository writes (issue 23 item 7): the tenant's WHERE, and "the
 * row, or null". Each repository declares its column selections explicitly next to its queries (`const
 * userColumns = { id: users.id, … }`), so a column added to a table, a secret above all, reaches no read that
 * does not name it.
 */
import { and, eq, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';

/** The first row, or null when there is none (a lookup, an UPDATE … RETURNING that matched nothing). */
export function firstOrNull<T>(rows: readonly T[]): T | null {
  return rows[0] ?? null;
}

/**
 * A single-row lookup: runs `query` with LIMIT 1 and returns its row or null. `query` is a drizzle select
 * before `.limit()` (after `.where()` / `.for('update')`), e.g.
 * `one(tx.select(userColumns).from(users).where(ofTenant(users, tenantId, eq(users.email, email))))`.
 */
export async function one<T>(query: { limit(n: number): PromiseLike<T[]> }): Promise<T | null> {
  return firstOrNull(await query.limit(1));
}

/**
 * The WHERE of a tenant-scoped query: `tenant_id = tenantId` AND every condition given (undefined ones are
 * skipped, as drizzle's `and` skips them). RLS is the second wall; this is the first.
 */
export function ofTenant(
  table: { tenantId: AnyPgColumn },
  tenantId: number,
  ...conditions: (SQL | undefined)[]
): SQL {
  return and(eq(table.tenantId, tenantId), ...conditions)!;
}
