/**
 * The app's wall clock. Every expiry decision that tests need to move through time (access tokens, the
 * in-memory store's TTLs, session lifetimes and idle timeouts) reads this instead of Date.now(), so a test can
 * build an app over a clock it advances without faking the process's timers. Production uses the system clock.
 */
export interface Clock {
  /** Milliseconds since the epoch, like Date.now(). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
