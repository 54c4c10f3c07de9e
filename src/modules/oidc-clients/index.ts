/**
 * The OIDC client registry (API.md §22, docs/oidc-provider.md): the clients of each tenant's OpenID Provider.
 * This step is the registry only; the protocol endpoints (`/oidc/{tenant slug}`) come next and read it.
 */
import type { AppModule } from '../../platform/module.js';
import { oidcClientsErrors } from './errors.js';
import { oidcClientRoutes } from './routes.js';

export const oidcClientsModule: AppModule = {
  name: 'oidc-clients',
  errors: [oidcClientsErrors],
  routes: (ctx) => [{ prefix: '/api/v1/oidc/clients', plugin: oidcClientRoutes(ctx) }],
  // Creation and rotation answer the client secret.
  noStorePrefixes: ['/api/v1/oidc/clients'],
  secretPatterns: [{ pattern: /\bmcs_[A-Za-z0-9_-]{43}/g, replacement: 'mcs_[REDACTED]' }],
};
