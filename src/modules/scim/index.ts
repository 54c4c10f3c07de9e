/**
 * The SCIM module's door: SCIM 2.0 provisioning for Okta and Entra ID at /scim/v2 (API.md §17), authenticated by
 * an API key with scope `scim`. Users go through the users module's own creation, update and deletion; groups are
 * the tenant's roles and their members are role assignments made by the RBAC service. Stores only the IdP's
 * externalId of each user (drizzle/0013_scim.sql).
 */
import type { AppModule } from '../../platform/module.js';
import { SCIM_PREFIX } from './resources.js';
import { scimRoutes } from './routes.js';

export const scimModule: AppModule = {
  name: 'scim',
  // No error code of its own.
  errors: [],
  routes: (ctx) => [{ prefix: SCIM_PREFIX, plugin: scimRoutes(ctx) }],
  guardedPrefixes: [`${SCIM_PREFIX}/`],
};
