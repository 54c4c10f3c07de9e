/**
 * Hot reads whose SQL is built once per process instead of on every request. Drizzle turns a query builder into
 * SQL text on each call (selection lists, entity checks, parameter walking: a good part of a read's CPU on the
 * request path); a prepared query keeps the text, the parameter slots (sql.placeholder) and the row mapping.
 *
 * Drizzle binds a prepared query to the session it was built on, and ours change per request (readTenant's
 * pipeline, withTenant's client). On node-postgres the only per-session state of a prepared query is its
 * client, so each call runs the built query against the caller's client. Other drivers (PGlite) build the query
 * on the caller's executor each time, as before.
 *
 * The statement is sent unnamed: where it is planned once per connection is the driver's business (readTenant
 * names its statements itself), exactly as for an unprepared query.
 */
import type { SQL } from 'drizzle-orm';
import { NodePgSession } from 'drizzle-orm/node-postgres';
import type { Executor } from './client.js';

interface Runnable<R> {
  execute(placeholderValues?: Record<string, unknown>): Promise<R>;
}
interface NodePgPrepared<R> extends Runnable<R> {
  client: unknown;
  queryConfig: { name?: string };
  rawQueryConfig: { name?: string };
}

/**
 * `build(executor)` returns a prepared query (`select(...).prepare('name')`, or `preparedSql`) whose varying
 * values are `sql.placeholder(key)`; the returned function runs it with `values` on `executor`.
 */
export function reusableQuery<V extends Record<string, unknown>, R>(
  build: (executor: Executor) => Runnable<R>,
): (executor: Executor, values: V) => Promise<R> {
  let template: NodePgPrepared<R> | undefined;
  return (executor, values) => {
    const session = (executor as unknown as { session: unknown }).session;
    if (session instanceof NodePgSession) {
      if (!template) {
        template = build(executor) as NodePgPrepared<R>;
        template.queryConfig.name = undefined;
        template.rawQueryConfig.name = undefined;
      }
      const run = Object.create(template) as NodePgPrepared<R>;
      run.client = (session as unknown as { client: unknown }).client;
      return run.execute(values);
    }
    return build(executor).execute(values);
  };
}

/** A raw statement (what `executor.execute(query)` runs), prepared: its result is `{ rows }` as execute's is. */
export function preparedSql<Row>(executor: Executor, query: SQL): Runnable<{ rows: Row[] }> {
  const { session, dialect } = executor as unknown as {
    session: { prepareQuery(q: unknown, fields: undefined, name: string, arrayMode: boolean): unknown };
    dialect: { sqlToQuery(q: SQL): unknown };
  };
  return session.prepareQuery(dialect.sqlToQuery(query), undefined, 'raw', false) as Runnable<{
    rows: Row[];
  }>;
}
