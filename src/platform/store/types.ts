/**
 * Shared, expiring key-value state: rate limits, lockout counters, TOTP replay guards, the session revocation
 * cache. Redis in production so every replica sees the same values; memory for a single process.
 */
export interface KeyValueStore {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | null>;
  /** Several keys in one round trip (the request guard reads all it needs at once). */
  mget(keys: string[]): Promise<(string | null)[]>;
  set(key: string, value: string, ttlSeconds?: number): Promise<void>;
  /** Sets only if absent; true when this call set it (a replay guard or a lock). */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /** Atomic increment; the TTL is applied when the key is created. Returns the new value and its TTL. */
  incr(key: string, ttlSeconds: number): Promise<{ value: number; ttlSeconds: number }>;
  expire(key: string, ttlSeconds: number): Promise<void>;
  ttl(key: string): Promise<number>;
  del(...keys: string[]): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
