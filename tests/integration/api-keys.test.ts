/**
 * API keys (API.md §9, §13): creation, listing, revocation, keys as credentials (scopes ∩ the owner's current
 * permissions, tenant-owned keys), expiry, revocation across replicas, tenant isolation, storage, quota.
 */
import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyBucketKey } from '../../src/modules/api-keys/rate-limit.js';
import {
  intersectPermissions,
  scopesAsPermissions,
  scopesNotHeld,
} from '../../src/modules/api-keys/scopes.js';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant, newUser, type Tokens } from '../helpers/factories.js';
import { testErasure } from '../helpers/gdpr.js';

let app: FastifyInstance;
let replica: FastifyInstance;

beforeAll(async () => {
  app = await createTestApp();
  replica = await createTestApp({}, app);
});
afterAll(async () => {
  await replica?.close();
  await app?.close();
});

const RAW = /^mc_sk_[0-9a-f]{64}$/;
const apiKey = (raw: string) => ({ 'x-api-key': raw });

async function roleId(tenantId: number, code: string): Promise<string> {
  const r = await app.ctx.database.withTenant(tenantId, (tx) =>
    tx.execute<{ id: string }>(
      sql`select id::text as id from roles where tenant_id = ${tenantId} and code = ${code}`,
    ),
  );
  return r.rows[0]!.id;
}

async function grantRole(admin: Tokens, userId: number, role: string) {
  const res = await app.inject({
    method: 'POST',
    url: `/api/v1/users/${userId}/roles`,
    headers: bearer(admin),
    payload: { role_id: role },
  });
  expect(res.statusCode, res.body).toBe(201);
}

async function createKey(tokens: Tokens | string, payload: Record<string, unknown>, target = app) {
  const headers = typeof tokens === 'string' ? apiKey(tokens) : bearer(tokens);
  const res = await target.inject({ method: 'POST', url: '/api/v1/api-keys', headers, payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: number; raw_key: string; key_prefix: string; scopes: string[] };
}

/** A tenant whose admin holds `owner` (RBAC's first admin). */
async function tenantWithAdmin() {
  const t = await newTenant(app);
  const tokens = await login(app, t.tenant.id, t.admin.email);
  return { ...t, tokens };
}

describe('scopes (pure)', () => {
  it('maps legacy scopes and intersects with wildcards', () => {
    expect([...scopesAsPermissions(['users:read'])]).toEqual(['users.read']);
    expect([...scopesAsPermissions(['users:admin', 'audit.read'])].sort()).toEqual(['audit.read', 'users.*']);
    expect([...intersectPermissions(['users.*'], ['users.read', 'roles.read'])]).toEqual(['users.read']);
    expect([...intersectPermissions(['*'], ['users.*'])]).toEqual(['users.*']);
    expect([...intersectPermissions(['users.read'], ['*'])]).toEqual(['users.read']);
    expect([...intersectPermissions(['users.read'], ['roles.*'])]).toEqual([]);
    expect(scopesNotHeld(['users:admin', 'users:read'], new Set(['users.read']))).toEqual(['users:admin']);
  });
});

describe('API keys', () => {
  it('creates a key shown once; it lists users but is refused POST /users (scope)', async () => {
    const { tenant, tokens } = await tenantWithAdmin();
    const key = await createKey(tokens, { name: 'reader', scopes: ['users:read'] });
    expect(key.raw_key).toMatch(RAW);
    expect(key.key_prefix).toBe(key.raw_key.slice(0, 12));
    expect(key.scopes).toEqual(['users:read']);

    const list = await app.inject({ method: 'GET', url: '/api/v1/users', headers: apiKey(key.raw_key) });
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json().users.every((u: { tenant_id: number }) => u.tenant_id === tenant.id)).toBe(true);
    const viaBearer = await app.inject({
      method: 'GET',
      url: '/api/v1/users',
      headers: { authorization: `Bearer ${key.raw_key}` },
    });
    expect(viaBearer.statusCode).toBe(200);

    const create = await app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: apiKey(key.raw_key),
      payload: { email: 'x@example.test', password: 'Correct-Horse-42-battery' },
    });
    expect(create.statusCode).toBe(403);
    expect(create.json().error).toBe('API_KEY_SCOPE_INSUFFICIENT');

    // The denial is audited with the key as the actor.
    const audit = await app.ctx.database.withTenant(tenant.id, (tx) =>
      tx.execute<{ actor_type: string; actor_id: string }>(
        sql`select actor_type, actor_id from audit_log where tenant_id = ${tenant.id} and event_type = 'access.permission_denied'`,
      ),
    );
    expect(audit.rows).toEqual([{ actor_type: 'api_key', actor_id: String(key.id) }]);
  });

  it('stores only the SHA-256 of the key: no column holds the raw key', async () => {
    const { tenant, tokens } = await tenantWithAdmin();
    const key = await createKey(tokens, { name: 'stored', scopes: ['users:read'] });
    const rows = await app.ctx.database.withTenant(tenant.id, (tx) =>
      tx.execute<Record<string, unknown>>(
        sql`select * from api_keys where tenant_id = ${tenant.id} and id = ${key.id}`,
      ),
    );
    expect(rows.rows).toHaveLength(1);
    const row = rows.rows[0]!;
    for (const value of Object.values(row)) {
      const text = value instanceof Date ? value.toISOString() : JSON.stringify(value ?? null);
      expect(text).not.toContain(key.raw_key);
      expect(text).not.toContain(key.raw_key.slice(6));
    }
    expect(row.key_hash).toBe(createHash('sha256').update(key.raw_key).digest('hex'));
  });

  it('lists, gets and revokes; a second revocation is 400; include_revoked shows it', async () => {
    const { tenant, tokens, admin } = await tenantWithAdmin();
    const a = await createKey(tokens, { name: 'a', scopes: ['users:read'] });
    const b = await createKey(tokens, { name: 'b', scopes: [] });
    const list = await app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: bearer(tokens) });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toMatchObject({ total: 2, active_count: 2 });
    expect(list.json().keys[0]).not.toHaveProperty('key_hash');
    expect(list.json().keys.map((k: { id: number }) => k.id)).toEqual([b.id, a.id]);

    const one = await app.inject({ method: 'GET', url: `/api/v1/api-keys/${a.id}`, headers: bearer(tokens) });
    expect(one.json()).toMatchObject({
      id: a.id,
      name: 'a',
      tenant_id: tenant.id,
      key_prefix: a.key_prefix,
      is_revoked: false,
      is_expired: false,
      created_by_user_id: admin.id,
    });
    expect(JSON.stringify(one.json())).not.toContain(a.raw_key);

    const del = await app.inject({
      method: 'DELETE',
      url: `/api/v1/api-keys/${a.id}`,
      headers: bearer(tokens),
    });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toMatchObject({ success: true, revoked_key_id: a.id });
    const again = await app.inject({
      method: 'DELETE',
      url: `/api/v1/api-keys/${a.id}`,
      headers: bearer(tokens),
    });
    expect(again.statusCode).toBe(400);

    const active = await app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: bearer(tokens) });
    expect(active.json()).toMatchObject({ total: 1, active_count: 1 });
    const all = await app.inject({
      method: 'GET',
      url: '/api/v1/api-keys?include_revoked=true&limit=1&skip=1',
      headers: bearer(tokens),
    });
    expect(all.json()).toMatchObject({ total: 2, active_count: 1 });
    expect(all.json().keys).toHaveLength(1);
    expect(all.json().keys[0]).toMatchObject({ id: a.id, is_revoked: true });

    const audit = await app.ctx.database.withTenant(tenant.id, (tx) =>
      tx.execute<{ event_type: string }>(
        sql`select event_type from audit_log where tenant_id = ${tenant.id} and resource_type = 'api_key' order by seq`,
      ),
    );
    expect(audit.rows.map((r) => r.event_type)).toEqual([
      'api_key.created',
      'api_key.created',
      'api_key.revoked',
    ]);
  });

  it('a revoked key is 401 API_KEY_REVOKED on the next call, on this replica and another that cached it', async () => {
    const { tokens } = await tenantWithAdmin();
    const key = await createKey(tokens, { name: 'to-revoke', scopes: ['users:read'] });
    // Warm both replicas' caches.
    for (const target of [app, replica]) {
      expect(
        (await target.inject({ method: 'GET', url: '/api/v1/users', headers: apiKey(key.raw_key) }))
          .statusCode,
      ).toBe(200);
    }
    const del = await app.inject({
      method: 'DELETE',
      url: `/api/v1/api-keys/${key.id}`,
      headers: bearer(tokens),
    });
    expect(del.statusCode).toBe(200);
    for (const target of [app, replica]) {
      const res = await target.inject({ method: 'GET', url: '/api/v1/users', headers: apiKey(key.raw_key) });
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toBe('API_KEY_REVOKED');
    }
  });

  it('revoking races: of 8 parallel revocations exactly one wins', async () => {
    const { tokens } = await tenantWithAdmin();
    const key = await createKey(tokens, { name: 'race', scopes: [] });
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 ? replica : app).inject({
          method: 'DELETE',
          url: `/api/v1/api-keys/${key.id}`,
          headers: bearer(tokens),
        }),
      ),
    );
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 400, 400, 400, 400, 400, 400, 400]);
  });

  it('an expired key is 401 API_KEY_EXPIRED; unknown and malformed keys are INVALID_API_KEY', async () => {
    const { tokens } = await tenantWithAdmin();
    const key = await createKey(tokens, {
      name: 'short',
      scopes: ['users:read'],
      expires_at: new Date(Date.now() + 1200).toISOString(),
    });
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/users', headers: apiKey(key.raw_key) })).statusCode,
    ).toBe(200);
    await new Promise((r) => setTimeout(r, 1400));
    const res = await app.inject({ method: 'GET', url: '/api/v1/users', headers: apiKey(key.raw_key) });
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('API_KEY_EXPIRED');
    const listed = await app.inject({
      method: 'GET',
      url: `/api/v1/api-keys/${key.id}`,
      headers: bearer(tokens),
    });
    expect(listed.json().is_expired).toBe(true);

    for (const raw of [`mc_sk_${'0'.repeat(64)}`, 'mc_sk_short', 'not-a-key']) {
      const r = await app.inject({ method: 'GET', url: '/api/v1/users', headers: apiKey(raw) });
      expect(r.statusCode).toBe(401);
      expect(r.json().error).toBe('INVALID_API_KEY');
    }
    const past = await app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: bearer(tokens),
      payload: { name: 'past', expires_at: '2000-01-01T00:00:00Z' },
    });
    expect(past.statusCode).toBe(422);
  });

  it("a key acts with its creator's CURRENT permissions: the creator loses users.read, the key gets 403", async () => {
    const { tenant, tokens } = await tenantWithAdmin();
    const user = await newUser(app, tenant.id);
    const adminRole = await roleId(tenant.id, 'admin');
    await grantRole(tokens, user.id, adminRole);
    const userTokens = await login(app, tenant.id, user.email);
    const key = await createKey(userTokens, { name: 'mine', scopes: ['users:read'] });
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/users', headers: apiKey(key.raw_key) })).statusCode,
    ).toBe(200);

    const removed = await app.inject({
      method: 'DELETE',
      url: `/api/v1/users/${user.id}/roles/${adminRole}`,
      headers: bearer(tokens),
    });
    expect(removed.statusCode).toBe(204);
    for (const target of [app, replica]) {
      const res = await target.inject({ method: 'GET', url: '/api/v1/users', headers: apiKey(key.raw_key) });
      expect(res.statusCode).toBe(403);
      // The scope covers it; the user lost it.
      expect(res.json().error).toBe('PERMISSION_DENIED');
    }
  });

  it("a deactivated user's key is refused at once on every route and replica (ACCOUNT_INACTIVE), and works again after activation", async () => {
    const { tenant, tokens } = await tenantWithAdmin();
    const user = await newUser(app, tenant.id);
    await grantRole(tokens, user.id, await roleId(tenant.id, 'admin'));
    const key = await createKey(await login(app, tenant.id, user.email), {
      name: 'u',
      scopes: ['users:read'],
    });
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/users', headers: apiKey(key.raw_key) })).statusCode,
    ).toBe(200);
    const off = await app.inject({
      method: 'POST',
      url: `/api/v1/users/${user.id}/deactivate`,
      headers: bearer(tokens),
    });
    expect(off.statusCode, off.body).toBe(200);
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/users', headers: apiKey(key.raw_key) })).statusCode,
    ).toBe(403);
    // Also at once on a route open to any caller, although this replica still caches the key row.
    const selfNow = await app.inject({ url: '/api/v1/features/evaluate', headers: apiKey(key.raw_key) });
    expect(selfNow.statusCode).toBe(403);
    expect(selfNow.json().error).toBe('ACCOUNT_INACTIVE');
    const fresh = await createTestApp({}, app);
    try {
      const self = await fresh.inject({
        method: 'GET',
        url: '/api/v1/features/evaluate',
        headers: apiKey(key.raw_key),
      });
      expect(self.statusCode).toBe(403);
      expect(self.json().error).toBe('ACCOUNT_INACTIVE');
    } finally {
      await fresh.close();
    }
    await app.inject({ method: 'POST', url: `/api/v1/users/${user.id}/activate`, headers: bearer(tokens) });
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/users', headers: apiKey(key.raw_key) })).statusCode,
    ).toBe(200);
  });

  it('a user may only put scopes they hold on a key; unknown scopes are 422', async () => {
    const { tenant, tokens } = await tenantWithAdmin();
    const user = await newUser(app, tenant.id);
    await grantRole(tokens, user.id, await roleId(tenant.id, 'admin'));
    const userTokens = await login(app, tenant.id, user.email);
    const notHeld = await app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: bearer(userTokens),
      payload: { name: 'x', scopes: ['platform.tenants'] },
    });
    expect(notHeld.statusCode).toBe(403);
    const unknown = await app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: bearer(userTokens),
      payload: { name: 'x', scopes: ['users:fly'] },
    });
    expect(unknown.statusCode).toBe(422);
    const noName = await app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: bearer(userTokens),
      payload: { scopes: [] },
    });
    expect(noName.statusCode).toBe(422);
    const extra = await app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: bearer(userTokens),
      payload: { name: 'x', hash: 'y' },
    });
    expect(extra.statusCode).toBe(422);
    // A key with api_keys.write may mint keys, never wider than itself.
    const minter = await createKey(userTokens, { name: 'minter', scopes: ['api_keys.write', 'users:read'] });
    const wider = await app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: apiKey(minter.raw_key),
      payload: { name: 'w', scopes: ['users:write'] },
    });
    expect(wider.statusCode).toBe(403);
    const narrower = await createKey(minter.raw_key, { name: 'n', scopes: ['users:read'] });
    // Its creation is audited with the key as the actor.
    const audit = await app.ctx.database.withTenant(tenant.id, (tx) =>
      tx.execute<{ actor_type: string; actor_id: string }>(
        sql`select actor_type, actor_id from audit_log where tenant_id = ${tenant.id} and event_type = 'api_key.created' and resource_id = ${String(narrower.id)}`,
      ),
    );
    expect(audit.rows).toEqual([{ actor_type: 'api_key', actor_id: String(minter.id) }]);
  });

  it("a tenant-owned key acts with its role ∩ scopes and outlives its creator's permissions", async () => {
    const { tenant, tokens } = await tenantWithAdmin();
    const creator = await newUser(app, tenant.id);
    const adminRole = await roleId(tenant.id, 'admin');
    await grantRole(tokens, creator.id, adminRole);
    const creatorTokens = await login(app, tenant.id, creator.email);
    const viewer = await roleId(tenant.id, 'viewer');
    const key = await createKey(creatorTokens, {
      name: 'svc',
      owner: 'tenant',
      role_id: viewer,
      scopes: ['users:read', 'users:write'],
    });

    const read = await app.inject({ method: 'GET', url: '/api/v1/users', headers: apiKey(key.raw_key) });
    expect(read.statusCode).toBe(200);
    const write = await app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: apiKey(key.raw_key),
      payload: { email: 'svc@example.test', password: 'Correct-Horse-42-battery' },
    });
    expect(write.statusCode).toBe(403); // viewer has no users.write

    await app.inject({
      method: 'DELETE',
      url: `/api/v1/users/${creator.id}/roles/${adminRole}`,
      headers: bearer(tokens),
    });
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/users', headers: apiKey(key.raw_key) })).statusCode,
    ).toBe(200);

    const listed = await app.inject({
      method: 'GET',
      url: `/api/v1/api-keys/${key.id}`,
      headers: bearer(tokens),
    });
    expect(listed.json()).toMatchObject({ owner: 'tenant', role_id: viewer, created_by_user_id: creator.id });
    // Without a role, or with an unknown one: refused.
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/api/v1/api-keys',
          headers: bearer(tokens),
          payload: { name: 'r', owner: 'tenant' },
        })
      ).statusCode,
    ).toBe(422);
    const unknownRole = await app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: bearer(tokens),
      payload: { name: 'r', owner: 'tenant', role_id: '00000000-0000-4000-8000-000000000000' },
    });
    expect(unknownRole.statusCode).toBe(404);
  });

  it("tenant isolation: a tenant-B key sees none of tenant A (404 on A's key ids and users)", async () => {
    const a = await tenantWithAdmin();
    const b = await tenantWithAdmin();
    const keyA = await createKey(a.tokens, { name: 'a', scopes: ['users:read'] });
    const keyB = await createKey(b.tokens, {
      name: 'b',
      scopes: ['users:read', 'api_keys.read', 'api_keys.write'],
    });
    const h = apiKey(keyB.raw_key);
    expect(
      (await app.inject({ method: 'GET', url: `/api/v1/api-keys/${keyA.id}`, headers: h })).statusCode,
    ).toBe(404);
    expect(
      (await app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${keyA.id}`, headers: h })).statusCode,
    ).toBe(404);
    expect(
      (await app.inject({ method: 'GET', url: `/api/v1/users/${a.admin.id}`, headers: h })).statusCode,
    ).toBe(404);
    const keys = await app.inject({
      method: 'GET',
      url: '/api/v1/api-keys?include_revoked=true',
      headers: h,
    });
    expect(keys.json().keys.map((k: { id: number }) => k.id)).toEqual([keyB.id]);
    const users = await app.inject({ method: 'GET', url: '/api/v1/users', headers: h });
    expect(users.json().users.map((u: { id: number }) => u.id)).toEqual([b.admin.id]);
    // The token's tenant wins over a header naming another tenant.
    expect(
      (
        await app.inject({
          method: 'GET',
          url: '/api/v1/users',
          headers: { ...h, 'x-tenant-id': String(a.tenant.id) },
        })
      ).statusCode,
    ).toBe(403);
    // A's key still works.
    expect(
      (await app.inject({ method: 'GET', url: `/api/v1/users/${a.admin.id}`, headers: apiKey(keyA.raw_key) }))
        .statusCode,
    ).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/v1/api-keys/abc', headers: h })).statusCode).toBe(
      422,
    );
  });

  it('records last_used_at, at most once a minute', async () => {
    const { tokens } = await tenantWithAdmin();
    const key = await createKey(tokens, { name: 'used', scopes: ['users:read'] });
    const before = await app.inject({
      method: 'GET',
      url: `/api/v1/api-keys/${key.id}`,
      headers: bearer(tokens),
    });
    expect(before.json().last_used_at).toBeNull();
    await Promise.all(
      Array.from({ length: 5 }, () =>
        app.inject({ method: 'GET', url: '/api/v1/users', headers: apiKey(key.raw_key) }),
      ),
    );
    const after = await app.inject({
      method: 'GET',
      url: `/api/v1/api-keys/${key.id}`,
      headers: bearer(tokens),
    });
    const first = after.json().last_used_at;
    expect(first).not.toBeNull();
    await app.inject({ method: 'GET', url: '/api/v1/users', headers: apiKey(key.raw_key) });
    const later = await app.inject({
      method: 'GET',
      url: `/api/v1/api-keys/${key.id}`,
      headers: bearer(tokens),
    });
    expect(later.json().last_used_at).toBe(first);
  });

  it("GDPR hooks export the user's keys without hashes and erasure revokes them", async () => {
    const { tenant, tokens, admin } = await tenantWithAdmin();
    const key = await createKey(tokens, { name: 'gdpr', scopes: ['users:read'] });
    const exporter = app.ctx.hooks.gdprExport.find((h) => h.name === 'api_keys')!;
    const exported = (await app.ctx.database.withTenant(tenant.id, (tx) =>
      exporter.collect(tx, tenant.id, admin.id),
    )) as { id: number }[];
    expect(exported.map((k) => k.id)).toEqual([key.id]);
    expect(JSON.stringify(exported)).not.toMatch(/key_hash|[0-9a-f]{64}/);
    const eraser = app.ctx.hooks.gdprErase.find((h) => h.name === 'api_keys')!;
    const afterCommit: (() => Promise<void>)[] = [];
    await app.ctx.database.withTenant(tenant.id, (tx) =>
      eraser.erase(tx, tenant.id, admin.id, (fn) => afterCommit.push(fn), testErasure(admin.email)),
    );
    // The store flag is the erasure's after-commit step (a rolled-back erasure must leave the keys working).
    for (const fn of afterCommit) await fn();
    const res = await replica.inject({ method: 'GET', url: '/api/v1/users', headers: apiKey(key.raw_key) });
    expect(res.json().error).toBe('API_KEY_REVOKED');
  });
});

describe('per-key quota', () => {
  let limited: FastifyInstance;
  beforeAll(async () => {
    limited = await createTestApp({ RATE_LIMIT_ENABLED: 'true' }, app);
  });
  afterAll(async () => limited?.close());

  it('sends X-RateLimit headers and answers 429 past 1000 requests an hour', async () => {
    const { tokens } = await tenantWithAdmin();
    const key = await createKey(tokens, { name: 'quota', scopes: ['users:read'] });
    const ok = await limited.inject({ method: 'GET', url: '/api/v1/users', headers: apiKey(key.raw_key) });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['x-ratelimit-limit']).toBeDefined();
    // Use up the hour's quota in the shared store, as 999 earlier requests on any replica would have.
    await limited.ctx.store.set(keyBucketKey(key.id), '999', 3600);
    const last = await limited.inject({ method: 'GET', url: '/api/v1/users', headers: apiKey(key.raw_key) });
    expect(last.statusCode).toBe(200);
    expect(last.headers['x-ratelimit-limit']).toBe('1000');
    expect(last.headers['x-ratelimit-remaining']).toBe('0');
    const over = await limited.inject({ method: 'GET', url: '/api/v1/users', headers: apiKey(key.raw_key) });
    expect(over.statusCode).toBe(429);
    expect(over.json().error).toBe('RATE_LIMIT_EXCEEDED');
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('honours RATE_LIMIT_API_KEY, counted across replicas', async () => {
    const small = await createTestApp({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_API_KEY: '3' }, app);
    const smallReplica = await createTestApp({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_API_KEY: '3' }, app);
    try {
      const { tokens } = await tenantWithAdmin();
      const key = await createKey(tokens, { name: 'small', scopes: ['users:read'] });
      const codes = [];
      for (const target of [small, smallReplica, small, smallReplica]) {
        codes.push(
          (await target.inject({ method: 'GET', url: '/api/v1/users', headers: apiKey(key.raw_key) }))
            .statusCode,
        );
      }
      expect(codes).toEqual([200, 200, 200, 429]);
    } finally {
      await smallReplica.close();
      await small.close();
    }
  });
});
