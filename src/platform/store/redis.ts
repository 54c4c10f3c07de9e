import { Redis } from 'ioredis';
import type { KeyValueStore } from './types.js';

// INCR and, on creation, EXPIRE in one atomic step; returns the value and the remaining TTL.
const INCR_WITH_TTL = `
local v = redis.call('INCR', KEYS[1])
if v == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {v, redis.call('TTL', KEYS[1])}`;

export class RedisStore implements KeyValueStore {
  readonly kind = 'redis' as const;
  private readonly redis: Redis;

  constructor(url: string, prefix: string) {
    this.redis = new Redis(url, { keyPrefix: prefix, maxRetriesPerRequest: 2, enableAutoPipelining: true });
    this.redis.defineCommand('incrWithTtl', { numberOfKeys: 1, lua: INCR_WITH_TTL });
    // ioredis reconnects by itself; commands fail meanwhile (503 to clients, /ready reports it). Without a
    // listener every failed reconnect would be an unhandled 'error' event.
    this.redis.on('error', () => {});
  }

  async get(key: string) {
    return this.redis.get(key);
  }
  async mget(keys: string[]) {
    return keys.length === 0 ? [] : this.redis.mget(...keys);
  }
  async set(key: string, value: string, ttlSeconds?: number) {
    if (ttlSeconds && ttlSeconds > 0) await this.redis.set(key, value, 'EX', ttlSeconds);
    else await this.redis.set(key, value);
  }
  async setIfAbsent(key: string, value: string, ttlSeconds: number) {
    return (await this.redis.set(key, value, 'EX', ttlSeconds, 'NX')) === 'OK';
  }
  async incr(key: string, ttlSeconds: number) {
    const [value, ttl] = (await (
      this.redis as unknown as Record<string, (...a: unknown[]) => Promise<number[]>>
    ).incrWithTtl!(key, ttlSeconds)) as [number, number];
    return { value, ttlSeconds: ttl };
  }
  async expire(key: string, ttlSeconds: number) {
    await this.redis.expire(key, ttlSeconds);
  }
  async ttl(key: string) {
    return this.redis.ttl(key);
  }
  async del(...keys: string[]) {
    if (keys.length > 0) await this.redis.del(...keys);
  }
  async ping() {
    await this.redis.ping();
  }
  async close() {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
