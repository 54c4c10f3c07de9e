/**
 * The signing keys behind ctx.jwt (API.md §19), kept in `jwt_signing_keys` so every replica signs with the same
 * key and there is no file to share. Private material is sealed with ENCRYPTION_KEY (SecretBox). All key
 * cryptography is jose's: generateKeyPair, exportJWK, importJWK, calculateJwkThumbprint.
 *
 * One current key per algorithm; a rotated key stays valid for verification until `verify_until` (the longest
 * token lifetime plus clock skew), so nobody is logged out. Under HS* the key derived from JWT_SECRET is the
 * current one until the first `keys rotate-jwt`, which stores a random HMAC secret (sealed) and records the
 * JWT_SECRET key's retirement (a row without secret: JWT_SECRET itself is never written to the database).
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { JwtAlgorithm } from '../../config.js';
import type { Database } from '../db/client.js';
import type { SecretBox } from './aes-gcm.js';

export type KeyMaterial = CryptoKey | Uint8Array;
/**
 * Every algorithm the key store keeps keys for: the API's own (JWT_ALGORITHM) and RS256, which only the OpenID
 * Provider signs with (ID tokens, machine tokens; docs/oidc-provider.md). One current key per algorithm.
 */
export type KeyAlgorithm = JwtAlgorithm | 'RS256';
/** RSA keys the store generates: 2048 bits, what every OpenID Connect library accepts. */
const RSA_MODULUS_BITS = 2048;

export interface LoadedKeySet {
  alg: KeyAlgorithm;
  /** The key new tokens are signed with. */
  current: { kid: string; key: KeyMaterial };
  /** Every key that verifies: kid -> key and the instant (epoch ms) it stops verifying (null: current key). */
  verify: Map<string, { key: KeyMaterial; until: number | null }>;
  /** Public keys of the current and previous asymmetric keys (published at /.well-known/jwks.json while they verify). */
  publicJwks: { jwk: JWK; until: number | null }[];
  /** Kid of the JWT_SECRET key (HS* only): tokens without a kid, issued before kids, map to it. */
  envKid: string | null;
}

export interface RotationResult {
  alg: KeyAlgorithm;
  previousKid: string;
  kid: string;
  /** When the previous key stops verifying (ISO 8601). */
  previousVerifiesUntil: string;
}

export const isSymmetric = (alg: KeyAlgorithm): boolean => alg.startsWith('HS');

/** Serialises rotations (pg_advisory_xact_lock): two operators rotating at once still leave one current key. */
const ROTATION_LOCK = 0x6a776b73; // "jwks"
const aad = (kid: string) => `jwt:key:${kid}`;
/** Bytes of a generated HMAC secret: at least the hash size of HS512. */
const HMAC_SECRET_BYTES = 64;

interface KeyRow {
  kid: string;
  secret_sealed: string | null;
  public_jwk: JWK | string | null;
  verify_until: Date | string | null;
}

export interface KeyStoreDeps {
  database: Database;
  secretBox: SecretBox;
}

/**
 * The key JWT_SECRET signs with. Its kid is a fixed name per algorithm, the same in every deployment whatever the
 * secret: a kid derived from the secret (it used to be the JWK thumbprint, an unsalted SHA-256 of it) is
 * published in every token and lets anyone test guesses of a weak secret offline, or see that two deployments
 * share one. Replicas agree on a fixed name without coordination, before the database is read. `legacyKid` is
 * the old thumbprint, never published again: tokens signed before the upgrade carry it and keep verifying until
 * they expire (it names the same key, so it admits nothing the fixed kid does not).
 */
export const envKeyId = (alg: KeyAlgorithm): string => `jwt-secret-${alg.toLowerCase()}`;

async function envKey(
  alg: KeyAlgorithm,
  secret: string,
): Promise<{ kid: string; legacyKid: string; key: Uint8Array }> {
  const key = new TextEncoder().encode(secret);
  return {
    kid: envKeyId(alg),
    legacyKid: await calculateJwkThumbprint({ kty: 'oct', k: Buffer.from(key).toString('base64url') }),
    key,
  };
}

async function newKey(
  alg: KeyAlgorithm,
): Promise<{ kid: string; sealedPlain: string; publicJwk: JWK | null }> {
  if (isSymmetric(alg)) {
    const k = randomBytes(HMAC_SECRET_BYTES).toString('base64url');
    return { kid: await calculateJwkThumbprint({ kty: 'oct', k }), sealedPlain: k, publicJwk: null };
  }
  const pair = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'RS256' ? { modulusLength: RSA_MODULUS_BITS } : {}),
  });
  const publicJwk = await exportJWK(pair.publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk = await exportJWK(pair.privateKey);
  return { kid, sealedPlain: JSON.stringify(privateJwk), publicJwk: { ...publicJwk, kid, alg, use: 'sig' } };
}

const iso = (ms: number) => new Date(ms).toISOString();

async function readRows(deps: KeyStoreDeps, alg: KeyAlgorithm, now: number): Promise<KeyRow[]> {
  return deps.database.withSystem(
    async (tx) =>
      (
        await tx.execute<KeyRow & Record<string, unknown>>(sql`
        select kid, secret_sealed, public_jwk, verify_until from jwt_signing_keys
         where alg = ${alg} and (verify_until is null or verify_until > ${iso(now)}::timestamptz)
         order by created_at desc`)
      ).rows,
  );
}

/**
 * The rows of `alg` that still verify; for an asymmetric algorithm the first call ever creates the key pair.
 * Replicas starting together each try the insert; the partial unique index keeps the first and the others re-read it.
 */
async function currentRows(deps: KeyStoreDeps, alg: KeyAlgorithm, now: number): Promise<KeyRow[]> {
  const rows = await readRows(deps, alg, now);
  if (isSymmetric(alg) || rows.some((r) => r.verify_until === null)) return rows;
  const k = await newKey(alg);
  await deps.database.withSystem((tx) =>
    tx.execute(sql`
      insert into jwt_signing_keys (kid, alg, secret_sealed, public_jwk, created_at)
      values (${k.kid}, ${alg}, ${deps.secretBox.encrypt(k.sealedPlain, aad(k.kid))},
              ${JSON.stringify(k.publicJwk)}::jsonb, ${iso(now)}::timestamptz)
      on conflict (alg) where retired_at is null do nothing`),
  );
  return readRows(deps, alg, now);
}

/** Reads the key set of `alg`; for EdDSA and ES256 the first call ever creates the key pair (currentRows). */
export async function loadKeySet(
  deps: KeyStoreDeps,
  alg: KeyAlgorithm,
  jwtSecret: string,
  now: number,
): Promise<LoadedKeySet> {
  return buildKeySet(deps.secretBox, alg, jwtSecret, await currentRows(deps, alg, now));
}

/** One asymmetric key with its private half, as the OpenID Provider signs with it. */
export interface PrivateKeyEntry {
  alg: KeyAlgorithm;
  kid: string;
  /** The private JWK with kid, alg and use: 'sig'. */
  privateJwk: JWK;
  /** Its public half (kid, alg, use: 'sig'). */
  publicJwk: JWK;
  /** When it stops verifying (epoch ms); null: the current key. */
  until: number | null;
}

/**
 * The current key of an asymmetric `alg` (created on the first call, as loadKeySet does) and the previous ones
 * still inside their verify window, newest first, each with its private JWK unsealed. A previous key sealed under
 * a dropped ENCRYPTION_KEY is left out (its tokens are refused, nothing else); the current one must unseal.
 */
export async function loadPrivateKeys(
  deps: KeyStoreDeps,
  alg: KeyAlgorithm,
  now: number,
): Promise<PrivateKeyEntry[]> {
  if (isSymmetric(alg)) throw new Error(`${alg} keys are secrets, not key pairs`);
  const out: PrivateKeyEntry[] = [];
  for (const row of await currentRows(deps, alg, now)) {
    if (row.secret_sealed === null) continue;
    const until = row.verify_until === null ? null : new Date(row.verify_until).getTime();
    let privateJwk: JWK;
    try {
      privateJwk = JSON.parse(deps.secretBox.decrypt(row.secret_sealed, aad(row.kid))) as JWK;
    } catch (err) {
      if (until === null) throw err;
      continue;
    }
    const publicJwk = (
      typeof row.public_jwk === 'string' ? JSON.parse(row.public_jwk) : row.public_jwk
    ) as JWK;
    const named = { kid: row.kid, alg, use: 'sig' };
    out.push({
      alg,
      kid: row.kid,
      privateJwk: { ...privateJwk, ...named },
      publicJwk: { ...publicJwk, ...named },
      until,
    });
  }
  return out;
}

async function buildKeySet(
  box: SecretBox,
  alg: KeyAlgorithm,
  jwtSecret: string,
  rows: KeyRow[],
): Promise<LoadedKeySet> {
  const env = isSymmetric(alg) ? await envKey(alg, jwtSecret) : null;
  const verify = new Map<string, { key: KeyMaterial; until: number | null }>();
  /** The JWT_SECRET key verifies under its kid and under the kid tokens issued before the upgrade carry. */
  const verifyEnv = (e: NonNullable<typeof env>, until: number | null) => {
    const known = verify.get(e.kid);
    if (known && (known.until === null || (until !== null && until <= known.until))) return;
    verify.set(e.kid, { key: e.key, until });
    verify.set(e.legacyKid, { key: e.key, until });
  };
  const publicJwks: LoadedKeySet['publicJwks'] = [];
  let current: LoadedKeySet['current'] | null = null;
  for (const row of rows) {
    const until = row.verify_until === null ? null : new Date(row.verify_until).getTime();
    if (row.secret_sealed === null) {
      // The retirement record of the JWT_SECRET key (or a wiped key): only the former verifies.
      // Rotations before the upgrade recorded it under the legacy kid.
      if (env && (row.kid === env.kid || row.kid === env.legacyKid) && until !== null) verifyEnv(env, until);
      continue;
    }
    if (isSymmetric(alg)) {
      let plain: string;
      try {
        plain = box.decrypt(row.secret_sealed, aad(row.kid));
      } catch (err) {
        if (until === null) throw err; // the current key must be readable: refuse to start rather than guess
        continue; // a retired key sealed under a dropped ENCRYPTION_KEY: its tokens are refused, nothing else
      }
      const key = new Uint8Array(Buffer.from(plain, 'base64url'));
      verify.set(row.kid, { key, until });
      if (until === null) current = { kid: row.kid, key };
      continue;
    }
    const publicJwk = (
      typeof row.public_jwk === 'string' ? JSON.parse(row.public_jwk) : row.public_jwk
    ) as JWK;
    verify.set(row.kid, { key: (await importJWK(publicJwk, alg)) as CryptoKey, until });
    publicJwks.push({ jwk: { ...publicJwk, kid: row.kid, alg, use: 'sig' }, until });
    if (until === null) {
      const privateJwk = JSON.parse(box.decrypt(row.secret_sealed, aad(row.kid))) as JWK;
      current = { kid: row.kid, key: (await importJWK(privateJwk, alg)) as CryptoKey };
    }
  }
  if (!current) {
    if (!env) throw new Error(`no current ${alg} signing key in jwt_signing_keys`);
    // Never rotated: JWT_SECRET signs, as before keys were kept in the database.
    current = { kid: env.kid, key: env.key };
    verifyEnv(env, null);
  }
  return { alg, current, verify, publicJwks, envKid: env?.kid ?? null };
}

/** The key set before the database was read (HS* only): JWT_SECRET's key alone. */
export async function envOnlyKeySet(alg: KeyAlgorithm, jwtSecret: string): Promise<LoadedKeySet> {
  return buildKeySet({} as SecretBox, alg, jwtSecret, []);
}

/**
 * Makes a new current key; the old one verifies until now + overlapSeconds. Secrets of keys whose window has
 * passed are wiped in the same transaction (their rows stay as the history of rotations).
 */
export async function rotateKey(
  deps: KeyStoreDeps,
  alg: KeyAlgorithm,
  now: number,
  overlapSeconds: number,
): Promise<RotationResult> {
  // An asymmetric algorithm never used yet gets its first key, which this rotation then retires.
  if (!isSymmetric(alg)) await currentRows(deps, alg, now);
  const k = await newKey(alg);
  const until = iso(now + overlapSeconds * 1000);
  const previousKid = await deps.database.withSystem(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${ROTATION_LOCK})`);
    const retired = await tx.execute<{ kid: string }>(sql`
      update jwt_signing_keys set retired_at = ${iso(now)}::timestamptz, verify_until = ${until}::timestamptz
       where alg = ${alg} and retired_at is null returning kid`);
    let previous = retired.rows[0]?.kid;
    if (!previous) {
      if (!isSymmetric(alg)) throw new Error(`no current ${alg} signing key to rotate`);
      // The JWT_SECRET key was current: record its retirement so it verifies only until `until`.
      previous = envKeyId(alg);
      await tx.execute(sql`
        insert into jwt_signing_keys (kid, alg, created_at, retired_at, verify_until)
        values (${previous}, ${alg}, ${iso(now)}::timestamptz, ${iso(now)}::timestamptz, ${until}::timestamptz)
        on conflict (kid) do update set retired_at = excluded.retired_at, verify_until = excluded.verify_until`);
    }
    await tx.execute(sql`
      update jwt_signing_keys set secret_sealed = null
       where alg = ${alg} and verify_until <= ${iso(now)}::timestamptz and secret_sealed is not null`);
    await tx.execute(sql`
      insert into jwt_signing_keys (kid, alg, secret_sealed, public_jwk, created_at)
      values (${k.kid}, ${alg}, ${deps.secretBox.encrypt(k.sealedPlain, aad(k.kid))},
              ${k.publicJwk ? JSON.stringify(k.publicJwk) : null}::jsonb, ${iso(now)}::timestamptz)`);
    return previous;
  });
  return { alg, previousKid, kid: k.kid, previousVerifiesUntil: until };
}
