/**
 * Fixed-window rate limits through the shared store, so every replica counts together. Sends the
 * X-RateLimit-* headers and answers 429 RATE_LIMIT_EXCEEDED with Retry-After.
 */

import type { FastifyReply } from 'fastify';
import { keys } from '../store/keys.js';
import type { KeyValueStore } from '../store/types.js';
import { platformErrors, retryAfter } from './errors.js';

export interface RateLimitRule {
  /** Bucket name, e.g. `login`; the limit comes from config.rateLimits[bucket]. */
  bucket: 'login' | 'refresh' | 'mfa' | 'recovery' | 'passwordReset' | 'default';
  windowSeconds?: number;
}

export async function consumeRateLimit(
  store: KeyValueStore,
  reply: FastifyReply,
  bucket: string,
  identity: string,
  limit: number,
  windowSeconds = 60,
): Promise<void> {
  const window = Math.floor(Date.now() / 1000 / windowSeconds);
  const { value, ttlSeconds } = await store.incr(keys.rateLimit(bucket, identity, window), windowSeconds);
  const reset = ttlSeconds > 0 ? ttlSeconds : windowSeconds;
  reply.header('x-ratelimit-limit', String(limit));
  reply.header('x-ratelimit-remaining', String(Math.max(0, limit - value)));
  reply.header('x-ratelimit-reset', String(reset));
  if (value > limit) {
    const { details, options } = retryAfter(reset, { limit });
    throw platformErrors.error('RATE_LIMIT_EXCEEDED', details, options);
  }
}
