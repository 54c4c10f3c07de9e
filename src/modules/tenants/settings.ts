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

type LimitsConfig = Pick<Config, 'accessTokenLifetime' | 'refreshTokenLifetime' | 'sessionAbsoluteLifetime'>;

/**
 * The server's ceilings for a tenant's session settings: tenants may shorten lifetimes, never extend them past
 * the server's (the revocation flag and every other expiry are sized on these). PATCH refuses larger values;
 * resolveSettings clamps whatever is stored, since older rows or hand edits may hold larger ones.
 */
export function sessionLimits(config: LimitsConfig): Record<keyof SessionSettings, number> {
  return {
    access_ttl: config.accessTokenLifetime,
    refresh_ttl: config.refreshTokenLifetime,
    absolute_ttl: config.sessionAbsoluteLifetime,
    idle_ttl: config.sessionAbsoluteLifetime,
  };
}

/** A stored lifetime within (0, max]; anything else (missing, not a number, not positive) is the fallback. */
function bounded<T extends number | null>(value: unknown, max: number, fallback: T): number | T {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return fallback;
  return Math.min(Math.floor(value), max);
}

function clampSession(stored: Partial<SessionSettings> | undefined, config: LimitsConfig): SessionSettings {
  const limits = sessionLimits(config);
  const s = stored ?? {};
  return {
    access_ttl: bounded(s.access_ttl, limits.access_ttl, limits.access_ttl),
    refresh_ttl: bounded(s.refresh_ttl, limits.refresh_ttl, limits.refresh_ttl),
    absolute_ttl: bounded(s.absolute_ttl, limits.absolute_ttl, limits.absolute_ttl),
    idle_ttl: bounded(s.idle_ttl, limits.idle_ttl, null),
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
    session: clampSession(s.session, config),
    allowed_ip_ranges: s.allowed_ip_ranges ?? d.allowed_ip_ranges,
    // A stored null (or nothing) follows WG_MAX_PEERS_PER_TENANT, so changing the default reaches every tenant.
    wireguard: { max_peers: s.wireguard?.max_peers ?? d.wireguard.max_peers },
  };
}
