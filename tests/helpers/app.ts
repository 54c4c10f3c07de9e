/**
 * Builds the real app for tests: embedded PGlite + memory store by default, or the real PostgreSQL and Redis
 * when DATABASE_URL / REDIS_URL are set (as `.ci/run` does for its second pass).
 *
 * Neither backend migrates per file: an embedded database starts from the run's migrated snapshot
 * (tests/helpers/snapshot.ts), and on PostgreSQL the first file migrates the shared database (the others find
 * nothing to apply). The migrator still runs at every build, so a stale snapshot could not go unnoticed.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { type Config, testConfig } from '../../src/config.js';
import type { Clock } from '../../src/platform/clock.js';
import { createDatabase, type Database } from '../../src/platform/db/client.js';
import { migrate } from '../../src/platform/db/migrator.js';
import { pgliteSnapshot } from './snapshot.js';

export const usingPostgres = Boolean(process.env.DATABASE_URL);
export const usingRedis = Boolean(process.env.REDIS_URL);

export function testEnv(overrides: Record<string, string | undefined> = {}) {
  return testConfig({
    DATABASE_URL: process.env.DATABASE_URL,
    REDIS_URL: process.env.REDIS_URL,
    STORE_PREFIX: process.env.TEST_STORE_PREFIX,
    DB_POOL_MAX: '20',
    ...overrides,
  });
}

/**
 * A fresh app. Pass `shareWith` to build a second replica over the same database and store, and `clock`
 * (tests/helpers/clock.ts) to move the app's time.
 */
export async function createTestApp(
  overrides: Record<string, string | undefined> = {},
  shareWith?: FastifyInstance,
  opts: { clock?: Clock } = {},
): Promise<FastifyInstance> {
  const config = testEnv(overrides);
  const clock = opts.clock ?? shareWith?.ctx.clock;
  if (shareWith) {
    return buildApp(config, {
      database: shareWith.ctx.database,
      store: shareWith.ctx.store,
      migrate: false,
      clock,
    });
  }
  const snapshot = await snapshotFor(config);
  if (!snapshot) return buildApp(config, { migrate: true, clock });
  // The app does not own a database it is given: this one closes with it.
  const database = await createDatabase(config, undefined, { snapshot });
  let app: FastifyInstance;
  try {
    app = await buildApp(config, { database, migrate: true, clock });
  } catch (err) {
    await database.close();
    throw err;
  }
  closeWith(app, database);
  return app;
}

/** The run's snapshot, when `config` asks for an in-memory PGlite (the default test configuration). */
async function snapshotFor(config: Readonly<Config>): Promise<Blob | undefined> {
  if (config.databaseUrl || config.pgliteDir !== 'memory://') return undefined;
  return pgliteSnapshot();
}

function closeWith(app: FastifyInstance, database: Database) {
  const close = app.close.bind(app);
  let closing: Promise<undefined> | undefined;
  app.close = (() => {
    closing ??= (async () => {
      try {
        await close();
      } finally {
        await database.close();
      }
      return undefined;
    })();
    return closing;
  }) as typeof app.close;
}

/**
 * The fast tier: a migrated database without Fastify, for repository and service tests (tests/fast/). One per
 * worker process: the fast project runs its files unisolated, so every file of a worker gets this same database.
 * Files share it as route tests share the PostgreSQL one: each makes its own tenants and never deletes
 * deployment-wide rows. Embedded, it starts from the run's snapshot; on PostgreSQL it is DATABASE_URL's.
 */
let shared: Promise<Database> | undefined;
export function testDatabase(): Promise<Database> {
  shared ??= (async () => {
    const config = testEnv({ DB_POOL_MAX: '5' });
    const snapshot = await snapshotFor(config);
    const database = await createDatabase(config, undefined, { snapshot });
    // A no-op from the snapshot or on a migrated PostgreSQL database; the migrations on a bare one.
    await migrate(database);
    return database;
  })();
  return shared;
}
