/** Password reset by mail, and the security alert mails (new sign-in device) that share its mail plumbing. */
import type { AppModule } from '../../platform/module.js';
import { onPasswordChanged } from '../auth/index.js';
import { passwordResetErrors } from './errors.js';
import { registerPasswordResetGdpr } from './gdpr.js';
import { voidPending } from './repository.js';
import { adminResetRoutes, passwordResetRoutes } from './routes.js';
import { installSecurityAlerts } from './security-alerts.js';

export const passwordResetModule: AppModule = {
  name: 'password-reset',
  errors: [passwordResetErrors],
  setup: (ctx) => {
    installSecurityAlerts(ctx);
    // A reset link mailed to a user's old address must not take over the account after the change.
    ctx.hooks.userEmailChanged.push(async (tx, tenantId, userId) => {
      const voided = await voidPending(tx, tenantId, userId);
      return voided ? { reset_links_voided: voided } : {};
    });
    // A password change (POST /auth/change-password) voids the links mailed before it, in its transaction.
    onPasswordChanged(ctx, voidPending);
    // --- gdpr hooks ---
    registerPasswordResetGdpr(ctx);
  },
  // An admin's reset link for a user (POST /users/{id}/password-reset) reads whether the admin dominates the user.
  needs: ['users'],
  routes: (ctx) => [
    { prefix: '/api/v1/password-reset', plugin: passwordResetRoutes(ctx) },
    { prefix: '/api/v1/users', plugin: adminResetRoutes(ctx) },
  ],
};
