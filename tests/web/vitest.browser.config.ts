import { defineConfig } from 'vitest/config';

// The admin console in a real browser (Debian's chromium through playwright-core), against the real API
// listening on 127.0.0.1 on the embedded backends. One file at a time: it drives one browser.
export default defineConfig({
  test: {
    include: ['tests/web/**/*.browser.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    setupFiles: ['tests/helpers/setup-env.ts'],
  },
});
