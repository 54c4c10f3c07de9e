/**
 * A clock a test moves forward: pass it to createTestApp and the app's token issue and verification, session
 * expiry and idle checks, and the in-memory store's TTLs all see the moved time. Redis keeps real time, so
 * tests that rely on a store TTL lapsing also assert the TTL itself (store.ttl), which holds on both backends.
 */
import type { Clock } from '../../src/platform/clock.js';

export class MovableClock implements Clock {
  private offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }
}
