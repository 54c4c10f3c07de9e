/** The audit module: the auditors' routes over the trail every module writes through platform/audit/writer. */
import type { AppModule } from '../../platform/module.js';
import { registerAuditGdpr } from './gdpr.js';
import { auditRoutes } from './routes.js';

export const auditModule: AppModule = {
  name: 'audit',
  // No error code of its own.
  errors: [],
  setup: (ctx) => {
    // --- gdpr hooks ---
    registerAuditGdpr(ctx);
  },
  routes: (ctx) => [{ prefix: '/api/v1/audit', plugin: auditRoutes(ctx) }],
};

// --- exports used by gdpr ---
export { AuditRecord } from './schemas.js';
