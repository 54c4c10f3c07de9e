/**
 * The OpenID Provider's signing keys (docs/oidc-provider.md): RS256, ES256 and EdDSA keys in the key store,
 * created once for all replicas, sealed, rotated with an overlap that outlives the provider's tokens, and seen by
 * every replica without a restart. Like jwt-keys.test.ts, on the real backend the file gets a database of its own:
 * it deletes and rotates deployment-wide keys.
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { decodeProtectedHeader, importJWK, type JWK, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KEY_OVERLAP_SKEW_SECONDS,
  PROVIDER_TOKEN_MAX_LIFETIME_SECONDS,
} from '../../src/platform/crypto/jwt.js';
import { createTestApp, usingPostgres } from '../helpers/app.js';
import { MovableClock } from '../helpers/clock.js';
import { createPrivateDatabase, type PrivateDatabase } from '../helpers/private-database.js';

const clock = new MovableClock();
const opened: FastifyInstance[] = [];
let base: FastifyInstance;
let own: PrivateDatabase | undefined;
beforeAll(async () => {
  if (usingPostgres) own = await createPrivateDatabase('mc_opkeys');
  base = await createTestApp(own ? { DATABASE_URL: own.url } : {}, undefined, { clock });
});
afterAll(async () => {
  for (const a of opened.reverse()) await a.close();
  await base.close();
  await own?.drop();
});

/** Another replica over base's database and store (its own caches). */
async function replica(overrides: Record<string, string> = {}): Promise<FastifyInstance> {
  const app = await createTestApp(overrides, base, { clock });
  opened.push(app);
  return app;
}

async function rows(alg: string) {
  return base.ctx.database.withSystem(
    async (tx) =>
      (
        await tx.execute<{ kid: string; secret_sealed: string | null; retired_at: unknown }>(
          sql`select kid, secret_sealed, retired_at from jwt_signing_keys where alg = ${alg} order by created_at`,
        )
      ).rows,
  );
}

const forget = (alg: string) =>
  base.ctx.database.withSystem((tx) => tx.execute(sql`delete from jwt_signing_keys where alg = ${alg}`));

describe('OpenID Provider signing keys', () => {
  it('providerKeys: private RS256 (2048 bits), ES256 and EdDSA JWKs with kid, alg and use, RS256 first; the public set has no private part', async () => {
    const app = await replica();
    const set = await app.ctx.jwt.providerKeys();
    expect(set.keys.map((k) => k.alg)).toEqual(['RS256', 'ES256', 'EdDSA']);
    for (const k of set.keys) {
      expect(k).toMatchObject({ use: 'sig', kid: expect.any(String) });
      expect(k.d).toEqual(expect.any(String));
    }
    const rsa = set.keys[0]!;
    expect(Buffer.from(rsa.n!, 'base64url').length * 8).toBe(2048);
    // Each signs, and the public half verifies.
    const pub = await app.ctx.jwt.providerPublicJwks();
    expect(pub.version).toBe(set.version);
    expect(pub.keys.map((k) => k.kid)).toEqual(set.keys.map((k) => k.kid));
    for (const [i, k] of set.keys.entries()) {
      expect(pub.keys[i]!.d).toBeUndefined();
      expect(pub.keys[i]!.p).toBeUndefined();
      const token = await new SignJWT({ x: 1 })
        .setProtectedHeader({ alg: k.alg!, kid: k.kid })
        .sign(await importJWK(k, k.alg));
      await jwtVerify(token, await importJWK(pub.keys[i]!, k.alg));
    }
    // Same set, same version; a second call reads nothing new.
    expect((await app.ctx.jwt.providerKeys()).version).toBe(set.version);
    // Independent of JWT_ALGORITHM: the API still signs HS256 with its own key.
    expect(decodeProtectedHeader(await app.ctx.jwt.signAccess(claims(), 60)).alg).toBe('HS256');
  });

  it('the private material is sealed: the row holds no JSON, only the key store unseals it', async () => {
    const app = await replica();
    const { keys } = await app.ctx.jwt.providerKeys();
    for (const alg of ['RS256', 'ES256', 'EdDSA']) {
      const kid = keys.find((k) => k.alg === alg)!.kid!;
      const row = (await rows(alg)).find((r) => r.kid === kid)!;
      expect(row.secret_sealed).toEqual(expect.any(String));
      expect(() => JSON.parse(row.secret_sealed!)).toThrow();
      expect(row.secret_sealed).not.toContain('"d"');
      const plain = JSON.parse(base.ctx.secretBox.decrypt(row.secret_sealed!, `jwt:key:${kid}`)) as JWK;
      expect(plain.d).toBe(keys.find((k) => k.kid === kid)!.d);
    }
  });

  it('RS256 is created once when two replicas ask for it at the same time', async () => {
    await forget('RS256');
    const [a, b] = [await replica(), await replica()];
    const [sa, sb] = await Promise.all([a.ctx.jwt.providerKeys(), b.ctx.jwt.providerKeys()]);
    expect(sa.keys[0]!.kid).toBe(sb.keys[0]!.kid);
    expect(sa.version).toBe(sb.version);
    const rs = await rows('RS256');
    expect(rs).toHaveLength(1);
    expect(rs[0]!.kid).toBe(sa.keys[0]!.kid);
  });

  it('rotation: the new key signs first, the previous one stays listed (after the current ones) on every replica until its window ends, then goes', async () => {
    const a = await replica();
    const b = await replica();
    const before = await a.ctx.jwt.providerKeys();
    await b.ctx.jwt.providerKeys(); // b has cached the set before the rotation
    const oldRsa = before.keys[0]!.kid!;

    const r = await a.ctx.jwt.rotate('RS256');
    expect(r.previousKid).toBe(oldRsa);
    const overlap = PROVIDER_TOKEN_MAX_LIFETIME_SECONDS + KEY_OVERLAP_SKEW_SECONDS;
    expect(Math.abs(Date.parse(r.previousVerifiesUntil) - (clock.now() + overlap * 1000))).toBeLessThan(5000);

    for (const app of [a, b]) {
      const after = await app.ctx.jwt.providerKeys();
      expect(after.version).not.toBe(before.version);
      expect(after.keys.map((k) => k.alg)).toEqual(['RS256', 'ES256', 'EdDSA', 'RS256']);
      expect(after.keys[0]!.kid).toBe(r.kid);
      expect(after.keys[3]!.kid).toBe(oldRsa);
      expect((await app.ctx.jwt.providerPublicJwks()).keys.map((k) => k.kid)).toContain(oldRsa);
    }

    clock.advance(overlap - 30);
    expect((await b.ctx.jwt.providerKeys()).keys.map((k) => k.kid)).toContain(oldRsa);
    clock.advance(31);
    for (const app of [a, b]) {
      const later = await app.ctx.jwt.providerKeys();
      expect(later.keys.map((k) => k.kid)).not.toContain(oldRsa);
      expect(later.keys.map((k) => k.alg)).toEqual(['RS256', 'ES256', 'EdDSA']);
      expect((await app.ctx.jwt.providerPublicJwks()).version).toBe(later.version);
    }
  });

  it('keys rotate-jwt rotates JWT_ALGORITHM and the three provider algorithms, a shared one once, with the longer window', async () => {
    const hs = await replica();
    expect(hs.ctx.jwt.rotationAlgorithms()).toEqual(['HS256', 'RS256', 'ES256', 'EdDSA']);
    const ed = await replica({ JWT_ALGORITHM: 'EdDSA', ACCESS_TOKEN_LIFETIME: '7200' });
    expect(ed.ctx.jwt.rotationAlgorithms()).toEqual(['EdDSA', 'RS256', 'ES256']);
    await expect(ed.ctx.jwt.rotate('HS512')).rejects.toThrow(/neither/);
    // An access lifetime above an hour sets the window of the provider's keys too.
    const r = await ed.ctx.jwt.rotate('ES256');
    expect(Math.abs(Date.parse(r.previousVerifiesUntil) - (clock.now() + (7200 + 60) * 1000))).toBeLessThan(
      5000,
    );
    // The API's EdDSA key is the provider's EdDSA key: one rotation serves both.
    const e = await ed.ctx.jwt.rotate('EdDSA');
    expect(ed.ctx.jwt.currentKid()).toBe(e.kid);
    const set = await ed.ctx.jwt.providerKeys();
    expect(set.keys.find((k) => k.alg === 'EdDSA')!.kid).toBe(e.kid);
  });
});

function claims() {
  return { sub: '1', tenant_id: 1, session_id: 's', email: 'a@b.c' };
}
