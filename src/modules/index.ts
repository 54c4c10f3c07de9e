/**
 * Every feature module, in registration order. A module contributes setup (filling the context's extension
 * points: authenticators, permission resolver, hooks) and route plugins mounted under their prefixes.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../platform/context.js';
import { authRoutes } from './auth/routes.js';
import { sessionRoutes } from './sessions/routes.js';
import { tenantRoutes } from './tenants/routes.js';

export interface AppModule {
  name: string;
  setup?: (ctx: AppContext) => void | Promise<void>;
  routes: (ctx: AppContext) => { prefix: string; plugin: FastifyPluginAsyncTypebox }[];
}

export const modules: AppModule[] = [
  { name: 'auth', routes: (ctx) => [{ prefix: '/api/v1/auth', plugin: authRoutes(ctx) }] },
  { name: 'sessions', routes: (ctx) => [{ prefix: '/api/v1/sessions', plugin: sessionRoutes(ctx) }] },
  { name: 'tenants', routes: (ctx) => [{ prefix: '/api/v1/tenants', plugin: tenantRoutes(ctx) }] },
];
