/**
 * Signing keys (issue 12, API.md §19): `kid` on every token, EdDSA and ES256 with keys kept in the database,
 * /.well-known/jwks.json, rotation without logging anyone out, on every replica.
 * On the real backend the key table outlives the run: each test first deletes the rows of the algorithm it
 * uses, and HS rotation is tested under HS512 so the HS256 keys other test files rely on are never rotated.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import {
  calculateJwkThumbprint,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  generateKeyPair,
  importJWK,
  type JWK,
  jwtVerify,
  SignJWT,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { testConfig } from '../../src/config.js';
import { createTestApp, usingPostgres } from '../helpers/app.js';
import { MovableClock } from '../helpers/clock.js';
import { bearer, login, newTenant, newUser } from '../helpers/factories.js';
import { createPrivateDatabase, type PrivateDatabase } from '../helpers/private-database.js';
import { enrolTotp, safeTotpMoment, totpCode } from '../helpers/totp.js';

const opened: FastifyInstance[] = [];
let base: FastifyInstance;
// These tests delete and rotate the deployment-wide signing keys: on the real backend they get a database of their
// own, or another file's tokens would stop verifying in between.
let own: PrivateDatabase | undefined;
beforeAll(async () => {
  if (usingPostgres) own = await createPrivateDatabase('mc_jwtkeys');
  base = await createTestApp(own ? { DATABASE_URL: own.url } : {});
});
afterAll(async () => {
  for (const a of opened.reverse()) await a.close();
  await base.close();
  await own?.drop();
});

/** A replica over base's database and store, with another JWT_ALGORITHM. */
async function replica(alg: string, clock?: MovableClock): Promise<FastifyInstance> {
  const app = await createTestApp({ JWT_ALGORITHM: alg }, base, clock ? { clock } : {});
  opened.push(app);
  return app;
}

async function forgetKeys(alg: string): Promise<void> {
  await base.ctx.database.withSystem((tx) =>
    tx.execute(sql`delete from jwt_signing_keys where alg = ${alg}`),
  );
}

async function keyRows(alg: string) {
  return base.ctx.database.withSystem(
    async (tx) =>
      (
        await tx.execute<{ kid: string; secret_sealed: string | null; retired_at: unknown }>(
          sql`select kid, secret_sealed, retired_at from jwt_signing_keys where alg = ${alg}`,
        )
      ).rows,
  );
}

/** The private key of `kid`, unsealed from the table (what an attacker holding an old key would have). */
async function privateKey(alg: string, kid: string) {
  const row = (await keyRows(alg)).find((r) => r.kid === kid);
  if (!row?.secret_sealed) throw new Error(`no secret for ${kid}`);
  const plain = base.ctx.secretBox.decrypt(row.secret_sealed, `jwt:key:${kid}`);
  return alg.startsWith('HS') ? Buffer.from(plain, 'base64url') : importJWK(JSON.parse(plain) as JWK, alg);
}

/** The payload of a real token re-signed with another key/header (fresh jti, iat and exp on `app`'s clock). */
async function resign(
  app: FastifyInstance,
  token: string,
  header: { alg: string; kid?: string },
  key: CryptoKey | Uint8Array,
) {
  const { iat: _i, exp: _e, jti: _j, ...claims } = decodeJwt(token);
  const now = Math.floor(app.ctx.clock.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ ...header, typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .setJti(crypto.randomUUID())
    .sign(key);
}

const me = (app: FastifyInstance, token: string) =>
  app.inject({ url: '/api/v1/auth/me', headers: bearer(token) });
const kidOf = (token: string) => decodeProtectedHeader(token).kid;

describe('signing keys (issue 12)', () => {
  it('issue 12 keys: every token the app signs (access, MFA step token) carries the kid of the current key', async () => {
    const app = await replica('EdDSA');
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const plain = await login(app, tenant.id, user.email);
    expect(decodeProtectedHeader(plain.access_token)).toMatchObject({
      alg: 'EdDSA',
      kid: app.ctx.jwt.currentKid(),
    });

    const { secret } = await enrolTotp(app, tenant.id, user.email);
    const step = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'x-tenant-id': String(tenant.id) },
      payload: { email: user.email, password: user.password },
    });
    const stepToken = step.json().mfa_session_token as string;
    expect(decodeProtectedHeader(stepToken)).toMatchObject({ alg: 'EdDSA', kid: app.ctx.jwt.currentKid() });
    await safeTotpMoment();
    const done = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login/mfa',
      headers: { 'x-tenant-id': String(tenant.id) },
      payload: { mfa_session_token: stepToken, totp_code: totpCode(secret, 0) },
    });
    expect(done.statusCode, done.body).toBe(200);
    expect(kidOf(done.json().access_token)).toBe(app.ctx.jwt.currentKid());
    // HS256 (the default) names its key too: the one derived from JWT_SECRET until a rotation.
    const t = await newTenant(base);
    const hsToken = (await login(base, t.tenant.id, t.admin.email)).access_token;
    expect(decodeProtectedHeader(hsToken)).toMatchObject({ alg: 'HS256', kid: base.ctx.jwt.currentKid() });
  });

  for (const alg of ['EdDSA', 'ES256']) {
    it(`issue 12 keys: under ${alg} sign-in then /auth/me works and the JWKS verifies the token with jose.createRemoteJWKSet`, async () => {
      const app = await replica(alg);
      const { tenant, admin } = await newTenant(app);
      const tokens = await login(app, tenant.id, admin.email);
      expect(decodeProtectedHeader(tokens.access_token).alg).toBe(alg);
      const res = await me(app, tokens.access_token);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().user_id).toBe(admin.id);
      // The refresh path signs with the same key.
      const refreshed = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: tokens.refresh_token },
      });
      expect(refreshed.statusCode).toBe(200);
      expect((await me(app, refreshed.json().access_token)).statusCode).toBe(200);

      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address();
      if (!address || typeof address === 'string') throw new Error('not listening');
      const url = new URL(`http://127.0.0.1:${address.port}/.well-known/jwks.json`);
      const raw = await fetch(url);
      expect(raw.status).toBe(200);
      expect(raw.headers.get('cache-control')).toMatch(/max-age=\d+/);
      const body = (await raw.json()) as { keys: JWK[] };
      expect(body.keys.map((k) => k.kid)).toContain(app.ctx.jwt.currentKid());
      for (const k of body.keys) {
        expect(k).toMatchObject({ alg, use: 'sig' });
        expect(k).not.toHaveProperty('d'); // never the private part
      }
      const { payload, protectedHeader } = await jwtVerify(tokens.access_token, createRemoteJWKSet(url), {
        issuer: app.ctx.config.jwtIssuer,
        audience: app.ctx.config.jwtAudience,
        algorithms: [alg],
      });
      expect(payload.sub).toBe(String(admin.id));
      expect(protectedHeader.kid).toBe(app.ctx.jwt.currentKid());
    });
  }

  it('issue 12 keys: under HS* the JWKS is empty (HMAC secrets are never published)', async () => {
    const res = await base.inject({ url: '/.well-known/jwks.json' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ keys: [] });
    // JWT_ALGORITHM is case-insensitive; anything else fails the boot.
    expect(testConfig({ JWT_ALGORITHM: 'eddsa' }).jwtAlgorithm).toBe('EdDSA');
    expect(testConfig({ JWT_ALGORITHM: 'es256' }).jwtAlgorithm).toBe('ES256');
    expect(() => testConfig({ JWT_ALGORITHM: 'RS256' })).toThrow(/JWT_ALGORITHM/);
  });

  it('issue 12 keys: algorithm confusion is refused (HS under EdDSA, EdDSA/ES256 under HS, ES256 key under EdDSA, none)', async () => {
    const ed = await replica('EdDSA');
    const es = await replica('ES256');
    const { tenant, admin } = await newTenant(ed);
    const edToken = (await login(ed, tenant.id, admin.email)).access_token;
    const esToken = (await login(es, tenant.id, admin.email)).access_token;
    const hsToken = (await login(base, tenant.id, admin.email)).access_token;
    for (const [app, token] of [
      [ed, edToken],
      [es, esToken],
      [base, hsToken],
    ] as const)
      expect((await me(app, token)).statusCode).toBe(200);

    const secret = new TextEncoder().encode(base.ctx.config.jwtSecret);
    const edKid = ed.ctx.jwt.currentKid();
    const edPublic = (await ed.inject({ url: '/.well-known/jwks.json' })).json().keys[0] as JWK;
    const refused = [
      // An HS256 token under EdDSA: with JWT_SECRET, with or without the EdDSA kid.
      [ed, await resign(ed, edToken, { alg: 'HS256', kid: edKid }, secret)],
      [ed, await resign(ed, edToken, { alg: 'HS256' }, secret)],
      // The classic confusion: the public key's bytes used as an HMAC secret.
      [ed, await resign(ed, edToken, { alg: 'HS256', kid: edKid }, Buffer.from(edPublic.x!, 'base64url'))],
      [
        ed,
        await resign(
          ed,
          edToken,
          { alg: 'HS256', kid: edKid },
          new TextEncoder().encode(JSON.stringify(edPublic)),
        ),
      ],
      // Tokens of the other asymmetric algorithm, though their keys are in the same table, and vice versa.
      [ed, esToken],
      [es, edToken],
      // EdDSA and ES256 tokens under HS256.
      [base, edToken],
      [base, esToken],
      // An EdDSA token naming the current kid but signed by another key.
      [
        ed,
        await resign(ed, edToken, { alg: 'EdDSA', kid: edKid }, (await generateKeyPair('EdDSA')).privateKey),
      ],
    ] as const;
    for (const [app, token] of refused) {
      const res = await me(app, token);
      expect(res.statusCode, `${decodeProtectedHeader(token).alg} on ${app.ctx.config.jwtAlgorithm}`).toBe(
        401,
      );
      expect(res.json().error).toBe('TOKEN_INVALID');
    }
    const [, payload] = edToken.split('.');
    for (const alg of ['none', 'None', 'NONE']) {
      const header = Buffer.from(JSON.stringify({ alg, typ: 'JWT', kid: edKid })).toString('base64url');
      const res = await me(ed, `${header}.${payload}.`);
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toBe('TOKEN_INVALID');
    }
  });

  it('issue 12 keys: two replicas starting together over one database create one key pair, not two', async () => {
    await forgetKeys('ES256');
    const [r1, r2, r3] = await Promise.all([replica('ES256'), replica('ES256'), replica('ES256')]);
    const current = (await keyRows('ES256')).filter((r) => r.retired_at === null);
    expect(current).toHaveLength(1);
    expect(new Set([r1!.ctx.jwt.currentKid(), r2!.ctx.jwt.currentKid(), r3!.ctx.jwt.currentKid()])).toEqual(
      new Set([current[0]!.kid]),
    );
    // Sealed with ENCRYPTION_KEY, never in clear.
    expect(current[0]!.secret_sealed).toMatch(/^enc:v1:/);
    const { tenant, admin } = await newTenant(r1!);
    const token = (await login(r1!, tenant.id, admin.email)).access_token;
    expect((await me(r2!, token)).statusCode).toBe(200);
  });

  for (const alg of ['ES256', 'HS512']) {
    it(`issue 12 keys: under ${alg} a rotation keeps old tokens valid on every replica and new tokens carry the new kid`, async () => {
      await forgetKeys(alg);
      const a = await replica(alg);
      const b = await replica(alg);
      const { tenant, admin } = await newTenant(a);
      const before = await login(a, tenant.id, admin.email);
      const oldKid = kidOf(before.access_token);
      expect(oldKid).toBe(b.ctx.jwt.currentKid());
      const rotation = await a.ctx.jwt.rotate();
      expect(rotation).toMatchObject({ alg, previousKid: oldKid });
      expect(rotation.kid).not.toBe(oldKid);
      // Nobody is logged out: the old token still works on both replicas.
      expect((await me(a, before.access_token)).statusCode).toBe(200);
      expect((await me(b, before.access_token)).statusCode).toBe(200);
      // A signs with the new key at once; B learns of it without a restart: the store flag makes its next
      // signature re-read the keys (in the background: signing happens inside the session's transaction).
      const fromA = await login(a, tenant.id, admin.email);
      expect(kidOf(fromA.access_token)).toBe(rotation.kid);
      // A burst of new-kid tokens on B before it knows the key: one re-read, and every request waits for it.
      const burst = await Promise.all(Array.from({ length: 8 }, () => me(b, fromA.access_token)));
      expect(burst.map((r) => r.statusCode)).toEqual(Array(8).fill(200));
      const first = await login(b, tenant.id, admin.email);
      expect([oldKid, rotation.kid]).toContain(kidOf(first.access_token));
      expect((await me(a, first.access_token)).statusCode).toBe(200);
      await expect.poll(() => b.ctx.jwt.currentKid(), { timeout: 5000 }).toBe(rotation.kid);
      const fromB = await login(b, tenant.id, admin.email);
      expect(kidOf(fromB.access_token)).toBe(rotation.kid);
      expect((await me(b, fromA.access_token)).statusCode).toBe(200);
      expect((await me(a, fromB.access_token)).statusCode).toBe(200);
      const jwks = (await b.inject({ url: '/.well-known/jwks.json' })).json().keys as JWK[];
      expect(jwks.map((k) => k.kid).sort()).toEqual(alg === 'HS512' ? [] : [oldKid, rotation.kid].sort());
      if (alg === 'HS512') {
        // The first HS rotation retires the JWT_SECRET key (recorded without its secret) for a sealed random one.
        const rows = await keyRows(alg);
        expect(rows.find((r) => r.kid === oldKid)).toMatchObject({ secret_sealed: null });
        expect(rows.find((r) => r.kid === rotation.kid)?.secret_sealed).toMatch(/^enc:v1:/);
      }
    });
  }

  it('issue 12 keys: a token signed by a previous key past its window (removed) is 401, on every replica', async () => {
    await forgetKeys('EdDSA');
    const clock = new MovableClock();
    const a = await replica('EdDSA', clock);
    const b = await replica('EdDSA', clock);
    const { tenant, admin } = await newTenant(a);
    const oldKid = a.ctx.jwt.currentKid();
    const oldKey = await privateKey('EdDSA', oldKid);
    const { kid: newKid, previousVerifiesUntil } = await a.ctx.jwt.rotate();
    const newKey = await privateKey('EdDSA', newKid);
    // The window is the longest token lifetime plus skew.
    const { accessTokenLifetime, mfaSessionLifetime } = a.ctx.config;
    expect(Date.parse(previousVerifiesUntil) - clock.now()).toBeGreaterThan(
      Math.max(accessTokenLifetime, mfaSessionLifetime) * 1000,
    );

    let claims = (await login(a, tenant.id, admin.email)).access_token;
    const viaOld = await resign(a, claims, { alg: 'EdDSA', kid: oldKid }, oldKey);
    expect((await me(a, viaOld)).statusCode).toBe(200);
    expect((await me(b, viaOld)).statusCode).toBe(200);
    // B learns of the rotation from the first token under the new kid (a replica also re-reads every minute,
    // well inside the window; the moved clock skips that minute, so B is shown one here).
    expect((await me(b, claims)).statusCode).toBe(200);
    expect(b.ctx.jwt.currentKid()).toBe(newKid);

    clock.advance((Date.parse(previousVerifiesUntil) - clock.now()) / 1000 + 1);
    claims = (await login(a, tenant.id, admin.email)).access_token; // a live session at the moved time
    for (const app of [a, b]) {
      const removed = await me(app, await resign(app, claims, { alg: 'EdDSA', kid: oldKid }, oldKey));
      expect(removed.statusCode).toBe(401);
      expect(removed.json().error).toBe('TOKEN_INVALID');
      // The same claims under the current key pass: only the key was refused.
      expect(
        (await me(app, await resign(app, claims, { alg: 'EdDSA', kid: newKid }, newKey))).statusCode,
      ).toBe(200);
    }
    // The expired key has left the JWKS, and its secret is wiped at the next rotation.
    expect(
      ((await a.inject({ url: '/.well-known/jwks.json' })).json().keys as JWK[]).map((k) => k.kid),
    ).toEqual([newKid]);
    await a.ctx.jwt.rotate();
    expect((await keyRows('EdDSA')).find((r) => r.kid === oldKid)?.secret_sealed).toBeNull();
  });
});

describe('massacorp keys rotate-jwt', () => {
  const run = promisify(execFile);
  const dir = mkdtempSync(path.join(tmpdir(), 'massacorp-jwt-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('issue 12 keys: the CLI rotates the EdDSA key; the app then signs with the new kid and still verifies the old', async () => {
    const env = { PGLITE_DIR: path.join(dir, 'pglite'), DATA_DIR: dir, JWT_ALGORITHM: 'EdDSA' };
    const app1 = await buildApp(testConfig(env), { migrate: true });
    const { tenant, admin } = await newTenant(app1);
    const before = (await login(app1, tenant.id, admin.email)).access_token;
    const oldKid = app1.ctx.jwt.currentKid();
    await app1.close(); // PGlite on disk: one process at a time

    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      ENV: 'test',
      LOG_LEVEL: 'warn',
      JWT_SECRET: 'test-jwt-secret-0123456789abcdef0123456789',
      ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      ...env,
    };
    delete childEnv.DATABASE_URL;
    delete childEnv.REDIS_URL;
    const out = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'keys', 'rotate-jwt'], {
      env: childEnv,
      timeout: 60_000,
    });
    const newKid = /signing with key (\S+);/.exec(out.stdout)?.[1];
    expect(out.stdout).toContain(`previous key ${oldKid} verifies until`);
    expect(newKid).toBeTruthy();

    const app2 = await buildApp(testConfig(env), { migrate: false });
    try {
      expect(app2.ctx.jwt.currentKid()).toBe(newKid);
      expect((await me(app2, before)).statusCode).toBe(200);
      const after = (await login(app2, tenant.id, admin.email)).access_token;
      expect(kidOf(after)).toBe(newKid);
      const jwks = (await app2.inject({ url: '/.well-known/jwks.json' })).json().keys as JWK[];
      expect(jwks.map((k) => k.kid).sort()).toEqual([oldKid, newKid].sort());
    } finally {
      await app2.close();
    }
  }, 120_000);
});

describe('issue 18 item 8: the HS* kid reveals nothing about JWT_SECRET', () => {
  /** What the kid used to be: the JWK thumbprint (an unsalted SHA-256) of JWT_SECRET. */
  const thumbprintOf = (secret: string) =>
    calculateJwkThumbprint({ kty: 'oct', k: Buffer.from(secret).toString('base64url') });

  it('finding 8 — under HS* the kid in a token is the same whatever JWT_SECRET is, so it cannot be used to test guesses of the secret', async () => {
    const secrets = ['first-deployment-secret-0123456789abcdef', 'second-deployment-secret-0123456789abcdef'];
    const kids: string[] = [];
    for (const secret of secrets) {
      // Only the secret changes (same database, whose HS256 keys are never rotated: the JWT_SECRET key signs).
      const app = await createTestApp({ JWT_SECRET: secret }, base);
      opened.push(app);
      const { tenant, admin } = await newTenant(app);
      const token = (await login(app, tenant.id, admin.email)).access_token;
      expect((await me(app, token)).statusCode).toBe(200);
      const kid = kidOf(token)!;
      expect(kid).toBeTruthy();
      // None of the obvious unsalted functions of the secret.
      const digest = createHash('sha256').update(secret).digest();
      expect([
        await thumbprintOf(secret),
        digest.toString('hex'),
        digest.toString('base64url'),
        secret,
      ]).not.toContain(kid);
      expect(kid).not.toContain(secret);
      kids.push(kid);
    }
    // The property: two different secrets give the same kid, so the kid carries no information about either.
    expect(kids[0]).toBe(kids[1]);
  }, 90_000);

  it('finding 8 — a token issued before the upgrade (kid = thumbprint of JWT_SECRET) still verifies until its key window ends: nobody is logged out', async () => {
    await forgetKeys('HS512');
    const clock = new MovableClock();
    const app = await replica('HS512', clock);
    const secret = app.ctx.config.jwtSecret;
    const key = new TextEncoder().encode(secret);
    const legacyKid = await thumbprintOf(secret);
    const { tenant, admin } = await newTenant(app);
    const fresh = (await login(app, tenant.id, admin.email)).access_token;
    expect(kidOf(fresh)).not.toBe(legacyKid);
    const old = await resign(app, fresh, { alg: 'HS512', kid: legacyKid }, key);
    expect((await me(app, old)).statusCode).toBe(200);
    // The legacy kid names JWT_SECRET's key only: another secret under it is refused.
    const forged = await resign(app, fresh, { alg: 'HS512', kid: legacyKid }, new Uint8Array(64).fill(1));
    expect((await me(app, forged)).statusCode).toBe(401);

    // A rotation retires the JWT_SECRET key under its new kid; the old tokens verify through the window, not after.
    const { previousKid, previousVerifiesUntil } = await app.ctx.jwt.rotate();
    expect(previousKid).toBe(kidOf(fresh));
    expect((await keyRows('HS512')).map((r) => r.kid)).not.toContain(legacyKid);
    expect((await me(app, old)).statusCode).toBe(200);
    clock.advance((Date.parse(previousVerifiesUntil) - clock.now()) / 1000 + 1);
    const live = (await login(app, tenant.id, admin.email)).access_token;
    const late = await resign(app, live, { alg: 'HS512', kid: legacyKid }, key);
    expect((await me(app, late)).statusCode).toBe(401);
  });
});
