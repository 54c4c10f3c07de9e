import type { Config } from '../../config.js';
import { type Clock, systemClock } from '../clock.js';
import { MemoryStore } from './memory.js';
import { RedisStore } from './redis.js';
import type { KeyValueStore, StoreLogger } from './types.js';

export type { KeyValueStore } from './types.js';
export { isStoreUnavailable, StoreUnavailableError } from './types.js';

/** The memory store expires keys by the app's clock; Redis keeps its own (real) time. */
export function createStore(
  config: Pick<Config, 'redisUrl' | 'storePrefix' | 'redisCommandTimeoutMs'> &
    Partial<Pick<Config, 'redisSentinel'>>,
  log?: StoreLogger,
  clock: Clock = systemClock,
): KeyValueStore {
  const target = config.redisSentinel ?? config.redisUrl;
  return target
    ? new RedisStore(target, {
        prefix: config.storePrefix,
        commandTimeoutMs: config.redisCommandTimeoutMs,
        log,
      })
    : new MemoryStore(() => clock.now());
}
