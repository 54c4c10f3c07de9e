/**
 * The per-key quota (API.md §13: default 1000 requests an hour), counted in the shared store so every replica
 * counts together. Installed as a root onRequest hook that runs after the access guard, so it sees the key's
 * Principal; requests the guard refuses (401/403) do not count. It honours RATE_LIMIT_ENABLED like every other
 * limit (off under ENV=test unless a test turns it on).
 */

import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { platformErrors, retryAfter } from '../../platform/http/errors.js';
import { keys } from '../../platform/store/keys.js';
import type { ApiKeysDeps } from './deps.js';

export const DEFAULT_KEY_LIMIT_PER_HOUR = 1000;
export const KEY_WINDOW_SECONDS = 3600;

/** RATE_LIMIT_API_KEY (config.rateLimits.apiKey), 1000 by default. */
export function keyLimit(ctx: ApiKeysDeps): number {
  return ctx.config.rateLimits.apiKey ?? DEFAULT_KEY_LIMIT_PER_HOUR;
}

export function keyWindow(now = Date.now()): number {
  return Math.floor(now / 1000 / KEY_WINDOW_SECONDS);
}

export const keyBucketKey = (apiKeyId: number, window = keyWindow()) =>
  keys.rateLimit('apikey', `key:${apiKeyId}`, window);

export function apiKeyRateLimitPlugin(ctx: ApiKeysDeps): FastifyPluginAsync {
  const plugin: FastifyPluginAsync = async (app) => {
    const count = async (reply: FastifyReply, apiKeyId: number) => {
      const limit = keyLimit(ctx);
      const { value, ttlSeconds } = await ctx.store.incr(keyBucketKey(apiKeyId), KEY_WINDOW_SECONDS);
      const remaining = Math.max(0, limit - value);
      const reset = ttlSeconds > 0 ? ttlSeconds : KEY_WINDOW_SECONDS;
      // The route limit of the guard may already have set the headers: show whichever is tighter.
      const shown = Number(reply.getHeader('x-ratelimit-remaining'));
      if (!(Number.isFinite(shown) && shown < remaining)) {
        reply.header('x-ratelimit-limit', String(limit));
        reply.header('x-ratelimit-remaining', String(remaining));
        reply.header('x-ratelimit-reset', String(reset));
      }
      if (value > limit) {
        const { details, options } = retryAfter(reset, { limit, window_seconds: KEY_WINDOW_SECONDS });
        throw platformErrors.error('RATE_LIMIT_EXCEEDED', details, options);
      }
    };
    // Synchronous for every request that is not an API key's (no promise on their path).
    app.addHook('onRequest', (request, reply, done) => {
      const p = request.principal;
      if (p?.kind !== 'api_key' || p.apiKeyId === null || !ctx.config.rateLimitEnabled) return done();
      count(reply, p.apiKeyId).then(() => done(), done);
    });
  };
  // Hooks at the root (not encapsulated), so they apply to every module's routes.
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return plugin;
}
