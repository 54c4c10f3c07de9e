/** Tenant settings (API.md §11): stored as a partial JSON document, read merged over these defaults. */
import type { Config } from '../../config.js';

export interface PasswordPolicy {
  min_length: number;
  /** How many of the four classes (upper, lower, digit, special) a password must contain. */
  require_classes: number;
  check_common: boolean;
  /** Breach lookups need an outside service; accepted and stored, not enforced (see docs/decisions.md). */
  check_breached: boolean;
}

export interface SessionSettings {
  access_ttl: number;
  refresh_ttl: number;
  absolute_ttl: number;
  idle_ttl: number | null;
}

export interface TenantSettings {
  self_registration: boolean;
  mfa_required: boolean;
  password_policy: PasswordPolicy;
  session: SessionSettings;
  allowed_ip_ranges: string[];
  audit_retention_days: number | null;
  /** Set by platform operators only (PATCH /tenants/{id}); tenants read it. */
  wireguard: WireguardSettings;
}

export interface WireguardSettings {
  /** Non-revoked peers the tenant may hold (one tenant must not drain the shared address pool). */
  max_peers: number;
}

export function defaultSettings(
  config: Pick<
    Config,
    'accessTokenLifetime' | 'refreshTokenLifetime' | 'sessionAbsoluteLifetime' | 'wgMaxPeersPerTenant'
  >,
): TenantSettings {
  return {
    self_registration: false,
    mfa_required: false,
    password_policy: { min_length: 8, require_classes: 4, check_common: true, check_breached: false },
    session: {
      access_ttl: config.accessTokenLifetime,
      refresh_ttl: config.refreshTokenLifetime,
      absolute_ttl: config.sessionAbsoluteLifetime,
      idle_ttl: null,
    },
    allowed_ip_ranges: [],
    audit_retention_days: null,
    wireguard: { max_peers: config.wgMaxPeersPerTenant },
  };
}

export function resolveSettings(
  stored: Partial<TenantSettings> | null | undefined,
  config: Parameters<typeof defaultSettings>[0],
): TenantSettings {
  const d = defaultSettings(config);
  const s = stored ?? {};
  return {
    ...d,
    ...s,
    password_policy: { ...d.password_policy, ...(s.password_policy ?? {}) },
    session: { ...d.session, ...(s.session ?? {}) },
    allowed_ip_ranges: s.allowed_ip_ranges ?? d.allowed_ip_ranges,
    // A stored null (or nothing) follows WG_MAX_PEERS_PER_TENANT, so changing the default reaches every tenant.
    wireguard: { max_peers: s.wireguard?.max_peers ?? d.wireguard.max_peers },
  };
}
