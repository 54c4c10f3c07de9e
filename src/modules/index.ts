/**
 * Every feature module, in registration order. Each module declares its own `<m>Module` in its index.ts (see
 * AppModule in platform/module.ts); this list only orders them.
 */
import type { AppModule } from '../platform/module.js';
import { apiKeysModule } from './api-keys/index.js';
import { auditModule } from './audit/index.js';
import { authModule } from './auth/index.js';
import { featuresModule } from './features/index.js';
import { gdprModule } from './gdpr/index.js';
import { mfaModule } from './mfa/index.js';
import { passwordResetModule } from './password-reset/index.js';
import { rbacModule } from './rbac/index.js';
import { sessionsModule } from './sessions/index.js';
import { ssoModule } from './sso/index.js';
import { tenantAdminModule } from './tenant-admin/index.js';
import { tenantsModule } from './tenants/index.js';
import { usersModule } from './users/index.js';
import { wireguardModule } from './wireguard/index.js';

export const modules: AppModule[] = [
  authModule,
  sessionsModule,
  // Installs ctx.tenancy, which the request guard reads.
  tenantsModule,
  tenantAdminModule,
  auditModule,
  gdprModule,
  passwordResetModule,
  // Installs the permission resolver; must come before modules that wrap it (api-keys).
  rbacModule,
  usersModule,
  wireguardModule,
  mfaModule,
  // After rbac: api-keys wraps the permission resolver that rbac installs.
  apiKeysModule,
  featuresModule,
  ssoModule,
];
