// Each vitest worker gets its own store key prefix, so runs and workers never see each other's counters in Redis.
process.env.TEST_STORE_PREFIX ??= `test:${process.pid}:${Date.now()}:`;
