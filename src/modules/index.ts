/**
 * Every feature module, in registration order. A module contributes setup (filling the context's extension
 * points: authenticators, permission resolver, hooks) and route plugins mounted under their prefixes.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../platform/context.js';
import { apiKeysModule } from './api-keys/index.js';
import { auditModule } from './audit/index.js';
import { authModule } from './auth/index.js';
import { featuresModule } from './features/index.js';
import { gdprModule } from './gdpr/index.js';
import { mfaModule } from './mfa/index.js';
import { passwordResetModule } from './password-reset/index.js';
import { setupRbac } from './rbac/index.js';
import { rbacRoutes } from './rbac/routes.js';
import { sessionsModule } from './sessions/index.js';
import { tenantRoutes } from './tenants/routes.js';
import { usersModule } from './users/index.js';
import { wireguardModule } from './wireguard/index.js';

export interface AppModule {
  name: string;
  setup?: (ctx: AppContext) => void | Promise<void>;
  routes: (ctx: AppContext) => { prefix: string; plugin: FastifyPluginAsyncTypebox }[];
}

export const modules: AppModule[] = [
  authModule,
  sessionsModule,
  { name: 'tenants', routes: (ctx) => [{ prefix: '/api/v1/tenants', plugin: tenantRoutes(ctx) }] },
  auditModule,
  gdprModule,
  passwordResetModule,
  // Installs the permission resolver; must come before modules that wrap it (api-keys).
  { name: 'rbac', setup: setupRbac, routes: (ctx) => [{ prefix: '/api/v1', plugin: rbacRoutes(ctx) }] },
  usersModule,
  wireguardModule,
  mfaModule,
  // After rbac: api-keys wraps the permission resolver that rbac installs.
  apiKeysModule,
  featuresModule,
];
