import { randomUUID } from 'node:crypto';
import type { KeyValueStore } from './types.js';

interface Entry {
  value: string;
  expiresAt: number | null;
}

/** Single-process store. Expired keys are dropped on read and by a periodic sweep. */
export class MemoryStore implements KeyValueStore {
  readonly kind = 'memory' as const;
  private readonly data = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  /** One process, one copy of the data: it never changes while the store lives. */
  private readonly id = `memory:${randomUUID()}`;

  constructor(private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  private live(key: string): Entry | undefined {
    const e = this.data.get(key);
    if (e && e.expiresAt !== null && e.expiresAt <= this.now()) {
      this.data.delete(key);
      return undefined;
    }
    return e;
  }
  private sweep(): void {
    for (const key of this.data.keys()) this.live(key);
  }
  private expiry(ttlSeconds?: number): number | null {
    return ttlSeconds && ttlSeconds > 0 ? this.now() + ttlSeconds * 1000 : null;
  }

  async get(key: string) {
    return this.live(key)?.value ?? null;
  }
  async mget(keys: string[]) {
    return keys.map((k) => this.live(k)?.value ?? null);
  }
  async set(key: string, value: string, ttlSeconds?: number) {
    this.data.set(key, { value, expiresAt: this.expiry(ttlSeconds) });
  }
  async setIfAbsent(key: string, value: string, ttlSeconds: number) {
    if (this.live(key)) return false;
    this.data.set(key, { value, expiresAt: this.expiry(ttlSeconds) });
    return true;
  }
  async incr(key: string, ttlSeconds: number) {
    const e = this.live(key);
    if (!e) {
      const entry = { value: '1', expiresAt: this.expiry(ttlSeconds) };
      this.data.set(key, entry);
      return { value: 1, ttlSeconds };
    }
    const value = Number(e.value) + 1;
    e.value = String(value);
    return { value, ttlSeconds: e.expiresAt === null ? -1 : Math.ceil((e.expiresAt - this.now()) / 1000) };
  }
  async expire(key: string, ttlSeconds: number) {
    const e = this.live(key);
    if (e) e.expiresAt = this.expiry(ttlSeconds);
  }
  async ttl(key: string) {
    const e = this.live(key);
    if (!e) return -2;
    return e.expiresAt === null ? -1 : Math.ceil((e.expiresAt - this.now()) / 1000);
  }
  async del(...keys: string[]) {
    for (const k of keys) this.data.delete(k);
  }
  async take(key: string) {
    const value = this.live(key)?.value ?? null;
    this.data.delete(key);
    return value;
  }
  async ping() {}
  generation(): string {
    return this.id;
  }
  async close() {
    clearInterval(this.sweeper);
    this.data.clear();
  }
}
