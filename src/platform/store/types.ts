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
  /**
   * Reads and deletes a key in one atomic step (Redis GETDEL): of two callers racing for a single-use value
   * (an SSO flow state, a one-time code), on one replica or several, exactly one gets it.
   */
  take(key: string): Promise<string | null>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * Which copy of the data this store serves now, or null while that is unknown (reconnecting). It changes
   * when another copy takes over: a Redis replica promoted after its master died may lack the master's last
   * acknowledged writes (replication is asynchronous), a session's revocation flag among them. A value written
   * with one generation therefore vouches for nothing under another (see sessions/activity.ts).
   */
  generation(): string | null;
}

/**
 * The store could not answer (Redis down, restarting, unreachable, too slow). Callers do not catch it: what
 * needs the store for safety (revocation, lockout, rate limits, TOTP replay) must not proceed without it, and
 * the error handler turns it into 503 SERVICE_UNAVAILABLE.
 */
export class StoreUnavailableError extends Error {
  readonly code = 'STORE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** True for a StoreUnavailableError, also when another error wraps it. */
export function isStoreUnavailable(err: unknown): boolean {
  let e = err as { name?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    if (e instanceof StoreUnavailableError || e.name === 'StoreUnavailableError') return true;
    e = e.cause as typeof e;
  }
  return false;
}

/** Where a store reports connection changes (the app's logger). */
export interface StoreLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}
