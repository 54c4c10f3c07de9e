/**
 * The one way a module declares its routes: `routes(tag, (route) => { ... })` is its Fastify plugin, and each
 * route is one call, its method and path, its OpenAPI summary (optional), its spec (who may call it, what it
 * takes, what it answers) and its handler:
 *
 *   export function userRoutes(ctx: UsersDeps): FastifyPluginAsyncTypebox {
 *     return routes('users', (route) => {
 *       route('GET /:id', { access: 'users.read', params: IdParams, ok: UserReadFull, errors: [404, 422] }, (req) =>
 *         service.getUser(ctx, requirePrincipal(req).tenantId, req.params.id),
 *       );
 *       route('POST /', 'Create a user', { access: 'users.write', body: UserCreate, created: UserRead }, handler);
 *     });
 *   }
 *
 * From that it builds Fastify's route options: `config.access` (with `keyScope` on a `self` route, and
 * `rateLimit`), the schema with the plugin's tag, and the response map from the success schemas and the error
 * statuses (each the error envelope). 401 follows from the access (every route but a public one answers it) and
 * 403 from a permission (the guard refuses a caller without it), so a route lists only its other error statuses;
 * listing one of these two fails at boot. The generic statuses (openapi.ts) are added later, for every route.
 *
 * Success: `ok` is the 200 schema; `created` a 201 and `noContent` a 204, which the helper sends (the handler
 * returns the body, or nothing); `accepted` documents a 202 beside `ok`, the handler choosing the status.
 * A `hide` route (SCIM) declares no responses: the error statuses of a hidden route are not checked
 * (error-handler.ts), and its own error handler shapes its errors. It is outside the OpenAPI document unless it
 * says `documentedAs`, which lists it there by path, method and summary with one described response.
 *
 * Fastify's TypeBox type provider still types each handler: `req.params`, `req.query`, `req.body` and
 * `req.headers` from their schemas, the return value from the success schema.
 */

import type { SwaggerTransform } from '@fastify/swagger';
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type TSchema, Type } from '@sinclair/typebox';
import type {
  ContextConfigDefault,
  FastifyBaseLogger,
  FastifyInstance,
  FastifyRequest,
  FastifySchema,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteGenericInterface,
  RouteHandlerMethod,
  RouteOptions,
} from 'fastify';
import type { Access, KeyScope } from './access.js';
import type { PermissionCode } from './permissions.js';
import type { RateLimitRule } from './rate-limit.js';
import { errorResponses } from './schemas.js';

/** The plugin instance every module's routes get (FastifyPluginAsyncTypebox). */
type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
/** `'GET /:id'`: the method, one space, the path below the plugin's prefix. */
export type RouteAt = `${Method} /${string}`;

/** The error statuses a route may list (each answered with the error envelope). */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 423 | 429 | 502;

/** Who may call the route (access.ts): a `self` route also says which API key scope opens it, or null. */
type Who =
  | { access: 'public'; keyScope?: never }
  | { access: 'self'; keyScope: KeyScope }
  | { access: PermissionCode; keyScope?: never };

/** A response that is not JSON: its content types and their schemas. */
interface ContentResponse {
  content: Record<string, { schema: TSchema }>;
}

interface Shape {
  /** Not here: the summary is the argument after the method and path. */
  summary?: never;
  headers?: TSchema;
  params?: TSchema;
  query?: TSchema;
  body?: TSchema;
  /** Content types the body may come in, when not only JSON (OpenAPI's `consumes`). */
  consumes?: string[];
  /** 200. */
  ok?: TSchema | ContentResponse;
  /** 201, sent by the helper with what the handler returns. */
  created?: TSchema;
  /** 202 beside `ok`: the handler sets the status it answers. */
  accepted?: TSchema;
  /** 204, sent by the helper once the handler has resolved. */
  noContent?: true;
  /** The route's own error statuses (401 and 403 follow from `access`). */
  errors?: readonly ErrorStatus[];
  rateLimit?: RateLimitRule;
  /** No responses declared (nor serialised by a schema): outside the OpenAPI document, unless `documentedAs`. */
  hide?: true;
  /**
   * With `hide`: the route is still listed in the OpenAPI document (its path, method, summary, parameters), with
   * this text as its one response's description, for a contract that is not ours (SCIM: RFC 7644).
   */
  documentedAs?: string;
  logLevel?: RouteOptions['logLevel'];
  bodyLimit?: number;
}

export type RouteSpec = Who & Shape;

type Part<S, K extends keyof Shape> = S extends { [P in K]: infer T } ? T : undefined;

/** The response schemas Fastify types the handler's return value with: the success ones. */
type Responses<S> = (S extends { ok: infer T } ? { 200: T } : unknown) &
  (S extends { created: infer T } ? { 201: T } : unknown) &
  (S extends { accepted: infer T } ? { 202: T } : unknown) &
  (S extends { noContent: true } ? { 204: ReturnType<typeof Type.Null> } : unknown);

/** The schema Fastify's type provider reads (the names it knows: `querystring`, `response`). */
interface SchemaOf<S> extends FastifySchema {
  headers: Part<S, 'headers'>;
  params: Part<S, 'params'>;
  querystring: Part<S, 'query'>;
  body: Part<S, 'body'>;
  response: Responses<S>;
}

/** A route's handler, typed from its spec by Fastify's TypeBox provider. */
export type RouteHandler<S> = RouteHandlerMethod<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  RouteGenericInterface,
  ContextConfigDefault,
  SchemaOf<S>,
  TypeBoxTypeProvider
>;

/** The Fastify route options (all but the handler) of one declaration. */
export function routeOptions(
  tag: string,
  at: RouteAt,
  summary: string | undefined,
  spec: RouteSpec,
): Omit<RouteOptions, 'handler'> {
  const space = at.indexOf(' ');
  const method = at.slice(0, space) as Method;
  const url = at.slice(space + 1);
  const implied = new Set<number>();
  if (spec.access !== 'public') implied.add(401);
  if (spec.access !== 'public' && spec.access !== 'self') implied.add(403);
  for (const s of spec.errors ?? [])
    if (implied.has(s))
      throw new Error(`Route ${at} lists ${s}, which its access '${spec.access}' already declares`);

  const schema: Record<string, unknown> = { tags: [tag] };
  if (summary !== undefined) schema.summary = summary;
  if (spec.consumes) schema.consumes = spec.consumes;
  if (spec.headers) schema.headers = spec.headers;
  if (spec.params) schema.params = spec.params;
  if (spec.query) schema.querystring = spec.query;
  if (spec.body) schema.body = spec.body;
  if (spec.hide) {
    if (spec.ok || spec.created || spec.accepted || spec.noContent || spec.errors)
      throw new Error(`Route ${at} is hidden: it declares no responses`);
    schema.hide = true;
  } else if (spec.documentedAs) {
    throw new Error(`Route ${at}: documentedAs is for hidden routes`);
  } else {
    schema.response = {
      ...(spec.ok && { 200: spec.ok }),
      ...(spec.created && { 201: spec.created }),
      ...(spec.accepted && { 202: spec.accepted }),
      ...(spec.noContent && { 204: Type.Null() }),
      ...errorResponses(...implied, ...(spec.errors ?? [])),
    };
  }

  const config: {
    access: Access;
    keyScope?: KeyScope;
    rateLimit?: RateLimitRule;
    swaggerTransform?: SwaggerTransform;
  } = { access: spec.access };
  if (spec.access === 'self') config.keyScope = spec.keyScope;
  // Only the document sees the route unhidden: at run time it keeps no response schema (its replies are not
  // serialised through ours), since @fastify/swagger applies this transform when it builds the document alone.
  const documentedAs = spec.documentedAs;
  if (spec.hide && documentedAs)
    config.swaggerTransform = ({ schema: runtime, url }) => ({
      url,
      schema: {
        ...runtime,
        hide: false,
        response: { default: { description: documentedAs } },
      } as FastifySchema,
    });
  if (spec.rateLimit) config.rateLimit = spec.rateLimit;

  return {
    method,
    url,
    config,
    schema,
    ...(spec.logLevel && { logLevel: spec.logLevel }),
    ...(spec.bodyLimit !== undefined && { bodyLimit: spec.bodyLimit }),
  };
}

/** Declares one route: its method and path, its OpenAPI summary (optional), its spec, its handler. */
export interface DeclareRoute {
  <const S extends RouteSpec>(at: RouteAt, spec: S, handler: RouteHandler<S>): void;
  <const S extends RouteSpec>(
    at: RouteAt,
    summary: string | undefined,
    spec: S,
    handler: RouteHandler<S>,
  ): void;
}

/**
 * A module's routes, as a Fastify plugin: `define` declares them with `route`; `tag` is the OpenAPI tag of every
 * one. `app` is there for what is not a route (hooks, content type parsers, a child scope).
 */
export function routes(
  tag: string,
  define: (route: DeclareRoute, app: App) => void | Promise<void>,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    await define(declareRoutes(app, tag), app);
  };
}

/** The route declarer of one plugin instance. */
function declareRoutes(app: App, tag: string): DeclareRoute {
  return (at: RouteAt, ...rest: unknown[]) => {
    const [summary, spec, handler] = (rest.length === 3 ? rest : [undefined, ...rest]) as [
      string | undefined,
      RouteSpec,
      RouteOptions['handler'],
    ];
    app.route({
      ...routeOptions(tag, at, summary, spec),
      handler: spec.created
        ? async function (req, reply) {
            return reply.code(201).send(await handler.call(this, req, reply));
          }
        : spec.noContent
          ? async function (req, reply) {
              await handler.call(this, req, reply);
              return reply.code(204).send(null);
            }
          : handler,
    } as RouteOptions);
  };
}

// ---- what several handlers share ----

/** `X-Tenant-ID` on a public route that needs the tenant before sign-in (an id or a slug). */
export const TenantHeader = Type.Object({ 'x-tenant-id': Type.Optional(Type.String()) });

/** The caller's address and user agent, as sign-in and session services take them. */
export function clientOf(req: FastifyRequest): { ip: string; userAgent: string | null } {
  const ua = req.headers['user-agent'];
  return { ip: req.ip, userAgent: typeof ua === 'string' ? ua : null };
}

/** The success envelope of API.md §2: `{ success: true, message, data }` (data null when there is none). */
export function succeeded(message: string): { success: true; message: string; data: null };
export function succeeded<T>(message: string, data: T): { success: true; message: string; data: T };
export function succeeded(message: string, data: unknown = null) {
  return { success: true as const, message, data };
}
