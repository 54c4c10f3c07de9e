/**
 * Machine tokens (docs/oidc-provider.md, "Machine tokens"; API.md §13, §22): the RFC 9068 JWT access tokens the
 * tenant's OpenID Provider issues with client_credentials are accepted on /api/v1 like a tenant-owned API key.
 * The tokens are minted here with jose and the provider's private keys (JwtService.providerKeys), as the provider
 * will mint them; every refusal (signature, algorithm, issuer of another tenant, audience, expiry, client
 * disabled or deleted, on another replica too) is a 401, a missing permission a 403 audited with the client as
 * the actor.
 */
import { createPublicKey, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { importJWK, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant, type Tokens } from '../helpers/factories.js';

let app: FastifyInstance;
/** Another replica over the same database and store, with its own caches. */
let replica: FastifyInstance;

beforeAll(async () => {
  app = await createTestApp();
  replica = await createTestApp({}, app);
});
afterAll(async () => {
  await replica?.close();
  await app?.close();
});

interface Setup {
  tenantId: number;
  slug: string;
  admin: Tokens;
  client: { id: string; client_id: string };
}

async function tenantWithClient(permissions = ['users.read', 'roles.read']): Promise<Setup> {
  const { tenant, admin } = await newTenant(app);
  const tokens = await login(app, tenant.id, admin.email);
  const client = await registerClient(tokens, permissions);
  return { tenantId: tenant.id, slug: tenant.slug, admin: tokens, client };
}

async function registerClient(admin: Tokens, permissions: string[]) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/oidc/clients',
    headers: bearer(admin),
    payload: {
      name: 'Nightly export',
      type: 'confidential',
      grant_types: ['client_credentials'],
      permissions,
      allowed_scopes: [],
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; client_id: string };
}

const publicUrl = () => app.ctx.config.publicUrl.replace(/\/+$/, '');

interface MintOptions {
  scope?: string;
  alg?: 'RS256' | 'ES256' | 'EdDSA';
  iss?: string;
  aud?: string;
  tenantId?: number;
  clientId?: string;
  lifetime?: number;
  typ?: string;
}

/** A token as the provider's client_credentials grant issues it (overridable claim by claim). */
async function mint(s: Setup, o: MintOptions = {}): Promise<string> {
  const alg = o.alg ?? 'RS256';
  const { keys } = await app.ctx.jwt.providerKeys();
  const jwk = keys.find((k) => k.alg === alg)!;
  const now = Math.floor(app.ctx.clock.now() / 1000);
  const clientId = o.clientId ?? s.client.client_id;
  const lifetime = o.lifetime ?? 300;
  return new SignJWT({
    client_id: clientId,
    scope: o.scope ?? 'users.read',
    tenant_id: o.tenantId ?? s.tenantId,
  })
    .setProtectedHeader({ alg, kid: jwk.kid, typ: o.typ ?? 'at+jwt' })
    .setIssuer(o.iss ?? `${publicUrl()}/oidc/${s.slug}`)
    .setAudience(o.aud ?? `${publicUrl()}/api/v1`)
    .setSubject(clientId)
    .setJti(randomUUID())
    .setIssuedAt(lifetime > 0 ? now : now + lifetime - 60)
    .setExpirationTime(now + lifetime)
    .sign(await importJWK(jwk, alg));
}

const get = (url: string, token: string, target = app) =>
  target.inject({ method: 'GET', url, headers: bearer(token) });

async function deniedRecords(s: Setup) {
  const res = await app.inject({
    url: '/api/v1/audit/logs?event_type=access.permission_denied&limit=50',
    headers: bearer(s.admin),
  });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json().items as Record<string, unknown>[]).filter((r) => r.actor_type === 'oidc_client');
}

describe('machine tokens on /api/v1', () => {
  it('a token with users.read lists the tenant users, whichever provider algorithm signed it', async () => {
    const s = await tenantWithClient();
    for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
      const res = await get('/api/v1/users', await mint(s, { alg }));
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().total).toBeGreaterThanOrEqual(1);
    }
    // The other replica accepts it too.
    expect((await get('/api/v1/users', await mint(s), replica)).statusCode).toBe(200);
  });

  it('a permission the token lacks is a 403, audited with the client as the actor; the client bounds the scopes', async () => {
    const s = await tenantWithClient(['users.read']);
    const token = await mint(s, { scope: 'users.read roles.read' });
    const res = await get('/api/v1/roles', token);
    expect(res.statusCode, res.body).toBe(403);
    expect(res.json().error).toBe('PERMISSION_DENIED');
    const audit = await get('/api/v1/audit/logs', token);
    expect(audit.statusCode).toBe(403);
    const records = await deniedRecords(s);
    expect(records.length).toBe(2);
    for (const r of records) {
      expect(r.actor_id).toBe(s.client.id);
      expect(r.success).toBe(false);
    }
    // Filtering the trail by the client works as for users and keys.
    const byActor = await app.inject({
      url: `/api/v1/audit/logs?actor=oidc_client:${s.client.id}`,
      headers: bearer(s.admin),
    });
    expect(byActor.json().items.length).toBe(2);
  });

  it('the client permissions are read again: a reduced client loses the permission at once on this replica', async () => {
    const s = await tenantWithClient(['users.read', 'roles.read']);
    const token = await mint(s, { scope: 'users.read roles.read' });
    expect((await get('/api/v1/roles', token)).statusCode).toBe(200);
    const patch = await app.inject({
      method: 'PATCH',
      url: `/api/v1/oidc/clients/${s.client.id}`,
      headers: bearer(s.admin),
      payload: { permissions: ['users.read'] },
    });
    expect(patch.statusCode, patch.body).toBe(200);
    expect((await get('/api/v1/roles', token)).statusCode).toBe(403);
    expect((await get('/api/v1/users', token)).statusCode).toBe(200);
  });

  it('wildcards in the client permissions behave as for keys', async () => {
    const s = await tenantWithClient(['users.*']);
    expect((await get('/api/v1/users', await mint(s, { scope: 'users.read' }))).statusCode).toBe(200);
    expect((await get('/api/v1/users', await mint(s, { scope: 'users.*' }))).statusCode).toBe(200);
    // A wider scope than the client holds is cut down to it.
    const star = await mint(s, { scope: '*' });
    expect((await get('/api/v1/users', star)).statusCode).toBe(200);
    expect((await get('/api/v1/roles', star)).statusCode).toBe(403);
  });

  it('a disabled client: its tokens are 401 at once on every replica, and work again once it is enabled', async () => {
    const s = await tenantWithClient();
    const token = await mint(s);
    // Both replicas have the client cached.
    expect((await get('/api/v1/users', token)).statusCode).toBe(200);
    expect((await get('/api/v1/users', token, replica)).statusCode).toBe(200);
    const off = await app.inject({
      method: 'PATCH',
      url: `/api/v1/oidc/clients/${s.client.id}`,
      headers: bearer(s.admin),
      payload: { enabled: false },
    });
    expect(off.statusCode, off.body).toBe(200);
    for (const target of [app, replica]) {
      const res = await get('/api/v1/users', token, target);
      expect(res.statusCode, res.body).toBe(401);
      expect(res.json().error).toBe('TOKEN_INVALID');
    }
    // A fresh token of a disabled client is refused too (the client row says so).
    expect((await get('/api/v1/users', await mint(s))).statusCode).toBe(401);
    const on = await app.inject({
      method: 'PATCH',
      url: `/api/v1/oidc/clients/${s.client.id}`,
      headers: bearer(s.admin),
      payload: { enabled: true },
    });
    expect(on.statusCode).toBe(200);
    expect((await get('/api/v1/users', token)).statusCode).toBe(200);
  });

  it('a deleted client: its tokens are 401 at once on every replica', async () => {
    const s = await tenantWithClient();
    const token = await mint(s);
    expect((await get('/api/v1/users', token)).statusCode).toBe(200);
    expect((await get('/api/v1/users', token, replica)).statusCode).toBe(200);
    const del = await app.inject({
      method: 'DELETE',
      url: `/api/v1/oidc/clients/${s.client.id}`,
      headers: bearer(s.admin),
    });
    expect(del.statusCode, del.body).toBeLessThan(300);
    for (const target of [app, replica])
      expect((await get('/api/v1/users', token, target)).statusCode).toBe(401);
  });

  it("another tenant's issuer or tenant_id is refused (401), as is a client of another tenant", async () => {
    const a = await tenantWithClient();
    const b = await tenantWithClient();
    // Tenant A's client, tenant A's id, tenant B's issuer.
    const crossIss = await mint(a, { iss: `${publicUrl()}/oidc/${b.slug}` });
    expect((await get('/api/v1/users', crossIss)).statusCode).toBe(401);
    // Tenant B's id with A's issuer.
    expect((await get('/api/v1/users', await mint(a, { tenantId: b.tenantId }))).statusCode).toBe(401);
    // Tenant B's id and issuer, but A's client: B has no such client.
    const foreign = await mint(a, { tenantId: b.tenantId, iss: `${publicUrl()}/oidc/${b.slug}` });
    expect((await get('/api/v1/users', foreign)).statusCode).toBe(401);
    // An unknown tenant.
    expect((await get('/api/v1/users', await mint(a, { tenantId: 99_999_999 }))).statusCode).toBe(401);
  });

  it('alg none, HS256 signed with the RSA public key, a foreign key, expired, wrong audience, sub not the client: all 401', async () => {
    const s = await tenantWithClient();
    const good = await mint(s);
    const [, payload] = good.split('.');
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const { keys } = await app.ctx.jwt.providerPublicJwks();
    const rsa = keys.find((k) => k.alg === 'RS256')!;

    const none = `${b64({ alg: 'none', typ: 'at+jwt' })}.${payload}.`;
    const pem = createPublicKey({ key: rsa as JWK as never, format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    });
    const hs = await new SignJWT(JSON.parse(Buffer.from(payload!, 'base64url').toString()))
      .setProtectedHeader({ alg: 'HS256', kid: rsa.kid, typ: 'at+jwt' })
      .sign(new TextEncoder().encode(String(pem)));
    const { generateKeyPair } = await import('jose');
    const foreignKey = await generateKeyPair('RS256');
    const foreign = await new SignJWT(JSON.parse(Buffer.from(payload!, 'base64url').toString()))
      .setProtectedHeader({ alg: 'RS256', kid: rsa.kid, typ: 'at+jwt' })
      .sign(foreignKey.privateKey);
    const tampered = `${good.split('.')[0]}.${b64({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), scope: 'roles.read' })}.${good.split('.')[2]}`;

    for (const [name, token] of [
      ['none', none],
      ['hs256', hs],
      ['foreign', foreign],
      ['tampered', tampered],
      ['aud', await mint(s, { aud: `${publicUrl()}/api/v2` })],
      ['sub', await mint(s, { clientId: 'mc_someoneelse0000000000' })],
    ] as const) {
      const res = await get('/api/v1/users', token);
      expect(res.statusCode, `${name}: ${res.body}`).toBe(401);
      expect(res.json().error, name).toBe('TOKEN_INVALID');
    }
    const expired = await get('/api/v1/users', await mint(s, { lifetime: -10 }));
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error).toBe('TOKEN_EXPIRED');
    // Without typ at+jwt it is no machine token: read as a user access token, and refused as one.
    const plain = await get('/api/v1/users', await mint(s, { typ: 'JWT' }));
    expect(plain.statusCode).toBe(401);
  });

  it('a self route behaves as for a tenant-owned key: refused (403, audited) unless its keyScope is held', async () => {
    const s = await tenantWithClient();
    const res = await get('/api/v1/auth/me', await mint(s));
    expect(res.statusCode, res.body).toBe(403);
    expect(res.json().details).toMatchObject({ scope: 'profile.read' });
    expect((await deniedRecords(s)).map((r) => r.resource_id)).toContain('GET /api/v1/auth/me');
    // A route whose keyScope is null is never open to it.
    const sessions = await app.inject({
      method: 'DELETE',
      url: '/api/v1/sessions',
      headers: bearer(await mint(s)),
    });
    expect([403, 404]).toContain(sessions.statusCode);
  });

  it('user access tokens and API keys still work beside machine tokens', async () => {
    const s = await tenantWithClient();
    expect((await get('/api/v1/users', s.admin.access_token)).statusCode).toBe(200);
    const key = await app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: bearer(s.admin),
      payload: { name: 'k', scopes: ['users.read'] },
    });
    expect(key.statusCode, key.body).toBe(201);
    const raw = key.json().raw_key as string;
    expect((await get('/api/v1/users', raw)).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/v1/users', headers: { 'x-api-key': raw } })).statusCode).toBe(200);
  });
});
