/**
 * The OIDC client registry (API.md §22, docs/oidc-provider.md): the clients of each tenant's OpenID Provider, and
 * the request guard's credential scheme for the machine tokens the provider issues to them (machine-tokens.ts):
 * this module owns the client table, so it decides whether a client's token still opens /api/v1. The provider
 * itself (the oidc-provider module, `/oidc/{tenant slug}`) reads the registry through the exports below.
 */
import type { AppModule } from '../../platform/module.js';
import { oidcClientsErrors } from './errors.js';
import { machineTokenCredentials } from './machine-tokens.js';
import { oidcClientRoutes } from './routes.js';

export const oidcClientsModule: AppModule = {
  name: 'oidc-clients',
  errors: [oidcClientsErrors],
  credentialScheme: machineTokenCredentials,
  routes: (ctx) => [{ prefix: '/api/v1/oidc/clients', plugin: oidcClientRoutes(ctx) }],
  // Creation and rotation answer the client secret.
  noStorePrefixes: ['/api/v1/oidc/clients'],
  secretPatterns: [{ pattern: /\bmcs_[A-Za-z0-9_-]{43}/g, replacement: 'mcs_[REDACTED]' }],
};

// --- exports used by oidc-provider ---
export { SCOPES } from './catalogue.js';
export { apiAudience, tenantIssuer } from './machine-tokens.js';
export type { ProviderClientRow } from './repository.js';
export { clientSecretMatches, providerClient } from './service.js';
