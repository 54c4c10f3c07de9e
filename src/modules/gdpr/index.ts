/** The GDPR module: export, erasure, anonymisation and the processing inventory. */
import type { AppModule } from '../../platform/module.js';
import { gdprErrors } from './errors.js';
import { gdprRoutes } from './routes.js';

export const gdprModule: AppModule = {
  name: 'gdpr',
  errors: [gdprErrors],
  routes: (ctx) => [{ prefix: '/api/v1/gdpr', plugin: gdprRoutes(ctx) }],
};
