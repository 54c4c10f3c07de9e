/**
 * The one way a repository reads and writes a tenant's rows (docs/extending.md "Repositories"): a table bound to
 * the column list its reads return. Every method takes the tenant first and puts `tenant_id = tenantId` in its
 * WHERE, or in the inserted row, so a query written with it cannot leave the tenant out; row-level security
 * stays the second wall. Queries of another shape (joins, aggregates, raw SQL) are written with drizzle
 * directly, with `ofTenant` for their WHERE.
 */
import type { SQL } from 'drizzle-orm';
import type { AnyPgColumn, PgTable, PgUpdateSetSource, SelectedFields } from 'drizzle-orm/pg-core';
import type { SelectResultFields } from 'drizzle-orm/query-builders/select.types';
import type { Executor } from './client.js';
import { firstOrNull, ofTenant, one } from './rows.js';

/** A table with a tenant_id column. */
export type TenantTable = PgTable & { tenantId: AnyPgColumn };

/** A WHERE beyond the tenant's: conditions ANDed, undefined ones skipped. */
type Conditions = (SQL | undefined)[];

/** What a list asks for beyond the tenant: conditions, order, and optionally a page (offset or keyset). */
export interface ListOptions {
  where?: Conditions;
  orderBy: (SQL | AnyPgColumn)[];
  offset?: number;
  limit?: number;
  /** FOR UPDATE: the rows stay locked until the transaction ends (in the order given). */
  lock?: boolean;
}

export interface TenantRows<TTable extends TenantTable, TRow> {
  readonly table: TTable;
  /** The WHERE of this table's rows in the tenant (for queries of another shape: counts, joins). */
  where(tenantId: number, ...conditions: Conditions): SQL;
  /** The row matching the conditions (LIMIT 1), or null. */
  find(tx: Executor, tenantId: number, ...conditions: Conditions): Promise<TRow | null>;
  /** `find`, locking the row FOR UPDATE until the transaction ends. */
  lock(tx: Executor, tenantId: number, ...conditions: Conditions): Promise<TRow | null>;
  list(tx: Executor, tenantId: number, options: ListOptions): Promise<TRow[]>;
  /** Inserts one row of the tenant (its tenant_id is set here) and returns it. */
  insert(tx: Executor, tenantId: number, values: Omit<TTable['$inferInsert'], 'tenantId'>): Promise<TRow>;
  /** Updates the matching row and returns it; null when none matched (a lost race, an unknown id). */
  update(
    tx: Executor,
    tenantId: number,
    set: PgUpdateSetSource<TTable>,
    ...conditions: Conditions
  ): Promise<TRow | null>;
  /** Updates every matching row and returns them. */
  updateAll(
    tx: Executor,
    tenantId: number,
    set: PgUpdateSetSource<TTable>,
    ...conditions: Conditions
  ): Promise<TRow[]>;
  /** Deletes the matching rows; how many went. */
  delete(tx: Executor, tenantId: number, ...conditions: Conditions): Promise<number>;
  /** Deletes the matching rows and returns them. */
  deleteReturning(tx: Executor, tenantId: number, ...conditions: Conditions): Promise<TRow[]>;
}

/**
 * Binds `table` to `columns`, the explicit list every read and RETURNING of these helpers selects (a column left
 * out, a secret above all, is never read by them).
 */
export function tenantRows<TTable extends TenantTable, TColumns extends SelectedFields>(
  table: TTable,
  columns: TColumns,
): TenantRows<TTable, SelectResultFields<TColumns>> {
  type Row = SelectResultFields<TColumns>;
  // drizzle's builders are typed by their concrete table and columns; over the generic ones their inferred
  // types do not resolve, so the builders are used untyped here and the result typed by `Row` above.
  // biome-ignore lint/suspicious/noExplicitAny: see the comment above
  const db = (tx: Executor) => tx as any;
  const where = (tenantId: number, ...conditions: Conditions) => ofTenant(table, tenantId, ...conditions);
  const select = (tx: Executor, tenantId: number, conditions: Conditions) =>
    db(tx)
      .select(columns)
      .from(table)
      .where(where(tenantId, ...conditions));
  return {
    table,
    where,
    find: (tx, tenantId, ...conditions) => one<Row>(select(tx, tenantId, conditions)),
    lock: (tx, tenantId, ...conditions) => one<Row>(select(tx, tenantId, conditions).for('update')),
    list(tx, tenantId, o) {
      let q = select(tx, tenantId, o.where ?? []).orderBy(...o.orderBy);
      if (o.offset !== undefined) q = q.offset(o.offset);
      if (o.limit !== undefined) q = q.limit(o.limit);
      return o.lock ? q.for('update') : q;
    },
    async insert(tx, tenantId, values) {
      const rows: Row[] = await db(tx)
        .insert(table)
        .values({ ...values, tenantId })
        .returning(columns);
      return rows[0]!;
    },
    async update(tx, tenantId, set, ...conditions) {
      return firstOrNull(await this.updateAll(tx, tenantId, set, ...conditions));
    },
    updateAll: (tx, tenantId, set, ...conditions) =>
      db(tx)
        .update(table)
        .set(set)
        .where(where(tenantId, ...conditions))
        .returning(columns),
    async delete(tx, tenantId, ...conditions) {
      const rows: unknown[] = await db(tx)
        .delete(table)
        .where(where(tenantId, ...conditions))
        .returning({ tenantId: table.tenantId });
      return rows.length;
    },
    deleteReturning: (tx, tenantId, ...conditions) =>
      db(tx)
        .delete(table)
        .where(where(tenantId, ...conditions))
        .returning(columns),
  };
}
