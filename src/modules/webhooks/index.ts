/**
 * The webhooks module (API.md §23, docs/webhooks.md): endpoints per tenant, and a delivery worker on every replica
 * that turns audit records into signed deliveries (the audit log is the transactional outbox).
 */
import type { AppModule } from '../../platform/module.js';
import { webhooksErrors } from './errors.js';
import { scrubDeliveries } from './gdpr.js';
import { webhookRoutes } from './routes.js';
import { startWorker, stopWorker } from './worker.js';

export const webhooksModule: AppModule = {
  name: 'webhooks',
  errors: [webhooksErrors],
  setup: (ctx) => {
    startWorker(ctx);
    // In the data phase: the audit phase deletes the personal values this looks for.
    ctx.hooks.gdprErase.push({
      name: 'webhooks',
      erase: (tx, tenantId, userId, _afterCommit, erasure) => scrubDeliveries(tx, tenantId, userId, erasure),
    });
  },
  stop: (ctx) => stopWorker(ctx),
  routes: (ctx) => [{ prefix: '/api/v1/webhooks', plugin: webhookRoutes(ctx) }],
  // Creation and rotation answer the signing secret.
  noStorePrefixes: ['/api/v1/webhooks'],
  secretPatterns: [{ pattern: /\bwhsec_[A-Za-z0-9+/=]+/g, replacement: 'whsec_[REDACTED]' }],
};
