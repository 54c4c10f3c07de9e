/**
 * The MFA module: fills ctx.mfa (status, one-step login) and the GDPR hooks, and mounts /api/v1/mfa plus the
 * second sign-in step under /api/v1/auth.
 */
import type { AppContext, MfaProvider } from '../../platform/context.js';
import type { AppModule } from '../../platform/module.js';
import { mfaErrors } from './errors.js';
import { inlineLogin } from './login.js';
import { mfaEnabledSql } from './repository.js';
import { mfaAdminRoutes } from './routes.admin.js';
import { mfaRoutes } from './routes.js';
import { mfaLoginRoutes } from './routes.login.js';
import { gdprErase, gdprExport, mfaStatus } from './service.js';

/** The MFA provider: what users, auth and SSO ask of MFA without importing this module. */
function mfaProvider(ctx: AppContext): MfaProvider {
  return {
    status: (tx, tenantId, userId) => mfaStatus(ctx, tx, tenantId, userId),
    enabledSql: mfaEnabledSql,
    inlineLogin: (tenant, user, code, client, audit) => inlineLogin(ctx, tenant, user, code, client, audit),
  };
}

function setupMfa(ctx: AppContext): void {
  ctx.hooks.gdprExport.push({ name: 'mfa', collect: gdprExport });
  ctx.hooks.gdprErase.push({ name: 'mfa', erase: gdprErase });
}

export const mfaModule: AppModule = {
  name: 'mfa',
  errors: [mfaErrors],
  provides: { mfa: mfaProvider },
  setup: setupMfa,
  noStorePrefixes: ['/api/v1/mfa'],
  // A user whom the tenant requires to enrol still reaches the enrolment routes.
  mfaEnrolmentPrefixes: ['/api/v1/mfa'],
  routes: (ctx) => [
    { prefix: '/api/v1/mfa', plugin: mfaRoutes(ctx) },
    { prefix: '/api/v1/auth', plugin: mfaLoginRoutes(ctx) },
    // An admin's reset of a user's factors (issue 20).
    { prefix: '/api/v1/users', plugin: mfaAdminRoutes(ctx) },
  ],
};

// --- exports used by cli ---
export { totpAad } from './factors.js';
