import type { Config } from '../../config.js';
import { MemoryStore } from './memory.js';
import { RedisStore } from './redis.js';
import type { KeyValueStore } from './types.js';

export type { KeyValueStore } from './types.js';

export function createStore(config: Pick<Config, 'redisUrl' | 'storePrefix'>): KeyValueStore {
  return config.redisUrl ? new RedisStore(config.redisUrl, config.storePrefix) : new MemoryStore();
}
