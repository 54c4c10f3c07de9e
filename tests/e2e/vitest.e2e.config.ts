import { defineConfig } from 'vitest/config';

// The real-tunnel test: needs root, wireguard-go and network namespaces. Run by .ci/wireguard-e2e.sh, not by
// `npm test` (its files are *.e2e.ts, outside the default include).
export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.e2e.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
