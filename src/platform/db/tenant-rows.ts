/**
 * The one way a repository reads and writes a tenant's rows (docs/extending.md "Repositories"): a table bound to
 * the column list its reads return. Every method takes the tenant first and puts `tenant_id = tenantId` in its
 * WHERE, or in the inserted row, so a query written with it cannot leave the tenant out; row-level security
 * stays the second wall. Queries of another shape (joins, aggregates, raw SQL) are written with drizzle
 * directly, with `ofTenant` for their WHERE.
 */
import { eq, type GetColumnData, getTableName, type SQL } from 'drizzle-orm';
import type { AnyPgColumn, PgTable, PgUpdateSetSource, SelectedFields } from 'drizzle-orm/pg-core';
import type { SelectResultFields } from 'drizzle-orm/query-builders/select.types';
import type { Executor } from './client.js';
import { firstOrNull, ofTenant, one } from './rows.js';

/** A table with a tenant_id column. */
export type TenantTable = PgTable & { tenantId: AnyPgColumn };

/** The type of the table's `id` column; never for a table keyed otherwise (the *ById methods do not apply). */
type IdOf<TTable> = TTable extends { id: AnyPgColumn } ? TTable['id']['_']['data'] : never;

/** What an update sets: anything but the tenant (a row never moves to another tenant). */
type TenantSet<TTable extends TenantTable> = Omit<PgUpdateSetSource<TTable>, 'tenantId'>;

/** A WHERE beyond the tenant's: conditions ANDed, undefined ones skipped. */
type Conditions = (SQL | undefined)[];

/**
 * What a list asks for beyond the tenant: conditions, order, and optionally a page: `offset` and `limit`, or a
 * keyset (a condition past the cursor in `where`, the same column in `orderBy`, and `limit`).
 */
export interface ListOptions {
  where?: Conditions;
  /** Absent: the database's order (for a caller that indexes the rows itself). */
  orderBy?: (SQL | AnyPgColumn)[];
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
  /**
   * One column of the single matching row, null when none matches: the narrow lookups (an id by name, whether a
   * row exists) that need nothing else of the row.
   */
  pick<TColumn extends AnyPgColumn>(
    tx: Executor,
    tenantId: number,
    column: TColumn,
    ...conditions: Conditions
  ): Promise<GetColumnData<TColumn> | null>;
  /** One column of every matching row, in `orderBy` order (the ids of a group's members, say). */
  pluck<TColumn extends AnyPgColumn>(
    tx: Executor,
    tenantId: number,
    column: TColumn,
    options: Pick<ListOptions, 'where' | 'orderBy'>,
  ): Promise<GetColumnData<TColumn>[]>;
  /** `find`, locking the row FOR UPDATE until the transaction ends. */
  lock(tx: Executor, tenantId: number, ...conditions: Conditions): Promise<TRow | null>;
  /** The tenant's row with this id, or null (another tenant's row is not found either). */
  findById(tx: Executor, tenantId: number, id: IdOf<TTable>): Promise<TRow | null>;
  /** `findById`, locking the row FOR UPDATE until the transaction ends. */
  lockById(tx: Executor, tenantId: number, id: IdOf<TTable>): Promise<TRow | null>;
  list(tx: Executor, tenantId: number, options: ListOptions): Promise<TRow[]>;
  /** Inserts one row of the tenant (its tenant_id is set here) and returns it. */
  insert(tx: Executor, tenantId: number, values: Omit<TTable['$inferInsert'], 'tenantId'>): Promise<TRow>;
  /** Updates the matching rows; how many changed (a conditional update: did this one win?). */
  update(tx: Executor, tenantId: number, set: TenantSet<TTable>, ...conditions: Conditions): Promise<number>;
  /** Updates the matching row and returns it; null when none matched (a lost race, an unknown id). */
  updateOne(
    tx: Executor,
    tenantId: number,
    set: TenantSet<TTable>,
    ...conditions: Conditions
  ): Promise<TRow | null>;
  /** Updates every matching row and returns them. */
  updateReturning(
    tx: Executor,
    tenantId: number,
    set: TenantSet<TTable>,
    ...conditions: Conditions
  ): Promise<TRow[]>;
  /** Deletes the matching rows; how many went. */
  delete(tx: Executor, tenantId: number, ...conditions: Conditions): Promise<number>;
  /** Deletes the matching rows and returns them. */
  deleteReturning(tx: Executor, tenantId: number, ...conditions: Conditions): Promise<TRow[]>;
}

/**
 * Binds `table` to `columns`, the explicit list every read and RETURNING of these helpers selects (a column left
 * out, a secret above all, is never read by them). The methods close over the table and use no `this`: a
 * repository may export one as its own function (`export const findPeer = peerRows.findById`).
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
  const byId = (id: unknown) => eq((table as unknown as { id: AnyPgColumn }).id, id);
  // The type keeps tenantId out of an update; this keeps out one that came through a cast or an `any`.
  const updating = (tx: Executor, tenantId: number, set: TenantSet<TTable>, conditions: Conditions) => {
    if ('tenantId' in set) throw new Error(`an update of ${getTableName(table)} may not set tenant_id`);
    return db(tx)
      .update(table)
      .set(set)
      .where(where(tenantId, ...conditions));
  };
  const updateReturning = (
    tx: Executor,
    tenantId: number,
    set: TenantSet<TTable>,
    ...conditions: Conditions
  ): Promise<Row[]> => updating(tx, tenantId, set, conditions).returning(columns);
  // What a write that only counts its rows returns: a column every such table has, and no secret.
  const tenantIdOnly = { tenantId: table.tenantId };
  return {
    table,
    where,
    find: (tx, tenantId, ...conditions) => one<Row>(select(tx, tenantId, conditions)),
    async pick(tx, tenantId, column, ...conditions) {
      const row = await one<{ value: never }>(
        db(tx)
          .select({ value: column })
          .from(table)
          .where(where(tenantId, ...conditions)),
      );
      return row ? row.value : null;
    },
    async pluck(tx, tenantId, column, o) {
      const rows: { value: never }[] = await db(tx)
        .select({ value: column })
        .from(table)
        .where(where(tenantId, ...(o.where ?? [])))
        .orderBy(...(o.orderBy ?? []));
      return rows.map((r) => r.value);
    },
    lock: (tx, tenantId, ...conditions) => one<Row>(select(tx, tenantId, conditions).for('update')),
    findById: (tx, tenantId, id) => one<Row>(select(tx, tenantId, [byId(id)])),
    lockById: (tx, tenantId, id) => one<Row>(select(tx, tenantId, [byId(id)]).for('update')),
    list(tx, tenantId, o) {
      let q = select(tx, tenantId, o.where ?? []);
      if (o.orderBy) q = q.orderBy(...o.orderBy);
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
      const rows: unknown[] = await updating(tx, tenantId, set, conditions).returning(tenantIdOnly);
      return rows.length;
    },
    updateOne: async (tx, tenantId, set, ...conditions) =>
      firstOrNull(await updateReturning(tx, tenantId, set, ...conditions)),
    updateReturning,
    async delete(tx, tenantId, ...conditions) {
      const rows: unknown[] = await db(tx)
        .delete(table)
        .where(where(tenantId, ...conditions))
        .returning(tenantIdOnly);
      return rows.length;
    },
    deleteReturning: (tx, tenantId, ...conditions) =>
      db(tx)
        .delete(table)
        .where(where(tenantId, ...conditions))
        .returning(columns),
  };
}
