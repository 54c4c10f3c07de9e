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
import { rbacModule } from './rbac/index.js';
import { sessionsModule } from './sessions/index.js';
import { tenantAdminModule } from './tenant-admin/index.js';
import { tenantsModule } from './tenants/index.js';
import { usersModule } from './users/index.js';
import { wireguardRoutes, wireguardSetup } from './wireguard/routes.js';

export interface AppModule {
  name: string;
  setup?: (ctx: AppContext) => void | Promise<void>;
  routes: (ctx: AppContext) => { prefix: string; plugin: FastifyPluginAsyncTypebox }[];
}

export const modules: AppModule[] = [
  authModule,
  sessionsModule,
  tenantsModule,
  tenantAdminModule,
  auditModule,
  gdprModule,
  passwordResetModule,
  // Installs the permission resolver; must come before modules that wrap it (api-keys).
  rbacModule,
  usersModule,
  {
    name: 'wireguard',
    setup: wireguardSetup,
    routes: (ctx) => [{ prefix: '/api/v1/wireguard', plugin: wireguardRoutes(ctx) }],
  },
  mfaModule,
  // After rbac: api-keys wraps the permission resolver that rbac installs.
  apiKeysModule,
  featuresModule,
];
