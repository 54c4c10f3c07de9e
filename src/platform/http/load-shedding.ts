/**
 * Load shedding (issue 12, under overload): @fastify/under-pressure samples the event loop delay and the heap;
 * past a threshold every request is refused at once with 503 SERVICE_UNAVAILABLE and Retry-After, before
 * it costs a database round trip or an argon2 hash, so the process keeps answering instead of stalling.
 * /health (liveness: an overloaded process must not be restarted for it) and /metrics stay answerable.
 */
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.js';
import { AppError } from './errors.js';

const EXEMPT_ROUTES = new Set(['/health', '/metrics']);
/**
 * Readiness is shed too (an overloaded replica should get less traffic), but in its own documented shape: the
 * error envelope does not match /ready's response schema, and failed to serialise into a 500.
 */
const READINESS_ROUTE = '/ready';

export async function installLoadShedding(
  app: FastifyInstance,
  config: Pick<Config, 'loadShedding'>,
): Promise<void> {
  const { maxEventLoopDelayMs, maxHeapUsedMb, retryAfterSeconds, sampleIntervalMs } = config.loadShedding;
  // Both thresholds off: no sampling, no hook.
  if (maxEventLoopDelayMs === 0 && maxHeapUsedMb === 0) return;
  let lastLogged = 0;
  // The first samples after start measure the boot itself (module loading, PGlite's WASM, migrations), not the
  // traffic: judging by them shed the first requests of a fresh replica on a busy host. Pressure counts only
  // once two samples have been taken entirely after the app became ready.
  let judgeFrom = Number.POSITIVE_INFINITY;
  app.addHook('onReady', (done) => {
    judgeFrom = Date.now() + 2 * sampleIntervalMs;
    done();
  });
  // under-pressure's contract (its README; its types say void only): nothing returned lets the request through;
  // any other value is sent as the reply, and the route's handler never runs; a rejected promise goes to the one
  // error handler (the envelope).
  function pressureHandler(request: FastifyRequest, reply: FastifyReply, type: string, value: unknown) {
    if (EXEMPT_ROUTES.has(request.routeOptions.url ?? '')) return undefined;
    const now = Date.now();
    if (now < judgeFrom) return undefined;
    // One line per second at most: logging every refused request would add to the overload.
    if (now - lastLogged > 1000) {
      lastLogged = now;
      request.log.warn({ type, value }, 'overloaded: shedding requests with 503');
    }
    if (request.routeOptions.url === READINESS_ROUTE) {
      reply.code(503).header('retry-after', String(retryAfterSeconds));
      return { status: 'error', reason: 'overloaded' };
    }
    return Promise.reject(
      new AppError(
        503,
        'SERVICE_UNAVAILABLE',
        { retry_after_seconds: retryAfterSeconds },
        { 'retry-after': String(retryAfterSeconds) },
      ),
    );
  }
  await app.register(underPressure, {
    maxEventLoopDelay: maxEventLoopDelayMs,
    maxHeapUsedBytes: maxHeapUsedMb * 1024 * 1024,
    sampleInterval: sampleIntervalMs,
    retryAfter: retryAfterSeconds,
    pressureHandler: pressureHandler as (r: FastifyRequest, p: FastifyReply, t: string) => undefined,
  });
}
