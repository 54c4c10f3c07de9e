/**
 * The auth module's part of GDPR erasure: the failed-attempt counters are keyed by the email in the store, so
 * they go too, once the erasure has committed (a rolled-back erasure keeps the brute-force protection).
 */
import type { AppContext } from '../../platform/context.js';
import { clearLoginAttempts } from './lockout.js';

export function registerAuthGdpr(ctx: AppContext): void {
  ctx.hooks.gdprErase.push({
    name: 'login_attempts',
    erase: async (_tx, tenantId, _userId, afterCommit, erasure) => {
      afterCommit(() => clearLoginAttempts(ctx, tenantId, erasure.email));
    },
  });
}
