/** Base routes (API.md §4): no auth, no /api/v1 prefix, except /api/v1/info which is public. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import { CidrSet, normaliseIp } from './network.js';

export function baseRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  const wgNetwork = new CidrSet([ctx.config.wgNetwork]);
  return async (app) => {
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

    app.get('/ready', { schema: { tags: ['base'] } }, async (_req, reply) => {
      const check = async (fn: () => Promise<unknown>) => {
        const t0 = performance.now();
        try {
          await fn();
          return { status: 'ok', latency_ms: Math.round((performance.now() - t0) * 100) / 100 };
        } catch (err) {
          return { status: 'error', error: (err as Error).message.slice(0, 200) };
        }
      };
      const [database, redis] = await Promise.all([
        check(() => ctx.database.query('select 1')),
        check(() => ctx.store.ping()),
      ]);
      const checks = {
        database: { ...database, backend: ctx.database.kind },
        redis: { ...redis, backend: ctx.store.kind },
      };
      const ok = database.status === 'ok' && redis.status === 'ok';
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'error', checks });
    });

    app.get('/metrics', { schema: { tags: ['base'], hide: true } }, async (_req, reply) => {
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
