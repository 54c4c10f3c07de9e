/**
 * Heavy reads on a streaming replica (DATABASE_REPLICA_URL), without ever showing a caller less than it wrote.
 *
 * A probe every PROBE_MS compares the primary's WAL position with what the replica has replayed: caught up, the
 * lag is 0; behind, it is the age of the last transaction the replica replayed (an upper bound). A read goes to
 * the replica only while the last probe is fresh and said "at most maxLagMs behind". So the replica then holds
 * every commit older than maxLagMs + 2 probe periods: a caller that wrote within that window (`readScope`, set per
 * request by the HTTP layer from a store mark written after each successful write) reads from the primary.
 * On the primary these reads are readTenant's (pipelined). A replica that fails a read (down, or a query cancelled by a recovery conflict) is marked down until the next
 * good probe and the read runs on the primary: the caller never sees the replica's trouble.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import type { Config } from '../../config.js';
import { type Database, type DbLogger, isDatabaseUnavailable, tenantTransaction } from './client.js';

const PROBE_MS = 250;
/**
 * A probe's verdict holds this long: generous, since on a loaded machine a probe (two queries) can take a while,
 * and the read-your-writes window grows by as much.
 */
const FRESH_MS = 2000;

/** What the HTTP layer tells the database about the current request. */
export interface ReadScope {
  /** True when the caller wrote within readYourWritesWindowMs: its reads must go to the primary. */
  wroteRecently(): Promise<boolean>;
}
export const readScope = new AsyncLocalStorage<ReadScope>();

/** How long after a write its author must read from the primary. */
export function readYourWritesWindowMs(maxLagMs: number): number {
  return maxLagMs + FRESH_MS;
}

// 40001 on a hot standby: "canceling statement due to conflict with recovery". The primary answers it.
const RETRY_ON_PRIMARY = new Set(['40001']);
function replicaTrouble(err: unknown): boolean {
  if (isDatabaseUnavailable(err)) return true;
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, d = 0; e && d < 5; d++) {
    if (typeof e.code === 'string' && RETRY_ON_PRIMARY.has(e.code)) return true;
    e = e.cause as typeof e;
  }
  return false;
}

export interface ReplicaState {
  /** Lag at the last probe in ms; Infinity when unreachable, not a standby, or never probed. */
  lagMs: number;
  probedAt: number;
}

/** The database with withTenantRead routed as described above; `database` itself when there is no replica. */
export function withReplicaReads(
  database: Database,
  config: Pick<
    Config,
    | 'databaseReplicaUrl'
    | 'databaseReplicaMaxLagMs'
    | 'dbPoolMax'
    | 'dbConnectTimeoutMs'
    | 'dbStatementTimeoutMs'
  >,
  log?: DbLogger,
): Database & { replicaState?: () => ReplicaState } {
  if (!config.databaseReplicaUrl || database.kind !== 'postgres') return database;
  const pool = new pg.Pool({
    connectionString: config.databaseReplicaUrl,
    max: config.dbPoolMax,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: config.dbConnectTimeoutMs,
    statement_timeout: config.dbStatementTimeoutMs,
    application_name: 'massacorp-replica-reads',
  });
  // As on the primary's pool: a lost connection must not end the process (an unhandled 'error' event).
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const onReplica = tenantTransaction(pool);
  const state: ReplicaState = { lagMs: Number.POSITIVE_INFINITY, probedAt: 0 };
  let lastReported = '';
  const report = (what: string, extra: Record<string, unknown> = {}) => {
    if (what === lastReported) return;
    lastReported = what;
    log?.warn({ replica: what, ...extra }, `read replica: ${what}`);
  };

  async function probe() {
    // The verdict speaks of the moment the primary's position was read: the probe's start.
    const started = Date.now();
    try {
      const [primary] = await database.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn');
      const r = await pool.query<{ standby: boolean; caught_up: boolean | null; behind_ms: number | null }>(
        `select pg_is_in_recovery() as standby,
           pg_last_wal_replay_lsn() >= $1::pg_lsn as caught_up,
           (extract(epoch from clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000)::float8 as behind_ms`,
        [primary!.lsn],
      );
      const row = r.rows[0]!;
      if (!row.standby) {
        // A promoted replica is no longer fed by our primary: reading it could show anything.
        state.lagMs = Number.POSITIVE_INFINITY;
        report('not a standby (promoted?): reads stay on the primary');
      } else {
        state.lagMs = row.caught_up ? 0 : Math.max(0, row.behind_ms ?? Number.POSITIVE_INFINITY);
        if (state.lagMs <= config.databaseReplicaMaxLagMs) report('in use');
        else report('behind: reads go to the primary', { lag_ms: Math.round(state.lagMs) });
      }
    } catch (err) {
      state.lagMs = Number.POSITIVE_INFINITY;
      report('unreachable: reads go to the primary', { err: (err as Error).message });
    }
    state.probedAt = started;
  }

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const loop = async () => {
    await probe();
    if (!stopped) timer = setTimeout(loop, PROBE_MS).unref();
  };
  void loop();

  const usable = () =>
    state.lagMs <= config.databaseReplicaMaxLagMs && Date.now() - state.probedAt <= FRESH_MS;

  const withTenantRead: Database['withTenantRead'] = async (tenantId, fn) => {
    if (!usable()) return database.readTenant(tenantId, fn);
    const scope = readScope.getStore();
    if (scope && (await scope.wroteRecently())) return database.readTenant(tenantId, fn);
    try {
      return await onReplica(tenantId, fn);
    } catch (err) {
      if (!replicaTrouble(err)) throw err;
      state.lagMs = Number.POSITIVE_INFINITY;
      report('failed a read: reads go to the primary', { err: (err as Error).message });
      return database.readTenant(tenantId, fn);
    }
  };

  return {
    ...database,
    withTenantRead,
    replicaState: () => ({ ...state }),
    close: async () => {
      stopped = true;
      clearTimeout(timer);
      await pool.end().catch(() => {});
      await database.close();
    },
  };
}
