/**
 * Builds the real app for tests: embedded PGlite + memory store by default, or the real PostgreSQL and Redis
 * when DATABASE_URL / REDIS_URL are set (as `.ci/run` does for its second pass).
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { testConfig } from '../../src/config.js';
import type { Clock } from '../../src/platform/clock.js';

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
  return buildApp(
    config,
    shareWith
      ? { database: shareWith.ctx.database, store: shareWith.ctx.store, migrate: false, clock }
      : { migrate: true, clock },
  );
}
