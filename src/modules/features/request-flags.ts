/**
 * `await request.flags.isEnabled('key')` for every module: evaluated for the caller on first use, then
 * memoised for the rest of the request (never across requests, so flag changes show on the next one).
 * Installed at the root (not encapsulated) so routes of every module see it.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { FeaturesDeps } from './deps.js';
import { evaluateFlags } from './service.js';

export interface RequestFlags {
  /** Unknown flags are off. */
  isEnabled(key: string): Promise<boolean>;
  all(): Promise<Record<string, boolean>>;
}

declare module 'fastify' {
  interface FastifyRequest {
    flags: RequestFlags;
  }
}

const memo = Symbol('flags');

export function requestFlagsPlugin(ctx: FeaturesDeps): FastifyPluginAsync {
  const plugin: FastifyPluginAsync = async (app) => {
    app.decorateRequest('flags', {
      getter(this: FastifyRequest): RequestFlags {
        const self = this as FastifyRequest & { [memo]?: RequestFlags };
        if (!self[memo]) {
          let loaded: Promise<Record<string, boolean>> | null = null;
          // Read the principal lazily: the guard sets it after the request object exists.
          const all = () => (loaded ??= evaluateFlags(ctx, this.principal));
          self[memo] = { all, isEnabled: async (key) => (await all())[key] === true };
        }
        return self[memo];
      },
    });
  };
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return plugin;
}
