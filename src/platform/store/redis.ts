import { Redis, type RedisOptions, ReplyError } from 'ioredis';
import type { RedisSentinelConfig } from '../../config.js';
import { type KeyValueStore, type StoreLogger, StoreUnavailableError } from './types.js';

// INCR and, on creation, EXPIRE in one atomic step; returns the value and the remaining TTL.
const INCR_WITH_TTL = `
local v = redis.call('INCR', KEYS[1])
if v == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {v, redis.call('TTL', KEYS[1])}`;

// Replies meaning "this server cannot serve now" (loading its data after a restart, a replica after a
// failover, ...): unavailable, like a lost connection. Any other reply error is a bug and stays a 500.
const TRANSIENT_REPLY = /^(LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY)\b/;

/** Reconnect back-off: 100 ms, 200 ms, ... never more than a second, and never giving up. */
const RECONNECT_DELAY_CAP_MS = 1000;
const reconnectDelay = (attempt: number) => Math.min(attempt * 100, RECONNECT_DELAY_CAP_MS);

export interface RedisStoreOptions {
  prefix: string;
  /** Longest wait for one command on a live connection (a server that stopped answering). */
  commandTimeoutMs: number;
  log?: StoreLogger;
}

/**
 * Redis, failing fast while it is down. ioredis by default queues commands while it reconnects and retries
 * them across reconnect attempts with a growing back-off, so during an outage every request waited longer
 * (0.6 s, then 2.7 s, then ~5 s). Here there is no offline queue (a command while disconnected fails at
 * once), a command timeout (a connection that stopped answering), at most one retry of a command in flight
 * when the connection drops, and a reconnect back-off capped at a second (recovery within about a second of
 * Redis being back). Every failure of that kind becomes a StoreUnavailableError: a 503, never "allowed".
 */
export class RedisStore implements KeyValueStore {
  readonly kind = 'redis' as const;
  private readonly redis: Redis;
  /** Until the first connection attempt settles, commands wait for it instead of failing at startup. */
  private firstConnect: Promise<void> | null;

  /** `target`: a redis:// or rediss:// URL, or the sentinels that name the master (REDIS_SENTINELS). */
  constructor(target: string | RedisSentinelConfig, opts: RedisStoreOptions) {
    const common: RedisOptions = {
      keyPrefix: opts.prefix,
      enableAutoPipelining: true,
      enableOfflineQueue: false,
      commandTimeout: opts.commandTimeoutMs,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      retryStrategy: reconnectDelay,
    };
    this.redis =
      typeof target === 'string'
        ? new Redis(target, common)
        : new Redis({
            ...common,
            sentinels: target.sentinels,
            name: target.name,
            role: 'master',
            password: target.password,
            sentinelPassword: target.sentinelPassword,
            ...(target.tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
            // Subscribes to the sentinels' +switch-master, so a failover moves the connection at once rather
            // than when the old master's socket times out; sentinels are retried as quickly as the master.
            failoverDetector: true,
            sentinelRetryStrategy: reconnectDelay,
            sentinelReconnectStrategy: reconnectDelay,
            // Without it, a sentinel that accepts the connection but does not answer (stopped, overloaded) holds
            // the reconnection forever: asked for the master, it is given up on like a master that stopped answering.
            sentinelCommandTimeout: opts.commandTimeoutMs,
            sentinelMaxConnections: 3,
          });
    this.redis.defineCommand('incrWithTtl', { numberOfKeys: 1, lua: INCR_WITH_TTL });
    for (const event of ['connect', 'ready', 'close', 'reconnecting', 'end', 'sentinelError'] as const)
      this.redis.on(event, (arg?: unknown) =>
        this.note(event, arg instanceof Error ? arg.message : typeof arg === 'number' ? `${arg} ms` : ''),
      );

    // One log line when the connection is lost (with the first error), one when it is back: ioredis emits
    // an 'error' per failed reconnect attempt, which must neither crash the process nor flood the log.
    let lostAt = 0;
    let reported = false;
    this.redis.on('error', (err: Error) => {
      if (reported) return;
      reported = true;
      opts.log?.warn(
        { err: err.message },
        'Redis connection error; store commands fail (503) until it is back',
      );
    });
    this.redis.on('close', () => {
      // Whoever answers next may be another copy of the data (a promoted replica): unknown until asked.
      this.currentGeneration = null;
      if (lostAt) return;
      lostAt = Date.now();
    });
    this.redis.on('ready', () => {
      if (lostAt && reported) opts.log?.info({ down_ms: Date.now() - lostAt }, 'Redis connection restored');
      lostAt = 0;
      reported = false;
      void this.learnGeneration(opts.log);
    });

    // Settled by the first attempt's outcome: up, refused, or no answer within the connect timeout.
    this.firstConnect = new Promise<void>((resolve) => {
      const events = ['ready', 'error', 'close'] as const;
      const done = () => {
        clearTimeout(timer);
        for (const e of events) this.redis.off(e, done);
        this.firstConnect = null;
        resolve();
      };
      const timer = setTimeout(done, 2500);
      timer.unref();
      for (const e of events) this.redis.once(e, done);
    });
  }

  /**
   * The master's replication id (INFO replication, `master_replid`): Redis draws a new one when a replica is
   * promoted, so it names the copy of the data we write to. Asked on every (re)connection; a server that
   * answers as a replica leaves it unknown (its writes fail with READONLY anyway).
   */
  private async learnGeneration(log?: StoreLogger): Promise<void> {
    try {
      const info = await this.redis.info('replication');
      const role = /^role:(\w+)/m.exec(info)?.[1];
      const replid = /^master_replid:([0-9a-f]+)/m.exec(info)?.[1];
      this.note('info', `role ${role} replid ${replid?.slice(0, 8)} status ${this.redis.status}`);
      if (role !== 'master' || this.redis.status !== 'ready') return;
      if (!replid) {
        // A server without replication ids (Redis < 4, some Redis-compatible stores): one generation, said.
        this.currentGeneration = 'no-replid';
        log?.warn({}, 'Redis names no replication id: a failover to a lagging replica cannot be detected');
        return;
      }
      if (this.lastKnownGeneration && this.lastKnownGeneration !== replid)
        log?.warn(
          { previous: this.lastKnownGeneration, current: replid },
          'Redis serves another copy of the data (failover): sessions are re-checked against the database once',
        );
      this.currentGeneration = replid;
      this.lastKnownGeneration = replid;
    } catch (err) {
      const message = (err as Error).message;
      this.note('info failed', message);
      if (err instanceof ReplyError && !TRANSIENT_REPLY.test(message)) {
        // INFO refused (an ACL, a managed Redis that renamed it): no way to tell a failover, so every session
        // would be checked against the database on every request. Run as one generation, and say what is lost.
        this.currentGeneration = 'info-refused';
        this.lastKnownGeneration = 'info-refused';
        log?.warn(
          { err: message },
          'Redis refused INFO: a failover to a lagging replica cannot be detected; a revocation it loses goes unseen until the access tokens of that session expire',
        );
        return;
      }
      log?.warn({ err: message }, 'Redis replication id unknown: sessions are checked against the database');
    }
  }

  private currentGeneration: string | null = null;
  private lastKnownGeneration: string | null = null;

  /**
   * The last connection events (connect, ready, close, generation learnt, ...), with their times: what an
   * operator or a failing failover test needs to tell where a reconnection stalled. Bounded.
   */
  private readonly history: string[] = [];
  private note(event: string, detail = ''): void {
    this.history.push(`${new Date().toISOString().slice(11, 23)} ${event}${detail ? ` ${detail}` : ''}`);
    if (this.history.length > 40) this.history.shift();
  }
  connectionHistory(): string[] {
    return [...this.history];
  }

  generation(): string | null {
    return this.currentGeneration;
  }

  /** Runs one store operation; connection-level failures become StoreUnavailableError. */
  private async run<T>(op: () => Promise<T>): Promise<T> {
    if (this.firstConnect) await this.firstConnect;
    try {
      return await op();
    } catch (err) {
      if (err instanceof ReplyError && !TRANSIENT_REPLY.test((err as Error).message)) throw err;
      throw new StoreUnavailableError(`Redis unavailable (${this.redis.status}): ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  get(key: string) {
    return this.run(() => this.redis.get(key));
  }
  async mget(keys: string[]) {
    return keys.length === 0 ? [] : this.run(() => this.redis.mget(...keys));
  }
  async set(key: string, value: string, ttlSeconds?: number) {
    await this.run(() =>
      ttlSeconds && ttlSeconds > 0
        ? this.redis.set(key, value, 'EX', ttlSeconds)
        : this.redis.set(key, value),
    );
  }
  async setIfAbsent(key: string, value: string, ttlSeconds: number) {
    return (await this.run(() => this.redis.set(key, value, 'EX', ttlSeconds, 'NX'))) === 'OK';
  }
  async incr(key: string, ttlSeconds: number) {
    const [value, ttl] = (await this.run(() =>
      (this.redis as unknown as Record<string, (...a: unknown[]) => Promise<number[]>>).incrWithTtl!(
        key,
        ttlSeconds,
      ),
    )) as [number, number];
    return { value, ttlSeconds: ttl };
  }
  async expire(key: string, ttlSeconds: number) {
    await this.run(() => this.redis.expire(key, ttlSeconds));
  }
  ttl(key: string) {
    return this.run(() => this.redis.ttl(key));
  }
  async del(...keys: string[]) {
    if (keys.length > 0) await this.run(() => this.redis.del(...keys));
  }
  take(key: string) {
    return this.run(() => this.redis.getdel(key));
  }
  async ping() {
    await this.run(() => this.redis.ping());
  }
  async close() {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
