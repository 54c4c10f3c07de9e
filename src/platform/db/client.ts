/**
 * One database handle for both backends: real PostgreSQL (DATABASE_URL) through `pg`, or embedded PGlite.
 * Every tenant-scoped query runs inside withTenant(), which switches to the non-owner `massacorp_app` role and
 * sets `app.tenant_id` for the transaction, so PostgreSQL row-level security applies even when the connection
 * itself is a superuser (PGlite always is).
 */

import { sql } from 'drizzle-orm';
import { drizzle as drizzlePg, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { Config } from '../../config.js';
import { type PipelinedStatement, pipelinedStatement, sendPipeline } from './pg-pipeline.js';
import { acquirePgliteLock } from './pglite-lock.js';

export { DatabaseLockedError } from './pglite-lock.js';

export const APP_ROLE = 'massacorp_app';

/** Drizzle's API is the same over pg and PGlite; we type both as node-postgres. */
export type Db = NodePgDatabase<Record<string, never>>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type Executor = Db | Tx;

export interface Database {
  readonly kind: 'postgres' | 'pglite';
  readonly db: Db;
  /** Tenant-scoped transaction: RLS role + tenant context. The default for all application queries. */
  withTenant<T>(tenantId: number, fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Tenant-scoped READS in one network round trip on PostgreSQL: the queries `fn` issues without awaiting each
   * other (Promise.all) are sent together, behind the RLS context, in one extended-protocol pipeline ending in one
   * Sync, so they run in one implicit transaction (same role and app.tenant_id, one snapshot). Queries issued after
   * an await form the next pipeline (its own transaction). Never for writes that must commit together: use
   * withTenant. On PGlite (no network) it is withTenant.
   */
  readTenant<T>(tenantId: number, fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * A tenant-scoped READ that may be served by the replica (DATABASE_REPLICA_URL): the heavy reads only (audit
   * listing and export, user listing and search). It goes to the primary when there is no replica, when the
   * replica is behind by more than DATABASE_REPLICA_MAX_LAG_MS or unreachable, and when the caller wrote within
   * that window (replica.ts). Reads only, with readTenant's rules (statements awaited in turn may see different
   * snapshots); on the primary it is readTenant.
   */
  withTenantRead<T>(tenantId: number, fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Cross-tenant transaction as the connection's own role (bypasses RLS). Only for work that is by nature
   * cross-tenant: resolving a tenant before login, platform operators' tenant routes, the WireGuard agent.
   */
  withSystem<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Runs a multi-statement SQL script (migrations). */
  execScript(script: string): Promise<void>;
  /** Plain query as the connection role, for migrations bookkeeping and health checks. */
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  /** Runs fn while holding a session-level advisory lock on a dedicated connection (migrations, wg agent). */
  withAdvisoryLock<T>(key: number, fn: () => Promise<T>): Promise<T>;
  poolStats(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

/** Switches an open transaction (e.g. a system one that just created the tenant) into a tenant's context. */
export async function enterTenant(tx: Tx, tenantId: number): Promise<void> {
  await tx.execute(tenantContext(tenantId));
}

function assertTenantId(tenantId: number) {
  if (!Number.isSafeInteger(tenantId) || tenantId <= 0) throw new Error(`invalid tenant id ${tenantId}`);
}

function tenantContext(tenantId: number) {
  assertTenantId(tenantId);
  return sql`select set_config('role', ${APP_ROLE}, true), set_config('app.tenant_id', ${String(tenantId)}, true)`;
}

/** Where the pool reports lost connections (the app's logger; the CLI passes none). */
export interface DbLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
}

// Connection-level failures: the server went away (restart, failover, crash), refuses connections for now, or
// the client gave up waiting. The request may succeed later: 503, never 500. SQLSTATE class 08 is "connection
// exception"; 57P01-57P03 are admin/crash shutdown and "cannot connect now"; 53300 too many connections.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  // query_canceled: statement_timeout (DB_STATEMENT_TIMEOUT_MS) fired, or an operator cancelled the backend.
  // The transaction rolled back; the request may succeed later.
  '57014',
  // read_only_sql_transaction: a write reached a standby. The app writes only through DATABASE_URL, so that
  // address led to a node that is no longer the primary: a switchover or failover the proxy (HAProxy on
  // Patroni's /primary) has not caught up with yet. It will within a check or two; the write may then succeed.
  '25006',
]);
const UNAVAILABLE_MESSAGES =
  /Connection terminated|not queryable|timeout exceeded when trying to connect|Connection ended unexpectedly|Cannot use a pool after calling end/;

/** True when err (or an error it wraps: drizzle puts the driver's error in `cause`) means "database unreachable". */
export function isDatabaseUnavailable(err: unknown): boolean {
  let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (UNAVAILABLE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return true;
    if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.test(e.message)) return true;
    e = e.cause as typeof e;
  }
  return false;
}

/** How an embedded database starts. */
export interface PgliteOptions {
  /**
   * A data directory dumped by PGlite's `dumpDataDir('none')` (an uncompressed tarball): an in-memory PGlite
   * starts from it instead of running initdb. The test suites start every embedded database from one migrated
   * snapshot (tests/helpers/snapshot.ts). Only for `memory://`: a directory on disk keeps its own contents.
   */
  snapshot?: Blob;
}

export async function createDatabase(
  config: Pick<
    Config,
    'databaseUrl' | 'pgliteDir' | 'dbPoolMax' | 'dbConnectTimeoutMs' | 'dbStatementTimeoutMs'
  >,
  log?: DbLogger,
  pglite: PgliteOptions = {},
): Promise<Database> {
  if (config.databaseUrl)
    return createPostgres(
      config.databaseUrl,
      config.dbPoolMax,
      config.dbConnectTimeoutMs,
      config.dbStatementTimeoutMs,
      log,
    );
  return createPglite(config.pgliteDir, pglite);
}

/**
 * withTenant on a pool: BEGIN and the RLS context travel in one round trip (simple-query protocol, the id is a
 * checked integer). The replica's reads run the same way on the replica's pool.
 */
export function tenantTransaction(pool: pg.Pool): Database['withTenant'] {
  return async (tenantId, fn) => {
    assertTenantId(tenantId);
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query(
        `begin; select set_config('role', '${APP_ROLE}', true), set_config('app.tenant_id', '${tenantId}', true)`,
      );
      const result = await fn(drizzlePg(client) as unknown as Tx);
      await client.query('commit');
      return result;
    } catch (err) {
      await client.query('rollback').catch(() => {
        broken = true;
      });
      throw err;
    } finally {
      client.release(broken);
    }
  };
}

async function createPostgres(
  url: string,
  max: number,
  connectTimeoutMs: number,
  statementTimeoutMs: number,
  log: DbLogger | undefined,
): Promise<Database> {
  // connectionTimeoutMillis bounds both a connection attempt (a failed-over host that drops packets) and the
  // wait for a free client: a request gets its 503 instead of hanging.
  const pool = new pg.Pool({
    connectionString: url,
    max,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: connectTimeoutMs,
    // Sent in the startup packet, so every pooled connection has it before its first query: no statement
    // (lock waits included) holds a connection, and the request on it, longer than this. The server cancels
    // it (SQLSTATE 57014) and the transaction rolls back; the error handler answers 503.
    statement_timeout: statementTimeoutMs,
  });
  // A client whose server goes away emits 'error'. pg-pool listens only while the client is idle; a client
  // checked out (a transaction, a script, an advisory lock) between two queries has no listener, and an
  // unhandled 'error' event ends the process: a PostgreSQL restart under load took every replica down.
  // Every client gets a listener for its whole life. The query in flight, if any, fails on its own (503 to
  // the caller); the broken client is not queryable any more, so the pool discards it on release.
  let lastLogged = 0;
  let suppressed = 0;
  const onConnectionError = (err: Error & { code?: string }) => {
    const now = Date.now();
    // One line per burst: a restart breaks every pooled connection at once.
    if (now - lastLogged < 5000) {
      suppressed++;
      return;
    }
    log?.warn(
      { err: err.message, code: err.code, also_lost: suppressed },
      'database connection lost; the pool reconnects on demand',
    );
    lastLogged = now;
    suppressed = 0;
  };
  pool.on('error', onConnectionError);
  pool.on('connect', (client) => client.on('error', onConnectionError));
  const db = drizzlePg(pool) as Db;
  const database: Database = {
    kind: 'postgres',
    db,
    withTenant: tenantTransaction(pool),
    // No replica here (replica.ts wraps this): the pipelined read on the primary.
    withTenantRead: (tenantId, fn) => database.readTenant(tenantId, fn),
    readTenant: async (tenantId, fn) => {
      assertTenantId(tenantId);
      const client = await pool.connect();
      let broken = false;
      // Statements issued in one turn of the event loop leave together, behind the tenant context.
      let batch: PipelinedStatement[] = [];
      const flush = () => {
        const steps = batch;
        batch = [];
        const context = pipelinedStatement(
          `select set_config('role', '${APP_ROLE}', true), set_config('app.tenant_id', $1, true)`,
          [String(tenantId)],
          () => {},
        );
        sendPipeline(client, [context, ...steps]);
      };
      const started: Promise<unknown>[] = [];
      const recorder = {
        query: (config: unknown, values?: unknown[]) => {
          const p = new Promise((resolve, reject) => {
            const q = pipelinedStatement(config as pg.QueryConfig, values, (err, res) => {
              if (err) {
                // The connection's record of parsed statements may be wrong now: it is not reused.
                broken = true;
                reject(err);
              } else resolve(res);
            });
            if (batch.length === 0) setImmediate(flush);
            batch.push(q);
          });
          started.push(p);
          return p;
        },
      };
      try {
        return await fn(drizzlePg(recorder as unknown as pg.PoolClient) as unknown as Tx);
      } finally {
        // A statement fn started but did not await must not run on the client once another request has it.
        await Promise.allSettled(started);
        client.release(broken);
      }
    },
    withSystem: (fn) => db.transaction(fn),
    execScript: async (script) => {
      // A dedicated client, so a failed script's open transaction is rolled back before reuse.
      const client = await pool.connect();
      let broken = false;
      try {
        // Migrations may legitimately run longer than a request's statement; RESET restores the pool's value.
        await client.query('set statement_timeout = 0');
        await client.query(script);
      } catch (err) {
        await client.query('rollback').catch(() => {
          broken = true;
        });
        throw err;
      } finally {
        if (!broken) await client.query('reset statement_timeout').catch(() => (broken = true));
        client.release(broken);
      }
    },
    query: async (text, params) => (await pool.query(text, params as unknown[])).rows,
    withAdvisoryLock: async (key, fn) => {
      const client = await pool.connect();
      let broken = false;
      try {
        // Waiting for the lock (another replica migrating) is not a request's statement: no timeout here.
        await client.query('set statement_timeout = 0');
        await client.query('select pg_advisory_lock($1)', [key]);
        try {
          return await fn();
        } finally {
          // A lost connection already released the lock server-side; the client itself is discarded.
          await client.query('select pg_advisory_unlock($1)', [key]).catch((err) => {
            broken = true;
            throw err;
          });
        }
      } catch (err) {
        if (isDatabaseUnavailable(err)) broken = true;
        throw err;
      } finally {
        if (!broken) await client.query('reset statement_timeout').catch(() => (broken = true));
        client.release(broken);
      }
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close: () => pool.end(),
  };
  return database;
}

async function createPglite(dir: string, opts: PgliteOptions): Promise<Database> {
  if (opts.snapshot && dir !== 'memory://')
    throw new Error('a PGlite snapshot only starts an in-memory database');
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle: drizzleLite } = await import('drizzle-orm/pglite');
  // pg_trgm serves the users' substring search (migration 0020); PGlite loads an extension only if given here.
  const { pg_trgm } = await import('@electric-sql/pglite/contrib/pg_trgm');
  // Before PGlite reads or writes the directory: a second process on it fails here, having written nothing
  // (pglite-lock.ts). An in-memory PGlite takes no lock.
  const lock = acquirePgliteLock(dir);
  const options = { extensions: { pg_trgm } };
  const client =
    dir !== 'memory://'
      ? new PGlite(dir, options)
      : opts.snapshot
        ? new PGlite({ ...options, loadDataDir: opts.snapshot })
        : new PGlite(options);
  try {
    await client.waitReady;
  } catch (err) {
    lock?.release();
    throw err;
  }
  const db = drizzleLite(client) as unknown as Db;
  const withTenant: Database['withTenant'] = (tenantId, fn) =>
    db.transaction(async (tx) => {
      await tx.execute(tenantContext(tenantId));
      return fn(tx);
    });
  return {
    kind: 'pglite',
    db,
    withTenant,
    // One process, no network: nothing to pipeline, and no replica.
    readTenant: withTenant,
    withTenantRead: withTenant,
    withSystem: (fn) => db.transaction(fn),
    execScript: async (script) => {
      try {
        await client.exec(script);
      } catch (err) {
        await client.exec('rollback').catch(() => {});
        throw err;
      }
    },
    query: async (text, params) => (await client.query(text, params as unknown[])).rows as never[],
    // PGlite is a single connection: there is no other session to exclude.
    withAdvisoryLock: (_key, fn) => fn(),
    poolStats: () => ({ total: 1, idle: 1, waiting: 0 }),
    close: async () => {
      try {
        await client.close();
      } finally {
        lock?.release();
      }
    },
  };
}
