/**
 * Every feature module. Each module declares its own `<m>Module` in its index.ts (see AppModule in
 * platform/module.ts), with what it provides and what it needs: app.ts builds the providers in need order
 * (platform/module-order.ts), so this list orders only what the needs leave open: hook subscriptions (module
 * setup, e.g. the sections of a GDPR export) and route registration follow it.
 */
import type { AppModule } from '../platform/module.js';
import { apiKeysModule } from './api-keys/index.js';
import { auditModule } from './audit/index.js';
import { authModule } from './auth/index.js';
import { featuresModule } from './features/index.js';
import { gdprModule } from './gdpr/index.js';
import { invitationsModule } from './invitations/index.js';
import { mfaModule } from './mfa/index.js';
import { oidcClientsModule } from './oidc-clients/index.js';
import { oidcProviderModule } from './oidc-provider/index.js';
import { passwordResetModule } from './password-reset/index.js';
import { rbacModule } from './rbac/index.js';
import { scimModule } from './scim/index.js';
import { sessionsModule } from './sessions/index.js';
import { ssoModule } from './sso/index.js';
import { tenantAdminModule } from './tenant-admin/index.js';
import { tenantsModule } from './tenants/index.js';
import { usersModule } from './users/index.js';
import { webhooksModule } from './webhooks/index.js';
import { wireguardModule } from './wireguard/index.js';

export const modules: AppModule[] = [
  authModule,
  sessionsModule,
  tenantsModule,
  tenantAdminModule,
  auditModule,
  gdprModule,
  passwordResetModule,
  rbacModule,
  usersModule,
  wireguardModule,
  mfaModule,
  apiKeysModule,
  featuresModule,
  ssoModule,
  // Invitations: accepted with a password or at a first SSO sign-in (ctx.hooks.invitedSignUp).
  invitationsModule,
  // SCIM provisioning at /scim/v2 (uses users, rbac and the api-keys scope `scim`).
  scimModule,
  // Webhooks and audit streams: reads every module's audit records (the outbox).
  webhooksModule,
  // The OIDC client registry (the OpenID Provider's clients).
  oidcClientsModule,
  // Each tenant's OpenID Provider at /oidc/{slug} (reads the registry, users, roles, signing keys).
  oidcProviderModule,
];
