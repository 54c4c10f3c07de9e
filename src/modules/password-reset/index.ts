/** Password reset by mail, and the security alert mails (new sign-in device) that share its mail plumbing. */
import type { AppModule } from '../../platform/module.js';
import { registerPasswordResetGdpr } from './gdpr.js';
import { passwordResetRoutes } from './routes.js';
import { installSecurityAlerts } from './security-alerts.js';

export const passwordResetModule: AppModule = {
  name: 'password-reset',
  setup: (ctx) => {
    installSecurityAlerts(ctx);
    // --- gdpr hooks ---
    registerPasswordResetGdpr(ctx);
  },
  routes: (ctx) => [{ prefix: '/api/v1/password-reset', plugin: passwordResetRoutes(ctx) }],
};
