import type { Config } from '../../config.js';
import { MemoryStore } from './memory.js';
import { RedisStore } from './redis.js';
import type { KeyValueStore, StoreLogger } from './types.js';

export type { KeyValueStore } from './types.js';
export { isStoreUnavailable, StoreUnavailableError } from './types.js';

export function createStore(
  config: Pick<Config, 'redisUrl' | 'storePrefix' | 'redisCommandTimeoutMs'>,
  log?: StoreLogger,
): KeyValueStore {
  return config.redisUrl
    ? new RedisStore(config.redisUrl, {
        prefix: config.storePrefix,
        commandTimeoutMs: config.redisCommandTimeoutMs,
        log,
      })
    : new MemoryStore();
}
