import { defineConfig } from 'vitest/config';

// Three tiers (docs/extending.md "Tests"):
// - unit: pure code, no database;
// - fast: repositories and services against one migrated database per worker, without Fastify. Its files run
//   unisolated (one module graph per worker), so they share tests/helpers/app.ts's `testDatabase()`;
// - suite: route tests through the whole app (createTestApp). An embedded app starts from the run's migrated
//   PGlite snapshot, made once by the globalSetup (tests/helpers/global-setup.ts), instead of initdb + migrations.
// Forks, not threads: PGlite and the native hashers are heavy per worker, and a crashed fork takes one file with
// it. Two workers match the 2-core CI box. Latency measurements run in a last group, alone, after everything
// else: with another worker hashing and querying on the same two cores they would measure the neighbour.
const shared = {
  pool: 'forks' as const,
  testTimeout: 30_000,
  hookTimeout: 60_000,
  setupFiles: ['tests/helpers/setup-env.ts'],
};
const withDatabase = { ...shared, globalSetup: ['tests/helpers/global-setup.ts'] };
// The failover windows (Sentinel's detection and promotion) are timed too.
const timingFiles = ['tests/integration/event-loop.test.ts', 'tests/integration/store-failover.security.test.ts'];

export default defineConfig({
  test: {
    maxWorkers: 2,
    projects: [
      { test: { ...shared, name: 'unit', include: ['tests/unit/**/*.test.ts'], sequence: { groupOrder: 0 } } },
      {
        test: {
          ...withDatabase,
          name: 'fast',
          include: ['tests/fast/**/*.test.ts'],
          isolate: false,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...withDatabase,
          name: 'suite',
          include: ['tests/**/*.test.ts'],
          exclude: ['**/node_modules/**', 'tests/web/**', 'tests/unit/**', 'tests/fast/**', ...timingFiles],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: { ...withDatabase, name: 'timing', include: timingFiles, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
