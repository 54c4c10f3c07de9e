/** The audit module: the auditors' routes over the trail every module writes through platform/audit/writer. */
import { ensureAuditPartitions } from '../../platform/audit/retention.js';
import type { AppContext } from '../../platform/context.js';
import type { AppModule } from '../../platform/module.js';
import { registerAuditGdpr } from './gdpr.js';
import { auditRoutes } from './routes.js';

const DAY_MS = 86_400_000;
const RETRY_MS = 60_000;
const partitionTimers = new WeakMap<AppContext, NodeJS.Timeout>();

/**
 * Keeps audit_log's monthly partitions made three months ahead (drizzle/0034): now, then daily; a failure (the
 * database down at start) is logged and tried again a minute later. Records never wait for this: a month without
 * its partition lands in the default one.
 */
function maintainPartitions(ctx: AppContext): void {
  const run = () => {
    ensureAuditPartitions(ctx.database, new Date())
      .then(() => schedule(DAY_MS))
      .catch((err: unknown) => {
        ctx.log.warn({ err }, 'audit_log partitions: could not make the coming months; trying again');
        schedule(RETRY_MS);
      });
  };
  const schedule = (ms: number) => {
    if (!partitionTimers.has(ctx)) return; // stopped
    partitionTimers.set(ctx, setTimeout(run, ms).unref());
  };
  partitionTimers.set(ctx, setTimeout(run, 0).unref());
}

export const auditModule: AppModule = {
  name: 'audit',
  // No error code of its own.
  errors: [],
  setup: (ctx) => {
    // --- gdpr hooks ---
    registerAuditGdpr(ctx);
    maintainPartitions(ctx);
  },
  stop: (ctx) => {
    clearTimeout(partitionTimers.get(ctx));
    partitionTimers.delete(ctx);
  },
  routes: (ctx) => [{ prefix: '/api/v1/audit', plugin: auditRoutes(ctx) }],
};

// --- exports used by gdpr ---
export { AuditRecord } from './schemas.js';
