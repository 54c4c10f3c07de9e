/** Base routes (API.md §4): no auth, no /api/v1 prefix, except /api/v1/info which is public. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import { expectedSchemaVersion } from '../db/migrator.js';
import { platformErrors } from './errors.js';
import { CidrSet, normaliseIp } from './network.js';

const Check = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('error')]),
  latency_ms: Type.Optional(Type.Number()),
  /** Given to callers inside WG_NETWORK / WG_EXTRA_ALLOWED_CIDRS (or when the guard is off) only. */
  backend: Type.Optional(Type.String()),
});
const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('error')]),
  /**
   * Why the instance is not ready when no check failed: `shutting_down` (draining, SHUTDOWN_DRAIN_MS), or
   * `overloaded` (load shedding: the event loop or the heap is past its threshold; with Retry-After).
   */
  reason: Type.Optional(Type.Union([Type.Literal('shutting_down'), Type.Literal('overloaded')])),
  checks: Type.Optional(
    Type.Object({
      database: Check,
      /** The schema version this code expects (its last migration) is applied. */
      migrations: Check,
      /** The signing keys table answers: a sign-in can be signed. */
      signing_keys: Check,
      redis: Check,
    }),
  ),
});

const digest = (s: string) => createHash('sha256').update(s).digest();

export function baseRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  const wgNetwork = new CidrSet([ctx.config.wgNetwork]);
  // Without METRICS_TOKEN, /metrics answers the host itself (a sidecar, node exporter) and the tunnel only.
  const metricsNetworks = new CidrSet(['127.0.0.0/8', '::1', ctx.config.wgNetwork]);
  const metricsTokenDigest = ctx.config.metricsToken ? digest(ctx.config.metricsToken) : null;
  // Who sees /ready's details (backends, latencies): everyone when the guard is off, else the networks it admits.
  const detailNetworks = new CidrSet([ctx.config.wgNetwork, ...ctx.config.wgExtraAllowedCidrs]);
  return async (app) => {
    const schemaVersion = await expectedSchemaVersion();
    app.get(
      '/',
      {
        schema: {
          tags: ['base'],
          response: {
            200: Type.Object({
              message: Type.String(),
              version: Type.String(),
              docs: Type.Union([Type.String(), Type.Null()]),
            }),
          },
        },
      },
      async () => ({
        message: 'MassaCorp API: secure multi-tenant identity and access',
        version: ctx.config.version,
        docs: ctx.config.env === 'prod' ? null : '/docs',
      }),
    );

    // No I/O: load balancers poll this; readiness (with dependencies) is /ready.
    app.get(
      '/health',
      {
        schema: {
          tags: ['base'],
          response: {
            200: Type.Object({
              status: Type.String(),
              environment: Type.String(),
              wireguard_network: Type.String(),
            }),
          },
        },
      },
      async () => ({
        status: 'healthy',
        environment: ctx.config.env,
        wireguard_network: ctx.config.wgNetwork,
      }),
    );

    // Ready means "can serve a sign-in": the database answers, carries the schema this code expects (prod never
    // migrates on start) and its signing keys table answers, and the store answers. Says which check failed,
    // never why: driver messages name hosts, users and databases. The why goes to the log, where operators look.
    // The probes reach it from outside the tunnel (app.ts), so those callers get the statuses only.
    app.get(
      '/ready',
      { schema: { tags: ['base'], response: { 200: Readiness, 503: Readiness } } },
      async (req, reply) => {
        // Draining (main.ts): the balancer must stop sending traffic here; the dependencies are beside the point.
        if (ctx.lifecycle.draining)
          return reply.code(503).send({ status: 'error' as const, reason: 'shutting_down' as const });
        const check = async (dependency: string, fn: () => Promise<unknown>) => {
          const t0 = performance.now();
          try {
            await fn();
            return { status: 'ok' as const, latency_ms: Math.round((performance.now() - t0) * 100) / 100 };
          } catch (err) {
            req.log.error({ err, dependency }, 'readiness check failed');
            return { status: 'error' as const };
          }
        };
        const [database, migrations, signingKeys, redis] = await Promise.all([
          check('database', () => ctx.database.query('select 1')),
          check('migrations', async () => {
            const rows = schemaVersion
              ? await ctx.database.query('select 1 from massacorp_migrations where name = $1', [
                  schemaVersion,
                ])
              : [];
            if (rows.length === 0) throw new Error(`schema version ${schemaVersion ?? '?'} is not applied`);
          }),
          check('signing_keys', () => ctx.database.query('select 1 from jwt_signing_keys limit 1')),
          check('redis', () => ctx.store.ping()),
        ]);
        const detailed = !ctx.config.wgEnforce || detailNetworks.contains(req.ip);
        const show = (c: { status: 'ok' | 'error'; latency_ms?: number }, backend: string) =>
          detailed ? { ...c, backend } : { status: c.status };
        const checks = {
          database: show(database, ctx.database.kind),
          migrations: show(migrations, ctx.database.kind),
          signing_keys: show(signingKeys, ctx.database.kind),
          redis: show(redis, ctx.store.kind),
        };
        const ok = [database, migrations, signingKeys, redis].every((c) => c.status === 'ok');
        return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'error', checks });
      },
    );

    // With METRICS_TOKEN: `Authorization: Bearer <token>` from anywhere (digests compared in constant time, so
    // neither the token nor its length leaks through timing). Without: loopback and WG_NETWORK only.
    app.get('/metrics', { schema: { tags: ['base'], hide: true } }, async (req, reply) => {
      if (metricsTokenDigest) {
        const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
        if (!timingSafeEqual(digest(m?.[1] ?? ''), metricsTokenDigest) || !m)
          throw platformErrors.error('UNAUTHORIZED', undefined, {
            headers: { 'www-authenticate': 'Bearer realm="metrics"' },
          });
      } else if (!metricsNetworks.contains(req.ip)) {
        throw platformErrors.error('FORBIDDEN', {
          reason: 'metrics are served to loopback and the WireGuard network only',
        });
      }
      reply.type(ctx.metrics.registry.contentType);
      return ctx.metrics.registry.metrics();
    });

    app.get(
      '/api/v1/info',
      {
        config: { access: 'public' },
        schema: {
          tags: ['base'],
          response: {
            200: Type.Object({
              api_version: Type.String(),
              client_ip: Type.String(),
              wireguard_network: Type.String(),
              via_wireguard: Type.Boolean(),
              message: Type.String(),
            }),
          },
        },
      },
      async (req) => {
        const via = wgNetwork.contains(req.ip);
        return {
          api_version: 'v1',
          client_ip: normaliseIp(req.ip),
          wireguard_network: ctx.config.wgNetwork,
          via_wireguard: via,
          message: via ? 'Connecté via le tunnel WireGuard' : 'Connexion hors tunnel WireGuard',
        };
      },
    );
  };
}
