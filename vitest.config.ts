import { defineConfig } from 'vitest/config';

// Integration tests build the whole app (PGlite or real PostgreSQL); two workers match the 2-core CI box.
// Latency measurements run in a second group, alone, after everything else: with another worker hashing and
// querying on the same two cores they would measure the neighbour, not the server.
const shared = {
  pool: 'forks' as const,
  testTimeout: 30_000,
  hookTimeout: 60_000,
  setupFiles: ['tests/helpers/setup-env.ts'],
};
const timingFiles = ['tests/integration/event-loop.test.ts'];

export default defineConfig({
  test: {
    maxWorkers: 2,
    projects: [
      {
        test: {
          ...shared,
          name: 'suite',
          include: ['tests/**/*.test.ts'],
          exclude: ['**/node_modules/**', 'tests/web/**', ...timingFiles],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: { ...shared, name: 'timing', include: timingFiles, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
