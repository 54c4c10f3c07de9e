/**
 * Access and short-lived purpose tokens (MFA step, enrolment) with jose. Only the configured algorithm is
 * accepted, so `none` and algorithm-confusion tokens are refused before any claim is read. Every token names
 * its signing key (`kid`); the keys come from the key ring (jwt-keys.ts, API.md §19).
 */
import { createHash, randomUUID } from 'node:crypto';
import { type JWK, type JWTHeaderParameters, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Config } from '../../config.js';
import { type Clock, systemClock } from '../clock.js';
import type { Database } from '../db/client.js';
import { keys as storeKeys } from '../store/keys.js';
import type { KeyValueStore } from '../store/types.js';
import type { SecretBox } from './aes-gcm.js';
import {
  envOnlyKeySet,
  isSymmetric,
  type KeyAlgorithm,
  type LoadedKeySet,
  loadKeySet,
  loadPrivateKeys,
  type PrivateKeyEntry,
  type RotationResult,
  rotateKey,
} from './jwt-keys.js';

/**
 * What the OpenID Provider signs with (docs/oidc-provider.md), whatever JWT_ALGORITHM is. RS256 first: the
 * provider signs with the first key of an algorithm it finds, and RS256 is the default of ID tokens.
 */
export const PROVIDER_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
export type ProviderAlgorithm = (typeof PROVIDER_ALGORITHMS)[number];
export const isProviderAlgorithm = (alg: string): alg is ProviderAlgorithm =>
  (PROVIDER_ALGORITHMS as readonly string[]).includes(alg);

/** The OpenID Provider's keys; `version` changes exactly when the set of kids does. */
export interface ProviderKeySet {
  version: string;
  keys: JWK[];
}

export interface AccessClaims {
  sub: string;
  tenant_id: number;
  type: 'access';
  session_id: string;
  email: string;
  jti: string;
  iat: number;
  exp: number;
  /** Set while the tenant or a role requires MFA and the user has not enrolled yet. */
  mfa_enrolment?: boolean;
}

export type PurposeClaims = Record<string, unknown> & {
  type: string;
  sub: string;
  tenant_id: number;
  jti: string;
  exp: number;
};

export class JwtError extends Error {
  constructor(public readonly reason: 'expired' | 'invalid') {
    super(reason);
  }
}

export interface JwtService {
  signAccess(
    claims: Omit<AccessClaims, 'jti' | 'iat' | 'exp' | 'type'>,
    lifetimeSeconds: number,
  ): Promise<string>;
  verifyAccess(token: string): Promise<AccessClaims>;
  signPurpose(
    type: string,
    claims: Record<string, unknown> & { sub: string; tenant_id: number },
    lifetimeSeconds: number,
  ): Promise<string>;
  verifyPurpose(token: string, type: string): Promise<PurposeClaims>;
  /** Reads (EdDSA/ES256: creates on first start) the signing keys; buildApp awaits it before serving. */
  init(): Promise<void>;
  /** The public keys that verify tokens now (current and previous); empty under HS*. */
  jwks(): Promise<{ keys: JWK[] }>;
  /**
   * `keys rotate-jwt`: a new current key of `alg` (default: JWT_ALGORITHM; or one of PROVIDER_ALGORITHMS); the
   * previous one verifies until every token it signed has expired (the OpenID Provider's: max(3600 s, access
   * lifetime) + skew).
   */
  rotate(alg?: KeyAlgorithm): Promise<RotationResult>;
  /** The algorithms `keys rotate-jwt` rotates without `--alg`: JWT_ALGORITHM's, then the provider's, once each. */
  rotationAlgorithms(): KeyAlgorithm[];
  /**
   * The OpenID Provider's PRIVATE JWKs (kid, alg, use: 'sig'): the current RS256, ES256 and EdDSA keys in that
   * order, then the previous keys still inside their verify window. Missing keys are created on the first call.
   * Cached per replica: re-read each minute and when a rotation flag in the store names another current key.
   */
  providerKeys(): Promise<ProviderKeySet>;
  /** The public halves of providerKeys (same order, same version): what verifies the provider's tokens. */
  providerPublicJwks(): Promise<ProviderKeySet>;
  /** The kid new tokens are signed with (as this replica knows it). */
  currentKid(): string;
  /** Stops the periodic re-read of the key set (app close). */
  close(): void;
}

/** Clock skew allowed between replicas and verifiers (same value as the session revocation flag's margin). */
export const KEY_OVERLAP_SKEW_SECONDS = 60;
/**
 * Every replica re-reads the key set this often (real time), whatever the store says: shorter than the shortest
 * overlap window (ACCESS_TOKEN_LIFETIME >= 30 s, + 60 s skew), so a replica learns of a retirement in time.
 */
const KEY_SET_REFRESH_MS = 60_000;
/** An unknown kid triggers at most one re-read of the key set per this interval (random kids cost no I/O). */
const UNKNOWN_KID_RELOAD_MS = 1000;

/** The longest lifetime of a token the OpenID Provider signs (ID and access tokens). */
export const PROVIDER_TOKEN_MAX_LIFETIME_SECONDS = 3600;

/** The key set could not be read while verifying: not the token's fault (the error handler answers 503). */
class KeySetUnavailable extends Error {}

export interface JwtKeyDeps {
  database: Database;
  store: KeyValueStore;
  secretBox: SecretBox;
  log?: { warn(obj: Record<string, unknown>, msg: string): void };
}

/**
 * Issue and verification read the same clock (the app's), so a test that moves it sees tokens expire. Access
 * tokens never live longer than ACCESS_TOKEN_LIFETIME, whatever a caller asks for: the session revocation flag
 * is sized on that ceiling (sessions/service.ts revocationTtlSeconds), so a longer token would outlive it.
 * Without `keys` (unit use) only the JWT_SECRET key exists and only HS* works.
 */
export function createJwtService(
  config: Pick<
    Config,
    'jwtSecret' | 'jwtAlgorithm' | 'jwtIssuer' | 'jwtAudience' | 'accessTokenLifetime' | 'mfaSessionLifetime'
  >,
  clock: Clock = systemClock,
  keys?: JwtKeyDeps,
): JwtService {
  const alg = config.jwtAlgorithm;
  // The longest-lived token any key signs (access or MFA step token), plus skew: how long a rotated key verifies.
  const overlapSeconds =
    Math.max(config.accessTokenLifetime, config.mfaSessionLifetime) + KEY_OVERLAP_SKEW_SECONDS;
  // The provider's ID and access tokens live up to an hour (or the access token lifetime, if longer).
  const providerOverlapSeconds =
    Math.max(PROVIDER_TOKEN_MAX_LIFETIME_SECONDS, config.accessTokenLifetime) + KEY_OVERLAP_SKEW_SECONDS;
  const overlapOf = (a: KeyAlgorithm) =>
    Math.max(a === alg ? overlapSeconds : 0, isProviderAlgorithm(a) ? providerOverlapSeconds : 0);
  let set: LoadedKeySet | null = null;
  let loading: Promise<LoadedKeySet> | null = null;

  const reload = (): Promise<LoadedKeySet> => {
    if (!keys) return envOnlyKeySet(alg, config.jwtSecret).then((s) => (set = s));
    loading ??= loadKeySet(keys, alg, config.jwtSecret, clock.now())
      .then((s) => {
        set = s;
        return s;
      })
      .finally(() => {
        loading = null;
      });
    return loading;
  };

  const refreshSoon = () => {
    if (keys && !loading)
      reload().catch((err: unknown) => keys.log?.warn({ err }, 'JWT key set refresh failed'));
  };
  /** The periodic re-read: the API's key set, and the provider's once something asked for it. */
  const refreshAll = () => {
    refreshSoon();
    if (keys && provider && !providerLoading)
      reloadProvider().catch((err: unknown) =>
        keys.log?.warn({ err }, 'OpenID Provider key set refresh failed'),
      );
  };

  /**
   * Before signing: a rotation made on another replica (store flag) is picked up, but in the background. Tokens
   * are signed inside the transaction that opens or refreshes the session, so signing never waits for the
   * database; the key it still uses verifies everywhere for the whole overlap window.
   */
  const signingSet = async (): Promise<LoadedKeySet> => {
    if (!set) return reload();
    if (keys) {
      try {
        const kid = await keys.store.get(storeKeys.jwtCurrentKid(alg));
        if (kid !== null && kid !== set.current.kid) refreshSoon();
      } catch {
        // The store is down: the periodic re-read still picks the rotation up.
      }
    }
    return set;
  };
  let timer: NodeJS.Timeout | null = null;

  // --- the OpenID Provider's keys (independent of `alg`) ---
  let provider: PrivateKeyEntry[] | null = null;
  let providerLoading: Promise<PrivateKeyEntry[]> | null = null;
  /** The store's rotation flags as last acted upon: a flag that names an unknown kid causes one re-read only. */
  let providerFlags = '';
  const reloadProvider = (): Promise<PrivateKeyEntry[]> => {
    if (!keys) return Promise.reject(new Error('the OpenID Provider keys need the database'));
    const store = keys;
    providerLoading ??= Promise.all(PROVIDER_ALGORITHMS.map((a) => loadPrivateKeys(store, a, clock.now())))
      .then((perAlg) => {
        provider = perAlg.flat();
        return provider;
      })
      .finally(() => {
        providerLoading = null;
      });
    return providerLoading;
  };
  const providerEntries = async (): Promise<PrivateKeyEntry[]> => {
    const known = provider ?? (await reloadProvider());
    if (!keys) return known;
    let flags: (string | null)[];
    try {
      flags = await keys.store.mget(PROVIDER_ALGORITHMS.map((a) => storeKeys.jwtCurrentKid(a)));
    } catch {
      return known; // the store is down: the periodic re-read still picks a rotation up
    }
    const seen = flags.join('|');
    const stale = flags.some(
      (kid, i) =>
        kid !== null &&
        !known.some((e) => e.alg === PROVIDER_ALGORITHMS[i] && e.kid === kid && e.until === null),
    );
    if (!stale || seen === providerFlags) return known;
    providerFlags = seen;
    return reloadProvider();
  };
  /** The entries verifying now, current keys first (in PROVIDER_ALGORITHMS order), and the set's version. */
  let providerView: { kids: string; version: string; entries: PrivateKeyEntry[] } | null = null;
  const providerNow = async () => {
    const now = clock.now();
    const live = (await providerEntries()).filter((e) => e.until === null || e.until > now);
    const rank = (e: PrivateKeyEntry) =>
      (e.until === null ? 0 : PROVIDER_ALGORITHMS.length) +
      PROVIDER_ALGORITHMS.indexOf(e.alg as ProviderAlgorithm);
    const entries = live.map((e, i) => ({ e, i })).sort((a, b) => rank(a.e) - rank(b.e) || a.i - b.i);
    const kids = entries.map(({ e }) => e.kid).join(' ');
    if (providerView?.kids !== kids) {
      const version = createHash('sha256')
        .update([...entries.map(({ e }) => e.kid)].sort().join(' '))
        .digest('base64url')
        .slice(0, 16);
      providerView = { kids, version, entries: entries.map(({ e }) => e) };
    }
    return providerView;
  };

  let lastUnknownReload = Number.NEGATIVE_INFINITY;
  const reloadForVerify = () =>
    reload().catch((err: unknown) => {
      throw new KeySetUnavailable('JWT key set unavailable', { cause: err });
    });
  const keyFor = async (header: JWTHeaderParameters): Promise<CryptoKey | Uint8Array> => {
    let s = set ?? (await reloadForVerify());
    // Tokens issued before kids existed were signed with JWT_SECRET (HS* only).
    const kid = header.kid ?? s.envKid;
    if (typeof kid !== 'string') throw new joseErrors.JWKSNoMatchingKey();
    let entry = s.verify.get(kid);
    if (!entry && keys && (loading || performance.now() - lastUnknownReload > UNKNOWN_KID_RELOAD_MS)) {
      // A key rotated in on another replica: re-read (or join the read in flight, so the burst of new-kid
      // tokens right after a rotation all wait for it), at most one new read a second, then decide.
      if (!loading) lastUnknownReload = performance.now();
      s = await reloadForVerify();
      entry = s.verify.get(kid);
    }
    // A previous key past its window verifies nothing, even if this replica has not re-read the set yet.
    if (!entry || (entry.until !== null && entry.until <= clock.now()))
      throw new joseErrors.JWKSNoMatchingKey();
    return entry.key;
  };

  const sign = async (claims: Record<string, unknown>, sub: string, lifetime: number) => {
    const { current } = await signingSet();
    const now = Math.floor(clock.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg, typ: 'JWT', kid: current.kid })
      .setSubject(sub)
      .setIssuer(config.jwtIssuer)
      .setAudience(config.jwtAudience)
      .setIssuedAt(now)
      .setJti(randomUUID())
      .setExpirationTime(now + lifetime)
      .sign(current.key);
  };
  const verify = async (token: string) => {
    try {
      const { payload } = await jwtVerify(token, keyFor, {
        algorithms: [alg],
        issuer: config.jwtIssuer,
        audience: config.jwtAudience,
        requiredClaims: ['sub', 'exp', 'iat', 'jti'],
        currentDate: new Date(clock.now()),
      });
      return payload as Record<string, unknown>;
    } catch (err) {
      if (err instanceof KeySetUnavailable) throw err.cause; // database down: the error handler answers 503
      throw new JwtError(err instanceof joseErrors.JWTExpired ? 'expired' : 'invalid');
    }
  };
  return {
    signAccess: ({ sub, ...rest }, lifetime) =>
      sign({ ...rest, type: 'access' }, sub, Math.min(lifetime, config.accessTokenLifetime)),
    async verifyAccess(token) {
      const p = await verify(token);
      if (p.type !== 'access' || typeof p.tenant_id !== 'number' || typeof p.session_id !== 'string') {
        throw new JwtError('invalid');
      }
      return p as unknown as AccessClaims;
    },
    signPurpose: (type, { sub, ...rest }, lifetime) => sign({ ...rest, type }, sub, lifetime),
    async verifyPurpose(token, type) {
      const p = await verify(token);
      if (p.type !== type || typeof p.tenant_id !== 'number') throw new JwtError('invalid');
      return p as PurposeClaims;
    },
    async init() {
      if (keys && !timer) timer = setInterval(refreshAll, KEY_SET_REFRESH_MS).unref();
      if (!keys || !isSymmetric(alg)) {
        await reload();
        return;
      }
      try {
        await reload();
      } catch (err) {
        // HS* still signs with JWT_SECRET (as before the key table existed) until the periodic re-read succeeds.
        set = await envOnlyKeySet(alg, config.jwtSecret);
        keys.log?.warn({ err }, 'JWT signing keys not readable at start: JWT_SECRET key only until they are');
      }
    },
    async jwks() {
      const s = keys ? await signingSet().catch(() => set) : set;
      const now = clock.now();
      return {
        keys: (s?.publicJwks ?? []).filter((k) => k.until === null || k.until > now).map((k) => k.jwk),
      };
    },
    close() {
      if (timer) clearInterval(timer);
      timer = null;
    },
    async rotate(which = alg) {
      if (!keys) throw new Error('key rotation needs the database');
      if (which !== alg && !isProviderAlgorithm(which))
        throw new Error(`${which} is neither JWT_ALGORITHM (${alg}) nor an OpenID Provider algorithm`);
      const result = await rotateKey(keys, which, clock.now(), overlapOf(which));
      await keys.store.set(storeKeys.jwtCurrentKid(which), result.kid);
      if (which === alg) await reload();
      if (isProviderAlgorithm(which) && provider) await reloadProvider();
      return result;
    },
    rotationAlgorithms() {
      return [...new Set<KeyAlgorithm>([alg, ...PROVIDER_ALGORITHMS])];
    },
    async providerKeys() {
      const { version, entries } = await providerNow();
      return { version, keys: entries.map((e) => e.privateJwk) };
    },
    async providerPublicJwks() {
      const { version, entries } = await providerNow();
      return { version, keys: entries.map((e) => e.publicJwk) };
    },
    currentKid() {
      if (!set) throw new Error('JWT keys not loaded (init not awaited)');
      return set.current.kid;
    },
  };
}
