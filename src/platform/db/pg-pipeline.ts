/**
 * The one place that reaches into `pg`'s internals (issue 23 item 8). readTenant (client.ts) sends several
 * statements in ONE extended-protocol write ending in ONE Sync, which `pg` has no public API for. This module
 * relies on these undocumented parts of `pg` (8.x), each pinned by tests/integration/pg-pipeline.test.ts, so an
 * upgrade that changes one of them fails that test instead of production:
 *
 * - `pg/lib/utils.js` exports `prepareValue`, pg's own serialisation of parameters (Dates, Buffers, arrays, JSON);
 * - `client.query(x)` accepts any object with `submit(connection)` (a "submittable") and hands it every backend
 *   message of the exchange through `handle…` methods (`handleRowDescription`, `handleDataRow`,
 *   `handleCommandComplete`, `handleEmptyQuery`, `handlePortalSuspended`, `handleCopyInResponse`,
 *   `handleCopyData`, `handleError`, `handleReadyForQuery`), until ReadyForQuery;
 * - the connection passed to `submit` has `parse`, `bind` (with `valueMapper`), `describe`, `execute`, `sync`,
 *   `sendCopyFail`, `stream.cork/uncork`, and `parsedStatements` (name → text), pg's record of the named
 *   statements parsed on that connection, which it keeps across queries and never clears by itself;
 * - a `pg.Query`, fed those messages directly, parses its rows exactly as when it runs alone (row mode, type
 *   parsers) and settles through its callback on ReadyForQuery (or its error).
 *
 * Nothing else imports `pg/lib/*` or calls those connection methods.
 */

import { createHash } from 'node:crypto';
import pg from 'pg';
// pg's own value serialisation (Dates, Buffers, arrays) for the pipelined statements' parameters. A static import
// (typed by pg-lib-utils.d.ts), so dependency-cruiser sees it: its rule `pg-internals` lets only this file in.
import pgUtils from 'pg/lib/utils.js';

const { prepareValue } = pgUtils;

type PgQuery = InstanceType<typeof pg.Query> & {
  text: string;
  values?: unknown[];
  types?: unknown;
  binary?: boolean;
  handleRowDescription(msg: unknown): void;
  handleDataRow(msg: unknown): void;
  handleCommandComplete(msg: unknown, con: unknown): void;
  handleError(err: unknown, con: unknown): void;
  handleReadyForQuery(con: unknown): void;
};

interface PgConnection {
  /** pg's record of the named statements this connection has parsed (name → text). */
  parsedStatements: Record<string, string>;
  stream: { cork?: () => void; uncork?: () => void };
  parse(m: { text: string; name?: string; types?: unknown }): void;
  bind(m: {
    portal?: string;
    statement?: string;
    values?: unknown[];
    binary?: boolean;
    valueMapper?: unknown;
  }): void;
  describe(m: { type: 'P'; name: string }): void;
  execute(m: { portal: string; rows?: number }): void;
  sync(): void;
  sendCopyFail(msg: string): void;
}

/** One statement waiting for its pipeline. Opaque outside this module. */
export interface PipelinedStatement {
  readonly text: string;
}

/**
 * A statement for `sendPipeline`: `config`/`values` as `client.query` takes them (drizzle passes
 * `{ text, values, rowMode, types }`); `done` receives pg's result (or the error) once the pipeline's
 * ReadyForQuery arrives.
 */
export function pipelinedStatement(
  config: string | pg.QueryConfig,
  values: unknown[] | undefined,
  done: (err: Error | undefined, result: pg.QueryResult | undefined) => void,
): PipelinedStatement {
  return new pg.Query(config as pg.QueryConfig, values, done as never) as unknown as PgQuery;
}

/** Statement names by text: a read's statements are parsed once per connection, and planned once in a while. */
const statementNames = new Map<string, string>();
export function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    name = `mc_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    if (statementNames.size >= 5000) statementNames.clear();
    statementNames.set(text, name);
  }
  return name;
}

/**
 * Several statements in one write, ending in ONE Sync: PostgreSQL runs them in one implicit transaction, so the
 * first (e.g. the RLS context, set_config(..., true)) holds for the others, and answers with one ReadyForQuery.
 * pg's client hands this object every message of the exchange; each is passed to the pg.Query of its statement,
 * which parses the rows exactly as it would alone (drizzle's row mode and type parsers included).
 */
class Pipeline {
  private current = 0;
  constructor(private readonly steps: PgQuery[]) {}
  submit(connection: PgConnection): null {
    connection.stream.cork?.();
    try {
      for (const q of this.steps) {
        // Named statements: PostgreSQL parses each statement once per connection and soon reuses a generic plan
        // (planning, not the round trip, was most of a read's cost). A caller whose pipeline failed must discard
        // the connection (readTenant does), so this record never lists a statement that failed to parse.
        const name = statementName(q.text);
        if (connection.parsedStatements[name] === undefined) {
          connection.parse({ text: q.text, name, types: q.types });
          connection.parsedStatements[name] = q.text;
        }
        connection.bind({
          statement: name,
          values: q.values ?? [],
          binary: q.binary,
          valueMapper: prepareValue,
        });
        connection.describe({ type: 'P', name: '' });
        connection.execute({ portal: '' });
      }
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
    return null;
  }
  handleRowDescription(msg: unknown) {
    this.steps[this.current]?.handleRowDescription(msg);
  }
  handleDataRow(msg: unknown) {
    this.steps[this.current]?.handleDataRow(msg);
  }
  handleCommandComplete(msg: unknown, con: unknown) {
    this.steps[this.current++]?.handleCommandComplete(msg, con);
  }
  handleEmptyQuery() {
    this.current++;
  }
  handlePortalSuspended() {}
  /**
   * COPY FROM STDIN: refused. The server ignores the Sync it got while in copy-in mode and, after the CopyFail,
   * skips everything up to the next Sync: one more Sync brings its ReadyForQuery (else the connection hangs).
   */
  handleCopyInResponse(con: PgConnection) {
    con.sendCopyFail('COPY is not supported in a pipelined read');
    con.sync();
  }
  handleCopyData() {}
  /** The server skipped the rest (the implicit transaction rolled back): every statement fails with the error. */
  handleError(err: unknown, con: unknown) {
    for (const q of this.steps) q.handleError(err, con);
  }
  handleReadyForQuery(con: unknown) {
    for (const q of this.steps) q.handleReadyForQuery(con);
  }
}

/**
 * Sends `statements` on `client` in one write ending in one Sync (one round trip, one implicit transaction). Each
 * statement's `done` is called when the exchange ends. After any statement fails, the client's record of parsed
 * statements may list one the server does not have: release the client as broken.
 */
export function sendPipeline(client: pg.ClientBase, statements: readonly PipelinedStatement[]): void {
  (client as unknown as { query(q: unknown): void }).query(new Pipeline(statements as PgQuery[]));
}
