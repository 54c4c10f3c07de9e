/**
 * The one error handler: AppErrors, schema validation, malformed JSON, oversized bodies, unknown routes (404 or
 * 405), the router's own refusals (414, undecodable URLs) and PostgreSQL errors all leave as the envelope of
 * API.md §2. Unknown errors are logged and become a 500 that carries no internals.
 */
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import FindMyWay from 'find-my-way';
import { isDatabaseUnavailable } from '../db/client.js';
import { pgErrorOf } from '../db/errors.js';
import { isStoreUnavailable } from '../store/types.js';
import { AppError, GENERIC_CODES, platformErrors } from './errors.js';
import { type ErrorRegistry, type Locale, pickLocale } from './messages.js';
import { toFieldErrors } from './validation.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every error code of this app with its texts (the catalogues buildApp registered). */
    errorRegistry: ErrorRegistry;
  }
}

/** The text of a code in `locale`: the app's catalogues, else the platform's, else the code itself. */
export function errorText(registry: ErrorRegistry | undefined, code: string, locale: Locale): string {
  return (
    registry?.text(code, locale) ?? (platformErrors.has(code) ? platformErrors.text(code, locale) : code)
  );
}

export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string,
  details?: Record<string, unknown>,
  customMessage?: string,
) {
  const locale: Locale = request.locale ?? 'fr';
  const body: Record<string, unknown> = {
    error: code,
    message: customMessage ?? errorText(request.server.errorRegistry, code, locale),
    request_id: request.id,
  };
  if (details && Object.keys(details).length > 0) body.details = details;
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

const PG_CODES: Record<string, [number, string]> = {
  '23505': [409, 'ALREADY_EXISTS'],
  '23503': [409, 'CONFLICT'],
  '22P02': [422, 'VALIDATION_ERROR'],
  '22001': [422, 'VALIDATION_ERROR'],
  '22003': [422, 'VALIDATION_ERROR'],
  '23514': [422, 'VALIDATION_ERROR'],
  // NUL in text, \u0000 in jsonb: refused at validation already (validation.ts); kept as a backstop.
  '22021': [422, 'VALIDATION_ERROR'],
  '22P05': [422, 'VALIDATION_ERROR'],
};

/**
 * The router answers some requests itself, before any hook: a path parameter longer than maxParamLength (414)
 * and a path that does not decode (400). Fastify's frameworkErrors option receives them; we send the request
 * back through the router to a hidden route, so the answer gets everything a normal one gets (security and
 * CORS headers, X-Request-ID, locale, metrics, the request log) and the envelope.
 */
const URL_ERROR = Symbol('massacorp.urlError');
const URL_ERROR_ROUTE = '/_errors/url';
type RawWithUrlError = IncomingMessage & { [URL_ERROR]?: string };

export function frameworkErrors(getApp: () => FastifyInstance) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const raw = request.raw as RawWithUrlError;
    raw[URL_ERROR] = error.code;
    raw.url = URL_ERROR_ROUTE;
    // The second pass keeps this request's id (genReqId reads the header), so both log lines correlate.
    raw.headers['x-request-id'] = request.id;
    getApp().routing(raw, reply.raw);
  };
}

/** The hidden route of frameworkErrors; asked for directly, it does not exist. Register after the hooks. */
export function installUrlErrorRoute(app: FastifyInstance) {
  app.all(URL_ERROR_ROUTE, { schema: { hide: true } }, (request, reply) => {
    switch ((request.raw as RawWithUrlError)[URL_ERROR]) {
      case undefined:
        return sendError(request, reply, 404, 'NOT_FOUND');
      case 'FST_ERR_MAX_PARAM_LENGTH':
        return sendError(request, reply, 414, 'URI_TOO_LONG');
      case 'FST_ERR_BAD_URL':
        return sendError(request, reply, 400, 'BAD_REQUEST', { reason: 'malformed URL encoding' });
      default:
        return sendError(request, reply, 500, 'INTERNAL_ERROR');
    }
  });
}

/**
 * Requests Node's HTTP parser refuses (malformed, headers too large, too slow) never reach Fastify's lifecycle:
 * the socket gets an envelope with a fresh request id, in the default locale, and is closed (as Node does).
 */
export function clientErrorHandler(locale: Locale) {
  return function (this: FastifyInstance, err: Error & { code?: string }, socket: Socket) {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, code] =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'REQUEST_TIMEOUT']
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'HEADERS_TOO_LARGE']
          : [400, 'BAD_REQUEST'];
    const requestId = randomUUID();
    const body = JSON.stringify({
      error: code,
      message: errorText(this.errorRegistry, code, locale),
      request_id: requestId,
    });
    this.log.debug({ err, requestId }, 'client error');
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-ID: ${requestId}\r\n` +
          `X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(err);
  };
}

/**
 * Connection-level failures of PostgreSQL or Redis: the request may succeed later, so 503, not 500. The store
 * raises StoreUnavailableError for every such failure; pg's are recognised by code and message.
 */
function unavailableDependency(error: Error): 'database' | 'store' | null {
  if (isStoreUnavailable(error)) return 'store';
  if (isDatabaseUnavailable(error)) return 'database';
  return null;
}

/**
 * The statuses a route declares (its OpenAPI responses, generic ones included: openapi.ts), or null for a route
 * that declares none (hidden routes, unmatched requests), which the check below leaves alone.
 */
function declaredStatuses(request: FastifyRequest): Record<string, unknown> | null {
  const schema = request.routeOptions?.schema as
    | { response?: Record<string, unknown>; hide?: boolean }
    | undefined;
  if (!schema?.response || schema.hide) return null;
  return schema.response;
}

function isDeclared(response: Record<string, unknown>, status: number): boolean {
  // 503 is the platform's, on any route: load shedding and closing (app.ts, load-shedding.ts), not a handler's.
  if (status === 503) return true;
  return String(status) in response || `${Math.floor(status / 100)}XX` in response || 'default' in response;
}

export interface ErrorHandlingOptions {
  /**
   * Outside production: an AppError whose status the route did not declare (`errorResponses(...)` plus the
   * generic statuses of openapi.ts) answers 500 UNDECLARED_ERROR_STATUS and logs the route and the status, so a
   * test that reaches it fails (the declared statuses are the OpenAPI document clients are generated from).
   */
  checkDeclaredStatuses: boolean;
}

export function installErrorHandling(app: FastifyInstance, options: ErrorHandlingOptions) {
  // A shadow router of every registered route, so an unknown method on a known path is 405, not 404.
  const shadow = FindMyWay({ ignoreTrailingSlash: true, ignoreDuplicateSlashes: true });
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const m of methods) {
      if (m === 'HEAD') continue;
      try {
        shadow.on(m as never, route.url, () => {});
      } catch {
        // duplicate registrations (HEAD for GET) are fine
      }
    }
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter(
      (m) => m !== request.method && shadow.find(m as never, path) !== null,
    );
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendError(request, reply, 405, 'METHOD_NOT_ALLOWED');
    }
    return sendError(request, reply, 404, 'NOT_FOUND');
  });

  app.setErrorHandler((error: FastifyError & { code?: string }, request, reply) => {
    if (error instanceof AppError) {
      const declared = options.checkDeclaredStatuses ? declaredStatuses(request) : null;
      if (declared && !isDeclared(declared, error.statusCode)) {
        request.log.error(
          {
            route: `${request.method} ${request.routeOptions.url}`,
            status: error.statusCode,
            code: error.code,
          },
          `undeclared error status: ${request.method} ${request.routeOptions.url} answered ${error.statusCode} ${error.code}; add ${error.statusCode} to the route's errorResponses`,
        );
        return sendError(request, reply, 500, 'UNDECLARED_ERROR_STATUS', {
          route: `${request.method} ${request.routeOptions.url}`,
          status: error.statusCode,
          code: error.code,
        });
      }
      if (error.headers) reply.headers(error.headers);
      return sendError(request, reply, error.statusCode, error.code, error.details, error.customMessage);
    }
    if (error.validation) {
      const part = error.validationContext ?? 'body';
      return sendError(
        request,
        reply,
        422,
        'VALIDATION_ERROR',
        {
          errors: toFieldErrors(error.validation as never, part),
        },
        'Request validation failed',
      );
    }
    // Same shape as the existing (FastAPI) API: a body that is not JSON is a validation error of `body`.
    const malformedJson = () =>
      sendError(
        request,
        reply,
        422,
        'VALIDATION_ERROR',
        { errors: [{ field: 'body', message: 'malformed JSON body', type: 'json_invalid' }] },
        'Request validation failed',
      );
    switch (error.code) {
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return malformedJson();
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendError(request, reply, 413, 'PAYLOAD_TOO_LARGE');
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendError(request, reply, 415, 'UNSUPPORTED_MEDIA_TYPE');
    }
    if (error instanceof SyntaxError && error.statusCode === 400) return malformedJson();
    // Drizzle wraps driver errors; the SQLSTATE is under them.
    const sqlState = pgErrorOf(error)?.code;
    const pg = sqlState ? PG_CODES[sqlState] : undefined;
    if (pg) {
      request.log.warn({ pgCode: sqlState }, 'database constraint rejected the request');
      return sendError(request, reply, pg[0], pg[1]);
    }
    const dependency = unavailableDependency(error);
    if (dependency) {
      // One short line per refused request (the store and the pool log the outage itself once).
      // The driver's own message and code, not drizzle's wrapper: that one quotes the query and its parameters.
      const cause = (error as { cause?: unknown }).cause;
      const driver = cause instanceof Error ? (cause as Error & { code?: string }) : error;
      request.log.warn(
        { dependency, err: driver.message, code: driver.code },
        driver.code === '57014'
          ? 'database statement timed out (DB_STATEMENT_TIMEOUT_MS): answered 503'
          : 'dependency unavailable: answered 503',
      );
      request.server.ctx?.metrics.dependencyUnavailable.inc({ dependency });
      return sendError(request, reply, 503, 'SERVICE_UNAVAILABLE');
    }
    const status =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error({ err: error }, 'unhandled error');
    return sendError(request, reply, status, GENERIC_CODES[status] ?? 'BAD_REQUEST');
  });
}

export { pickLocale };
