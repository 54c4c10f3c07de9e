/** The audit module: the auditors' routes over the trail every module writes through platform/audit/writer. */
import type { AppModule } from '../../platform/module.js';
import { auditRoutes } from './routes.js';

export const auditModule: AppModule = {
  name: 'audit',
  routes: (ctx) => [{ prefix: '/api/v1/audit', plugin: auditRoutes(ctx) }],
};
