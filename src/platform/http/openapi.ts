/**
 * The one place that adds the statuses every route shares to its OpenAPI responses, so generated clients know
 * every status a route can answer (routes list only their own, specific ones). All of them are the error
 * envelope of API.md §2. The rules mirror the platform's behaviour:
 *   500                        every route (an unexpected failure)
 *   503                        routes behind the guard (the store is read on every request; the database below)
 *   403                        every route but /health (the WireGuard guard, WG_ENFORCE, on by default in prod)
 *   400, 401, 403              non-public routes (credentials; a malformed X-Tenant-ID is 400 INVALID_TENANT)
 *   429                        routes behind the guard (per identity and route; API keys have their own budget)
 *   422                        a body, query, params or headers schema, or a method that takes a body
 *   413, 415                   methods that take a body (size limit, content type)
 *   400, 414                   path parameters (undecodable, or longer than the router accepts)
 * Added in an onRoute hook before @fastify/swagger reads the route; an existing entry is never replaced.
 */

import type { RouteOptions } from 'fastify';
import { WRITE_METHODS } from './methods.js';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Bad request (BAD_REQUEST, INVALID_TENANT, malformed URL encoding)',
  401: 'Not authenticated (UNAUTHORIZED, TOKEN_*, SESSION_*, API_KEY_*)',
  403: 'Refused (PERMISSION_DENIED, NETWORK_FORBIDDEN, TENANT_MISMATCH, MFA_REQUIRED, ...)',
  413: 'Body too large (PAYLOAD_TOO_LARGE)',
  414: 'Path parameter too long (URI_TOO_LONG)',
  415: 'Unsupported content type (UNSUPPORTED_MEDIA_TYPE)',
  422: 'Validation failed (VALIDATION_ERROR, details.errors)',
  429: 'Rate limited (RATE_LIMIT_EXCEEDED, Retry-After)',
  500: 'Unexpected failure (INTERNAL_ERROR)',
  503: 'A dependency is unavailable (SERVICE_UNAVAILABLE)',
};

/** The generic error statuses of a route (see the module comment). */
export function genericStatuses(route: {
  method: string | string[];
  url: string;
  access: string | null;
  hasInputSchema: boolean;
}): number[] {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const takesBody = methods.some((m) => WRITE_METHODS.has(m));
  const hasParams = /[:*]/.test(route.url);
  const statuses = new Set<number>([500]);
  if (route.url !== '/health') statuses.add(403);
  if (route.access !== null) {
    statuses.add(503);
    statuses.add(429);
  }
  if (route.access !== null && route.access !== 'public') {
    statuses.add(400);
    statuses.add(401);
  }
  if (route.hasInputSchema || takesBody) statuses.add(422);
  if (takesBody) {
    statuses.add(413);
    statuses.add(415);
  }
  if (hasParams) {
    statuses.add(400);
    statuses.add(414);
  }
  return [...statuses].sort((a, b) => a - b);
}

export function addGenericResponses(route: RouteOptions): void {
  const schema = route.schema as (Record<string, unknown> & { hide?: boolean }) | undefined;
  // Undocumented routes (Swagger UI's files, /openapi.json itself) keep Fastify's defaults.
  if (!schema || schema.hide) return;
  const access = (route.config as { access?: string } | undefined)?.access ?? null;
  const statuses = genericStatuses({
    method: route.method,
    url: route.url,
    access,
    hasInputSchema: Boolean(schema.body || schema.querystring || schema.params || schema.headers),
  });
  const response = { ...((schema.response as Record<string, unknown> | undefined) ?? {}) };
  for (const s of statuses)
    if (!(String(s) in response)) response[s] = { $ref: 'ErrorEnvelope', description: DESCRIPTIONS[s] };
  // A new object: a schema shared by two routes must not collect the other route's statuses.
  route.schema = { ...schema, response };
}
