/**
 * Tenant settings (API.md §11), declared ONCE here in TypeBox: the response shape, the two PATCH bodies and the
 * TypeScript type all derive from these schemas, so a new setting is added in one place. Stored as a partial JSON
 * document, read through resolveSettings (defaults and server-side bounds applied in that one function).
 */
import { type Static, Type } from '@sinclair/typebox';
import type { Config } from '../../config.js';
import { validationError } from '../../platform/http/errors.js';
import { Nullable } from '../../platform/http/schemas.js';

const strict = { additionalProperties: false } as const;

const PasswordPolicySchema = Type.Object(
  {
    min_length: Type.Integer({ minimum: 8, maximum: 128 }),
    /** How many of the four classes (upper, lower, digit, special) a password must contain. */
    require_classes: Type.Integer({ minimum: 0, maximum: 4 }),
    check_common: Type.Boolean(),
    /** Breach lookups need an outside service; accepted and stored, not enforced (see docs/decisions.md). */
    check_breached: Type.Boolean(),
  },
  strict,
);

const SessionSettingsSchema = Type.Object(
  {
    access_ttl: Type.Integer({ minimum: 60, maximum: 86_400 }),
    refresh_ttl: Type.Integer({ minimum: 300, maximum: 90 * 86_400 }),
    absolute_ttl: Type.Integer({ minimum: 300, maximum: 365 * 86_400 }),
    idle_ttl: Nullable(Type.Integer({ minimum: 60, maximum: 90 * 86_400 })),
  },
  strict,
);

const WireguardSettingsSchema = Type.Object(
  {
    /** Non-revoked peers the tenant may hold (one tenant must not drain the shared address pool). */
    max_peers: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
  },
  strict,
);

export const TenantSettingsSchema = Type.Object({
  self_registration: Type.Boolean(),
  mfa_required: Type.Boolean(),
  password_policy: PasswordPolicySchema,
  session: SessionSettingsSchema,
  allowed_ip_ranges: Type.Array(Type.String({ minLength: 2, maxLength: 64 }), { maxItems: 100 }),
  audit_retention_days: Nullable(Type.Integer({ minimum: 1, maximum: 3650 })),
  /** Set by platform operators only (PATCH /tenants/{id}); tenants read it. */
  wireguard: WireguardSettingsSchema,
});

export type TenantSettings = Static<typeof TenantSettingsSchema>;
export type PasswordPolicy = TenantSettings['password_policy'];
export type SessionSettings = TenantSettings['session'];
export type WireguardSettings = TenantSettings['wireguard'];

const S = TenantSettingsSchema.properties;

/** PATCH /tenants/current: what a tenant admin may change; nested objects merge key by key (mergeSettings). */
export const TenantSettingsPatchSchema = Type.Object(
  {
    self_registration: Type.Optional(S.self_registration),
    mfa_required: Type.Optional(S.mfa_required),
    password_policy: Type.Optional(Type.Partial(PasswordPolicySchema, strict)),
    session: Type.Optional(Type.Partial(SessionSettingsSchema, strict)),
    allowed_ip_ranges: Type.Optional(S.allowed_ip_ranges),
    audit_retention_days: Type.Optional(S.audit_retention_days),
  },
  strict,
);
export type TenantSettingsPatch = Static<typeof TenantSettingsPatchSchema>;

/** PATCH /tenants/{id}: settings only platform operators set; null returns to the server default. */
export const PlatformSettingsPatchSchema = Type.Object(
  {
    wireguard: Type.Optional(
      Type.Object(
        // null: back to WG_MAX_PEERS_PER_TENANT.
        { max_peers: Type.Optional(Nullable(WireguardSettingsSchema.properties.max_peers)) },
        strict,
      ),
    ),
  },
  strict,
);
export type PlatformSettingsPatch = Static<typeof PlatformSettingsPatchSchema>;

/** What the stored document may hold: any subset, nested objects partial too (older rows, patches). */
export type StoredTenantSettings = Partial<
  Omit<TenantSettings, 'password_policy' | 'session' | 'wireguard'> & {
    password_policy: Partial<PasswordPolicy>;
    session: Partial<SessionSettings>;
    wireguard: Partial<WireguardSettings>;
  }
>;

export type SettingsConfig = Pick<
  Config,
  'accessTokenLifetime' | 'refreshTokenLifetime' | 'sessionAbsoluteLifetime' | 'wgMaxPeersPerTenant'
>;

export function defaultSettings(config: SettingsConfig): TenantSettings {
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

/** Tenants may only shorten the server's lifetimes (a longer access token would outlive its revocation). */
export function checkSessionLimits(patch: TenantSettingsPatch['session'], config: LimitsConfig): void {
  const limits = sessionLimits(config);
  for (const field of ['access_ttl', 'refresh_ttl', 'absolute_ttl', 'idle_ttl'] as const) {
    const value = patch?.[field];
    if (typeof value === 'number' && value > limits[field])
      throw validationError(
        `body.settings.session.${field}`,
        `must be at most ${limits[field]} (the server's limit)`,
        'maximum',
      );
  }
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

/** The one reader of stored settings: the stored (partial) document over the defaults, bounds applied. */
export function resolveSettings(
  stored: StoredTenantSettings | null | undefined,
  config: SettingsConfig,
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

/** Merges a tenant admin's patch over the stored (partial) settings; nested objects merge key by key. */
export function mergeSettings(
  stored: StoredTenantSettings,
  patch: TenantSettingsPatch,
): StoredTenantSettings {
  const out: StoredTenantSettings = { ...stored };
  if (patch.self_registration !== undefined) out.self_registration = patch.self_registration;
  if (patch.mfa_required !== undefined) out.mfa_required = patch.mfa_required;
  if (patch.audit_retention_days !== undefined) out.audit_retention_days = patch.audit_retention_days;
  if (patch.allowed_ip_ranges !== undefined) out.allowed_ip_ranges = patch.allowed_ip_ranges;
  if (patch.password_policy)
    out.password_policy = { ...(stored.password_policy ?? {}), ...patch.password_policy };
  if (patch.session) out.session = { ...(stored.session ?? {}), ...patch.session };
  return out;
}

/** Applies a platform operator's patch (wireguard.max_peers; null removes the override). */
export function mergePlatformSettings(
  stored: StoredTenantSettings,
  patch: PlatformSettingsPatch | undefined,
): StoredTenantSettings {
  const out: StoredTenantSettings = { ...stored };
  const maxPeers = patch?.wireguard?.max_peers;
  if (maxPeers === null) delete out.wireguard;
  else if (maxPeers !== undefined) out.wireguard = { ...out.wireguard, max_peers: maxPeers };
  return out;
}
