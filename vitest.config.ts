import { defineConfig } from 'vitest/config';

// Integration tests build the whole app (PGlite or real PostgreSQL); two workers match the 2-core CI box.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    setupFiles: ['tests/helpers/setup-env.ts'],
  },
});
