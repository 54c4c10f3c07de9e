/**
 * Finding 5 (issue 10): one tenant could take every address of the shared WireGuard pool and, under WG_ENFORCE,
 * lock every other tenant out. A per-tenant quota (`wireguard.max_peers`, platform operators only, default
 * WG_MAX_PEERS_PER_TENANT) now bounds the addresses a tenant holds; it is checked under the pool lock, so
 * parallel creates cannot overshoot it (run this file on real PostgreSQL too).
 */
import { generateKeyPairSync, randomInt } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant } from '../helpers/factories.js';
import { type Caller, platformOperator } from '../helpers/rbac.js';

/** Each run gets its own network: the pool is global, and real PostgreSQL keeps peers across runs. */
const randomNet = (prefix: number) => `10.${randomInt(1, 250)}.${randomInt(0, 255)}.0/${prefix}`;
const clientKey = () =>
  Buffer.from(generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }).x!, 'base64url').toString(
    'base64',
  );

let app: FastifyInstance;
let operator: Caller;
beforeAll(async () => {
  // A /26 holds 61 clients, more than this file creates; the server default quota here is 3.
  app = await createTestApp({ WG_NETWORK: randomNet(26), WG_MAX_PEERS_PER_TENANT: '3' });
  operator = await platformOperator(app);
});
afterAll(async () => {
  await app?.close();
});

async function tenantAdmin() {
  const t = await newTenant(app, { superuser: true });
  return { ...t, h: bearer(await login(app, t.tenant.id, t.admin.email)) };
}

let n = 0;
const create = (h: Record<string, string>) =>
  app.inject({
    method: 'POST',
    url: '/api/v1/wireguard/peers',
    headers: h,
    payload: { name: `q${n++}`, public_key: clientKey() },
  });

const setQuota = (tenantId: number, max_peers: unknown) =>
  operator.call('PATCH', `/api/v1/tenants/${tenantId}`, { settings: { wireguard: { max_peers } } });

describe('finding 5: per-tenant WireGuard peer quota', () => {
  it('finding 5: a tenant stops at its quota with 409 WG_QUOTA_EXCEEDED while another tenant still gets addresses', async () => {
    const a = await tenantAdmin();
    const b = await tenantAdmin();
    const current = await app.inject({ url: '/api/v1/tenants/current', headers: a.h });
    expect(current.json().settings.wireguard).toEqual({ max_peers: 3 });
    const made = [];
    for (let i = 0; i < 3; i++) {
      const r = await create(a.h);
      expect(r.statusCode, r.body).toBe(201);
      made.push(r.json().id as string);
    }
    const over = await create(a.h);
    expect(over.statusCode, over.body).toBe(409);
    expect(over.json().error).toBe('WG_QUOTA_EXCEEDED');
    expect(over.json().details).toEqual({ max_peers: 3, peers: 3 });
    // The other tenant is not locked out of the pool.
    const other = await create(b.h);
    expect(other.statusCode, other.body).toBe(201);
    // A revoked peer keeps its address, so it keeps its place; deleting it frees both.
    const revoked = await app.inject({
      method: 'POST',
      url: `/api/v1/wireguard/peers/${made[0]}/revoke`,
      headers: a.h,
    });
    expect(revoked.statusCode).toBe(200);
    expect((await create(a.h)).json().error).toBe('WG_QUOTA_EXCEEDED');
    const del = await app.inject({
      method: 'DELETE',
      url: `/api/v1/wireguard/peers/${made[0]}`,
      headers: a.h,
    });
    expect(del.statusCode).toBe(204);
    expect((await create(a.h)).statusCode).toBe(201);
  });

  it('finding 5: only platform operators set wireguard.max_peers (PATCH /tenants/{id}); tenant admins cannot', async () => {
    const a = await tenantAdmin();
    const own = await app.inject({
      method: 'PATCH',
      url: '/api/v1/tenants/current',
      headers: a.h,
      payload: { settings: { wireguard: { max_peers: 1000 } } },
    });
    expect(own.statusCode, own.body).toBe(422);
    const platformRoute = await app.inject({
      method: 'PATCH',
      url: `/api/v1/tenants/${a.tenant.id}`,
      headers: a.h,
      payload: { settings: { wireguard: { max_peers: 1000 } } },
    });
    expect(platformRoute.statusCode).toBe(403);

    const set = await setQuota(a.tenant.id, 5);
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json().settings.wireguard).toEqual({ max_peers: 5 });
    expect(set.json().id).toBe(a.tenant.id);
    // Audited in the tenant's chain and in the operator's.
    const rows = await app.ctx.database.query<{ tenant_id: number; event_type: string }>(
      `select tenant_id, event_type from audit_log where resource_type = 'tenant' and resource_id = $1
         and event_type in ('tenant.updated', 'platform.tenant.updated')`,
      [String(a.tenant.id)],
    );
    expect(rows.map((r) => `${r.tenant_id}:${r.event_type}`).sort()).toEqual(
      [`${a.tenant.id}:tenant.updated`, `${operator.tenantId}:platform.tenant.updated`].sort(),
    );
    for (let i = 0; i < 5; i++) expect((await create(a.h)).statusCode).toBe(201);
    expect((await create(a.h)).json().details).toEqual({ max_peers: 5, peers: 5 });
    // The tenant's own settings change leaves the operator's value alone.
    const patched = await app.inject({
      method: 'PATCH',
      url: '/api/v1/tenants/current',
      headers: a.h,
      payload: { settings: { self_registration: true } },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json().settings.wireguard).toEqual({ max_peers: 5 });

    // null returns to the server default; bad values are 422; unknown tenants 404.
    const reset = await setQuota(a.tenant.id, null);
    expect(reset.statusCode).toBe(200);
    expect(reset.json().settings.wireguard).toEqual({ max_peers: 3 });
    for (const bad of [-1, 1.5, 'ten', 2_000_000])
      expect((await setQuota(a.tenant.id, bad)).statusCode).toBe(422);
    const extra = await operator.call('PATCH', `/api/v1/tenants/${a.tenant.id}`, {
      settings: { mfa_required: true },
    });
    expect(extra.statusCode).toBe(422);
    expect((await setQuota(2_000_000_000, 4)).statusCode).toBe(404);
  });

  it('finding 5: parallel creates at quota - 1: exactly one succeeds, the rest are 409 WG_QUOTA_EXCEEDED', async () => {
    for (let round = 0; round < 3; round++) {
      const a = await tenantAdmin();
      expect((await setQuota(a.tenant.id, 2)).statusCode).toBe(200);
      expect((await create(a.h)).statusCode).toBe(201);
      const res = await Promise.all(Array.from({ length: 6 }, () => create(a.h)));
      expect(res.map((r) => r.statusCode).sort()).toEqual([201, 409, 409, 409, 409, 409]);
      for (const r of res.filter((x) => x.statusCode === 409))
        expect(r.json().error).toBe('WG_QUOTA_EXCEEDED');
      const list = await app.inject({
        url: '/api/v1/wireguard/peers?include_revoked=true',
        headers: a.h,
      });
      expect(list.json().total).toBe(2);
    }
  });

  it('finding 5: WG_MAX_PEERS_PER_TENANT sets the default (50) and refuses nonsense', () => {
    const strong = {
      JWT_SECRET: 'a-very-long-production-jwt-key-0123456789',
      ENCRYPTION_KEY: 'ab'.repeat(32),
    };
    expect(loadConfig({ ENV: 'test', ...strong }, { persistSecrets: false }).wgMaxPeersPerTenant).toBe(50);
    expect(
      loadConfig({ ENV: 'test', ...strong, WG_MAX_PEERS_PER_TENANT: '7' }, { persistSecrets: false })
        .wgMaxPeersPerTenant,
    ).toBe(7);
    expect(() =>
      loadConfig({ ENV: 'test', ...strong, WG_MAX_PEERS_PER_TENANT: '-1' }, { persistSecrets: false }),
    ).toThrow(/WG_MAX_PEERS_PER_TENANT/);
  });
});
