/**
 * The SCIM module's door: SCIM 2.0 provisioning (RFC 7643/7644) at /scim/v2 (API.md §17.5, §20), authenticated by
 * an API key with scope `scim`, and the directory groups it pushes, which tenant administrators map to roles at
 * /api/v1/directory. Users go through the users module's own creation, update and deletion; a mapped group's
 * membership grants its roles through the RBAC service (drizzle/0013_scim.sql, 0030_directory_groups.sql).
 */
import type { AppModule } from '../../platform/module.js';
import { directoryRoutes } from './directory-routes.js';
import { SCIM_PREFIX } from './resources.js';
import { scimRoutes } from './routes.js';

export const scimModule: AppModule = {
  name: 'scim',
  // No error code of its own.
  errors: [],
  routes: (ctx) => [
    { prefix: SCIM_PREFIX, plugin: scimRoutes(ctx) },
    { prefix: '/api/v1', plugin: directoryRoutes(ctx) },
  ],
  guardedPrefixes: [`${SCIM_PREFIX}/`],
};
