import type { Config } from '../../config.js';
import { type Clock, systemClock } from '../clock.js';
import { MemoryStore } from './memory.js';
import { RedisStore } from './redis.js';
import type { KeyValueStore, StoreLogger } from './types.js';

export type { KeyValueStore } from './types.js';
export { isStoreUnavailable, StoreUnavailableError } from './types.js';

/** The memory store expires keys by the app's clock; Redis keeps its own (real) time. */
export function createStore(
  config: Pick<Config, 'redisUrl' | 'storePrefix' | 'redisCommandTimeoutMs'>,
  log?: StoreLogger,
  clock: Clock = systemClock,
): KeyValueStore {
  return config.redisUrl
    ? new RedisStore(config.redisUrl, {
        prefix: config.storePrefix,
        commandTimeoutMs: config.redisCommandTimeoutMs,
        log,
      })
    : new MemoryStore(() => clock.now());
}
