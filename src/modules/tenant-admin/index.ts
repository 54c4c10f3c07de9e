/**
 * The tenant-admin module's door: platform operators' tenant routes (list, create with a first admin, suspend,
 * reactivate, delete, operator settings) under /api/v1/tenants, and tenant creation for the CLI and tests. It
 * orchestrates tenants, sessions and users through their doors.
 */
import type { AppModule } from '../../platform/module.js';
import { tenantAdminErrors } from './errors.js';
import { platformTenantRoutes } from './routes.js';

export const tenantAdminModule: AppModule = {
  name: 'tenant-admin',
  errors: [tenantAdminErrors],
  routes: (ctx) => [{ prefix: '/api/v1/tenants', plugin: platformTenantRoutes(ctx) }],
};

export { generatePassword, seedIfEmpty } from './seed.js';
export { createTenant } from './service.js';
