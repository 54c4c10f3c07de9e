/**
 * The composition root: buildApp(config, deps) wires the platform (database, store, crypto, HTTP policies) and
 * every module into one Fastify instance. Tests call it directly; two apps built over one database and store
 * behave as two replicas.
 */

import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { modules as allModules } from './modules/index.js';
import { type Clock, systemClock } from './platform/clock.js';
import type { AppContext, CredentialScheme, Hooks, PlatformServices } from './platform/context.js';
import { createSecretBox } from './platform/crypto/aes-gcm.js';
import { createJwtService } from './platform/crypto/jwt.js';
import { createPasswordHasher } from './platform/crypto/passwords.js';
import { createDatabase, type Database } from './platform/db/client.js';
import { migrate } from './platform/db/migrator.js';
import { withReplicaReads } from './platform/db/replica.js';
import { assertRouteAccess, installAccessGuard } from './platform/http/access.js';
import { adminConsole } from './platform/http/admin-console.js';
import { baseRoutes } from './platform/http/base-routes.js';
import {
  clientErrorHandler,
  frameworkErrors,
  installErrorHandling,
  installUrlErrorRoute,
  sendError,
} from './platform/http/error-handler.js';
import { platformErrors } from './platform/http/errors.js';
import { jwksRoute } from './platform/http/jwks-route.js';
import { installLoadShedding } from './platform/http/load-shedding.js';
import { REDACT_PATHS, REDACTED, redactLine, serializeRequest } from './platform/http/log-redaction.js';
import { buildErrorRegistry, type Locale, pickLocale } from './platform/http/messages.js';
import { WRITE_METHODS } from './platform/http/methods.js';
import { createMetrics } from './platform/http/metrics.js';
import { CidrSet } from './platform/http/network.js';
import { addGenericResponses } from './platform/http/openapi.js';
import { installReplicaReads } from './platform/http/replica-reads.js';
import { ErrorEnvelope } from './platform/http/schemas.js';
import { securityHeaders } from './platform/http/security-headers.js';
import { normaliseBody, replaceForbiddenChars, validatorCompiler } from './platform/http/validation.js';
import { createMailer } from './platform/mail/mailer.js';
import type { AppModule } from './platform/module.js';
import { orderModules } from './platform/module-order.js';
import { createStore, type KeyValueStore } from './platform/store/index.js';

export interface AppDeps {
  /** Share one database/store between apps (replicas in tests); otherwise the app creates and owns them. */
  database?: Database;
  store?: KeyValueStore;
  /** Run migrations at startup (default: config.autoMigrate). */
  migrate?: boolean;
  /** Where log lines go (default stdout); tests pass their own to read what the app logs. */
  logStream?: { write(line: string): void };
  /** Wall clock for expiry decisions (default: the system clock; tests pass one they can move). */
  clock?: Clock;
  /** The feature modules (default: all of them, src/modules/index.ts); tests pass their own. */
  modules?: readonly AppModule[];
}

declare module 'fastify' {
  interface FastifyInstance {
    ctx: AppContext;
  }
  interface FastifyRequest {
    locale: Locale;
  }
}

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;
/** /docs: no inline script or style, no eval, nothing from another origin (issue 14). */
export const DOCS_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
/** What the WireGuard guard lets through from anywhere: liveness and readiness probes (docs/operations.md). */
const PROBE_ROUTES = new Set(['/health', '/ready']);

export async function buildApp(config: Readonly<Config>, deps: AppDeps = {}): Promise<FastifyInstance> {
  // The mail the dev/test mailer logs instead of sending keeps its reset link (mailer.ts); nowhere else.
  const devMail = config.env === 'dev' || config.env === 'test';
  const modules = deps.modules ?? allModules;
  // Every error code of the app, each declared once (a duplicate fails here, before anything is opened).
  const errorRegistry = buildErrorRegistry([
    { owner: 'platform', catalogue: platformErrors },
    ...modules.flatMap((m) => m.errors.map((catalogue) => ({ owner: m.name, catalogue }))),
  ]);
  // Providers in need order; a missing or cyclic need, or a name provided twice, refuses to boot here.
  const ordered = orderModules(modules);
  const secretPatterns = modules.flatMap((m) => m.secretPatterns ?? []);
  // A URL under a prefix some module declares: the prefix itself or below it (not /api/v1/authx).
  const noStorePrefixes = modules.flatMap((m) => m.noStorePrefixes ?? []);
  const noStore = (url: string) => noStorePrefixes.some((p) => url === p || url.startsWith(`${p}/`));
  const app: FastifyInstance = Fastify({
    logger: {
      level: config.logLevel,
      // Secrets never reach the log: paths, the request URL, then a pass over each line (log-redaction.ts).
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      serializers: { req: serializeRequest as never },
      hooks: { streamWrite: (line: string) => redactLine(line, devMail, secretPatterns) },
      ...(deps.logStream ? { stream: deps.logStream } : {}),
    },
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
    },
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
    bodyLimit: config.bodyLimit,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 200 },
    // 414 and undecodable paths, which the router answers before any hook, leave as envelopes too.
    frameworkErrors: frameworkErrors(() => app),
    // And what Node's HTTP parser refuses before Fastify sees a request.
    clientErrorHandler: clientErrorHandler(config.defaultLocale),
    // While closing, Fastify would answer requests on open connections with its own 503 body; the onRequest
    // hook below answers the §2 envelope instead.
    return503OnClosing: false,
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as FastifyInstance;

  const ownsDatabase = !deps.database;
  const ownsStore = !deps.store;
  const database = deps.database ?? withReplicaReads(await createDatabase(config, app.log), config, app.log);
  const clock = deps.clock ?? systemClock;
  const store = deps.store ?? createStore(config, app.log, clock);
  if (deps.migrate ?? config.autoMigrate) await migrate(database);

  const secretBox = createSecretBox(
    config.encryptionKeyId,
    config.encryptionKey,
    config.previousEncryptionKeys,
  );
  const jwt = createJwtService(config, clock, { database, store, secretBox, log: app.log });
  // Signing keys before any request: EdDSA/ES256 create theirs on first start (one for all replicas).
  await jwt.init();
  const platform: PlatformServices = {
    config,
    clock,
    database,
    store,
    hasher: createPasswordHasher(config.argon2),
    secretBox,
    jwt,
    log: app.log,
    mailer: createMailer(config, app.log),
    metrics: createMetrics(database, config.env !== 'test'),
    lifecycle: { draining: false },
  };
  const hooks: Hooks = {
    tenantCreated: [],
    userCreated: [],
    loginSucceeded: [],
    passwordSignIn: [],
    signIn: [],
    unverifiedAccountReset: [],
    userDeactivated: [],
    invitedSignUp: [],
    userEmailChanged: [],
    userSessionsEnded: [],
    gdprExport: [],
    gdprErase: [],
  };
  // The providers are filled in just below, before anything reads them: orderModules has checked that every
  // need (the platform's and each module's) has a provider, built before the factories of the modules needing it.
  const ctx = { ...platform, hooks, credentials: [] as readonly CredentialScheme[] } as AppContext;
  const slots = ctx as unknown as Record<string, unknown>;
  for (const m of ordered)
    for (const [name, make] of Object.entries(m.provides ?? {}))
      slots[name] = (make as (c: AppContext) => unknown)(ctx);
  // Credential schemes read providers (API keys wrap RBAC's resolver): built after all of them.
  const schemes = modules.flatMap((m) => (m.credentialScheme ? [m.credentialScheme(ctx)] : []));
  const kinds = schemes.map((c) => c.kind);
  if (new Set(kinds).size !== kinds.length) throw new Error(`two credential schemes of one kind: ${kinds}`);
  ctx.credentials = schemes;
  app.decorate('ctx', ctx);
  app.decorate('errorRegistry', errorRegistry);

  app.setValidatorCompiler(validatorCompiler);
  app.addSchema(ErrorEnvelope);
  // Outside production a route answering an error status it does not declare fails loudly (error-handler.ts).
  installErrorHandling(app, { checkDeclaredStatuses: config.env !== 'prod' && config.env !== 'staging' });
  const guardedPrefixes = modules.flatMap((m) => m.guardedPrefixes ?? []);
  app.addHook('onRoute', (route) => assertRouteAccess(route as never, ctx, guardedPrefixes));
  // Before @fastify/swagger's own onRoute hook, so the document lists the generic statuses (openapi.ts).
  app.addHook('onRoute', (route) => addGenericResponses(route as never));

  // Headers on every response (API.md §3), errors, 404s and CORS preflights included: computed once
  // (security-headers.ts), and set before @fastify/cors, which answers a preflight from its own onRequest hook.
  const headers = securityHeaders();
  app.addHook('onRequest', (_request, reply, done) => {
    for (const [name, value] of headers) reply.header(name, value);
    done();
  });
  await app.register(cors, {
    origin: config.corsAllowedOrigins.length > 0 ? config.corsAllowedOrigins : false,
    credentials: true,
    exposedHeaders: [
      'X-Request-ID',
      'X-RateLimit-Limit',
      'X-RateLimit-Remaining',
      'X-RateLimit-Reset',
      'Retry-After',
    ],
  });

  app.decorateRequest('locale', 'fr');
  const allowedNetworks = new CidrSet([config.wgNetwork, ...config.wgExtraAllowedCidrs]);
  // Graceful shutdown (main.ts): once app.close() starts, the listener is closed and requests already in
  // flight finish; a new request arriving on a connection still open (keep-alive, pipelining) is refused with
  // the envelope, /health included, so a load balancer moves it elsewhere. Fastify adds Connection: close.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // Synchronous hooks (done callbacks) on the per-request path: an async hook costs a promise and a
  // microtask turn per request even when it has nothing to do (issue 12: /health at a third of a bare route).
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    request.locale = pickLocale(request.headers['accept-language'], config.defaultLocale);
    if (closing) return sendError(request, reply, 503, 'SERVICE_UNAVAILABLE');
    // Draining (main.ts, SHUTDOWN_DRAIN_MS): the request is served as usual, but its connection closes after the
    // response, so a keep-alive client's next request opens a new connection, which the load balancer (told by
    // /ready) sends to another replica. Node closes the socket once a response carries this header.
    if (ctx.lifecycle.draining) reply.header('connection', 'close');
    // User-Agent is stored (sessions, audit) but is not the caller's to get wrong: a NUL or a lone surrogate
    // (which PostgreSQL refuses) becomes U+FFFD instead of failing the request. Bodies, queries and params are
    // refused instead (validation.ts).
    const ua = request.headers['user-agent'];
    if (typeof ua === 'string') request.headers['user-agent'] = replaceForbiddenChars(ua);
    // The WireGuard network guard: outside the tunnel only the probes answer (/health, /ready: a kubelet or a
    // container engine probes from the host or the node, never through the tunnel; /ready trims its body for
    // them, base-routes.ts). The matched route, not the raw URL: /health/ and //health are /health too.
    if (
      config.wgEnforce &&
      !PROBE_ROUTES.has(request.routeOptions.url ?? '') &&
      !allowedNetworks.contains(request.ip)
    ) {
      return sendError(request, reply, 403, 'NETWORK_FORBIDDEN');
    }
    done();
  });
  // After the hook above (request id, locale, closing, network), before the guard and everything else.
  await installLoadShedding(app, config);
  installAccessGuard(
    app,
    ctx,
    modules.flatMap((m) => m.mfaEnrolmentPrefixes ?? []),
  );
  if (config.databaseReplicaUrl) installReplicaReads(app, store, config.databaseReplicaMaxLagMs);
  app.addHook('preValidation', (request, _reply, done) => {
    if (request.body && typeof request.body === 'object') request.body = normaliseBody(request.body);
    // An absent body on a write is an empty object: optional bodies validate, required fields report by name.
    else if (request.body == null && WRITE_METHODS.has(request.method)) request.body = {};
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-response-time', `${reply.elapsedTime.toFixed(2)}ms`);
    if (noStore(request.url)) reply.header('cache-control', 'no-store');
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    ctx.metrics.observeRequest(
      request.method,
      request.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    done();
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'MassaCorp API',
        version: config.version,
        description: 'Secure multi-tenant identity and access API',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
    },
  });
  if (config.env !== 'prod') {
    // Swagger UI under a CSP as strict as the console's. Its StandaloneLayout top bar draws an SVG logo with an
    // inline <style> element, which that CSP refuses; BaseLayout has no top bar (its URL box served no purpose
    // here: /docs shows this API only).
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      uiConfig: { layout: 'BaseLayout', deepLinking: true },
      staticCSP: DOCS_CSP,
    });
  }
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  installUrlErrorRoute(app);

  for (const m of modules) await m.setup?.(ctx);
  await app.register(baseRoutes(ctx));
  await app.register(jwksRoute(ctx));
  for (const m of modules) {
    for (const r of m.routes(ctx)) await app.register(r.plugin, { prefix: r.prefix });
  }
  if (config.adminConsole.enabled) {
    await app.register(adminConsole(ctx, { features: modules.map((m) => m.name) }), { prefix: '/admin' });
  }

  app.addHook('onClose', async () => {
    for (const m of [...modules].reverse()) await m.stop?.(ctx);
    jwt.close();
    if (ownsStore) await store.close();
    if (ownsDatabase) await database.close();
  });
  await app.ready();
  return app as unknown as FastifyInstance;
}
