/**
 * What a feature module hands the composition root. A module contributes setup (filling the context's extension
 * points: authenticators, permission resolver, hooks) and route plugins mounted under their prefixes. It lives
 * in the platform so a module's own index.ts can declare its `<m>Module` without importing the module list.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from './context.js';

export interface AppModule {
  name: string;
  setup?: (ctx: AppContext) => void | Promise<void>;
  routes: (ctx: AppContext) => { prefix: string; plugin: FastifyPluginAsyncTypebox }[];
}
