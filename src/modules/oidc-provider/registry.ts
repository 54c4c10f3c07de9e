/**
 * The providers of this replica, one per tenant that has been asked for, built on first use and kept in a
 * bounded LRU. A provider is rebuilt when the signing keys change (a rotation on any replica: the key set's
 * version) so it signs with the current key and publishes the previous ones while they verify. Everything a
 * provider keeps between requests is in PostgreSQL or the store, so dropping one from the cache loses nothing.
 */
import { LRUCache } from 'lru-cache';
import type Provider from 'oidc-provider';
import { keys as storeKeys } from '../../platform/store/keys.js';
import { getTenant, normaliseSlug, resolveTenantId } from '../tenants/index.js';
import type { OidcProviderDeps } from './deps.js';
import { createTenantProvider, type TenantIssuer } from './provider.js';

export interface ProviderEntry {
  tenant: TenantIssuer;
  provider: Provider;
  keysVersion: string;
}

export interface ProviderRegistry {
  /** The tenant's provider, or null when no active tenant has this slug (the issuer does not exist). */
  forSlug(slug: string): Promise<ProviderEntry | null>;
}

const MAX_PROVIDERS = 200;

export function createProviderRegistry(deps: OidcProviderDeps): ProviderRegistry {
  const tenants = new LRUCache<string, TenantIssuer>({ max: 1000, ttl: 60_000 });
  const providers = new LRUCache<number, ProviderEntry>({ max: MAX_PROVIDERS });

  async function tenantOf(slug: string): Promise<TenantIssuer | null> {
    const known = tenants.get(slug);
    if (known) return known;
    let id: number | null;
    try {
      id = await resolveTenantId(deps, slug);
    } catch {
      return null; // not a slug at all
    }
    if (id === null) return null;
    const row = await deps.database.withSystem((tx) => getTenant(tx, id));
    // The issuer is the slug exactly as stored: /oidc/ACME is not /oidc/acme (issuers compare as strings).
    if (!row || row.slug !== slug) return null;
    const tenant = { id: row.id, slug: row.slug, name: row.name };
    tenants.set(slug, tenant);
    return tenant;
  }

  return {
    async forSlug(slug) {
      if (normaliseSlug(slug) !== slug) return null;
      const tenant = await tenantOf(slug);
      if (!tenant) return null;
      const [suspended] = await deps.store.mget([storeKeys.tenantSuspended(tenant.id)]);
      if (suspended) return null;
      const keySet = await deps.jwt.providerKeys();
      const known = providers.get(tenant.id);
      if (known && known.keysVersion === keySet.version) return known;
      const entry = {
        tenant,
        provider: await createTenantProvider(deps, tenant, { keys: keySet.keys }),
        keysVersion: keySet.version,
      };
      providers.set(tenant.id, entry);
      return entry;
    },
  };
}
