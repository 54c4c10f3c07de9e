/** WireGuard peers API (API.md §15): keys, allocation, names, lifecycle, config, server, audit, isolation. */
import { generateKeyPairSync, randomInt } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant, newUser } from '../helpers/factories.js';

/** Each app gets its own network: the pool is global, and real PostgreSQL keeps peers across runs. */
const randomNet = (prefix = 24) => `10.${randomInt(1, 250)}.${randomInt(0, 255)}.0/${prefix}`;
const clientKey = () =>
  Buffer.from(generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }).x!, 'base64url').toString(
    'base64',
  );

let base: FastifyInstance;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  // The apps of this file share base's database pool. Allocations are serialised per network, so 200 at once queue
  // for that pool for seconds on a busy 2-core host: its wait limit (DB_CONNECT_TIMEOUT_MS, 5 s by default, tested
  // in outage.security) is not what this file measures.
  base = await createTestApp({
    WG_NETWORK: randomNet(),
    WG_ENDPOINT: 'vpn.example.test',
    DB_CONNECT_TIMEOUT_MS: '60000',
  });
});
afterAll(async () => {
  for (const a of apps) await a.close();
  await base.close();
});

async function appWith(network: string) {
  // These apps test the address pool itself: one tenant fills it, so the per-tenant quota must not stop it first.
  const a = await createTestApp(
    {
      WG_NETWORK: network,
      WG_ENDPOINT: 'vpn.example.test:51820',
      WG_MAX_PEERS_PER_TENANT: '100000',
    },
    base,
  );
  apps.push(a);
  return a;
}

async function admin(app: FastifyInstance) {
  const t = await newTenant(app, { superuser: true });
  const tokens = await login(app, t.tenant.id, t.admin.email);
  return { ...t, h: bearer(tokens) };
}

describe('creating peers', () => {
  it('generates a key pair, returns the secrets once with a wg-quick config and a QR code', async () => {
    const { h } = await admin(base);
    const res = await base.inject({
      method: 'POST',
      url: '/api/v1/wireguard/peers',
      headers: h,
      payload: { name: 'laptop', preshared_key: true },
    });
    expect(res.statusCode).toBe(201);
    const p = res.json();
    expect(p.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(p.private_key).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(p.preshared_key).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(p.config).toContain(`PrivateKey = ${p.private_key}`);
    expect(p.config).toContain(`PresharedKey = ${p.preshared_key}`);
    expect(p.config).toContain(`Address = ${p.assigned_ip}/32`);
    expect(p.config).toContain('Endpoint = vpn.example.test:51820');
    expect(Buffer.from(p.qr_code_base64, 'base64').subarray(1, 4).toString()).toBe('PNG');
    expect(p.allowed_ips).toEqual([`${p.assigned_ip}/32`]);
    expect(p.assigned_ip.endsWith('.2')).toBe(true); // the server holds .1
    expect(p).toMatchObject({
      peer_type: 'client',
      enabled: true,
      revoked_at: null,
      has_preshared_key: true,
      persistent_keepalive: 25,
    });
    expect(res.headers['cache-control']).toBe('no-store');

    // Never again: not in GET, and the config has placeholders.
    const got = await base.inject({ method: 'GET', url: `/api/v1/wireguard/peers/${p.id}`, headers: h });
    expect(got.statusCode).toBe(200);
    expect(got.body).not.toContain(p.private_key);
    expect(got.body).not.toContain(p.preshared_key);
    const conf = await base.inject({
      method: 'GET',
      url: `/api/v1/wireguard/peers/${p.id}/config`,
      headers: h,
    });
    expect(conf.statusCode).toBe(200);
    expect(conf.headers['content-type']).toMatch(/^text\/plain/);
    expect(conf.body).toContain('PrivateKey = <your-private-key>');
    expect(conf.body).not.toContain(p.private_key);
    expect(conf.body).not.toContain(p.preshared_key);

    // The server never stored the client's private key, and seals the preshared key.
    const rows = await base.ctx.database.query<{ preshared_key_sealed: string }>(
      'select preshared_key_sealed from wg_peers where id = $1',
      [p.id],
    );
    expect(rows[0]!.preshared_key_sealed.startsWith('enc:v1:')).toBe(true);
    const all = JSON.stringify(await base.ctx.database.query('select * from wg_peers where id = $1', [p.id]));
    expect(all).not.toContain(p.private_key);
  });

  it('accepts a client public key: no private key, no QR, config with a placeholder', async () => {
    const { h } = await admin(base);
    const key = clientKey();
    const res = await base.inject({
      method: 'POST',
      url: '/api/v1/wireguard/peers',
      headers: h,
      payload: { name: 'phone', public_key: key, peer_type: 'service' },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      public_key: key,
      private_key: null,
      qr_code_base64: null,
      peer_type: 'service',
    });
    expect(res.json().config).toContain('PrivateKey = <your-private-key>');
  });

  it('refuses bad keys with 422', async () => {
    const { h } = await admin(base);
    const bad = [
      'not-base64!',
      Buffer.alloc(31, 1).toString('base64'),
      Buffer.alloc(33, 1).toString('base64'),
      Buffer.alloc(32, 0).toString('base64'), // all zero
      Buffer.from('0100000000000000000000000000000000000000000000000000000000000000', 'hex').toString(
        'base64',
      ), // order 1
      Buffer.from('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', 'hex').toString(
        'base64',
      ), // order 8
      Buffer.from('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'hex').toString(
        'base64',
      ), // p - 1
      `${clientKey().slice(0, 42)}B=`, // non-canonical last character
      '',
    ];
    for (const public_key of bad) {
      const res = await base.inject({
        method: 'POST',
        url: '/api/v1/wireguard/peers',
        headers: h,
        payload: { name: `k${Math.random()}`, public_key },
      });
      expect(res.statusCode, public_key).toBe(422);
      expect(res.json().error).toBe('VALIDATION_ERROR');
    }
  });

  it('refuses bad input with 4xx, never 500', async () => {
    const { h } = await admin(base);
    const cases: [unknown, number][] = [
      [{}, 422],
      [{ name: '' }, 422],
      [{ name: 'x'.repeat(101) }, 422],
      [{ name: 'a', peer_type: 'router' }, 422],
      [{ name: 'a', expires_at: 'tomorrow' }, 422],
      [{ name: 'a', expires_at: '2001-01-01T00:00:00Z' }, 422],
      [{ name: 'a', persistent_keepalive: 70000 }, 422],
      [{ name: 'a', allowed_ips: ['10.0.0.0/33'] }, 422],
      [{ name: 'a', user_id: 2_000_000_000 }, 422],
      [{ name: 'a', public_key: 42 }, 422],
    ];
    for (const [payload, status] of cases) {
      const res = await base.inject({
        method: 'POST',
        url: '/api/v1/wireguard/peers',
        headers: h,
        payload: payload as object,
      });
      expect(res.statusCode, JSON.stringify(payload)).toBe(status);
    }
    expect(
      (await base.inject({ method: 'GET', url: '/api/v1/wireguard/peers/not-a-uuid', headers: h }))
        .statusCode,
    ).toBe(422);
    expect(
      (
        await base.inject({
          method: 'GET',
          url: '/api/v1/wireguard/peers/00000000-0000-4000-8000-000000000000',
          headers: h,
        })
      ).statusCode,
    ).toBe(404);
  });

  it('names are unique per tenant (409), not across tenants; public keys are unique globally (409)', async () => {
    const a = await admin(base);
    const b = await admin(base);
    const key = clientKey();
    expect(
      (
        await base.inject({
          method: 'POST',
          url: '/api/v1/wireguard/peers',
          headers: a.h,
          payload: { name: 'gw', public_key: key },
        })
      ).statusCode,
    ).toBe(201);
    const dup = await base.inject({
      method: 'POST',
      url: '/api/v1/wireguard/peers',
      headers: a.h,
      payload: { name: 'gw' },
    });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toMatchObject({ error: 'ALREADY_EXISTS', details: { field: 'name' } });
    expect(
      (
        await base.inject({
          method: 'POST',
          url: '/api/v1/wireguard/peers',
          headers: b.h,
          payload: { name: 'gw' },
        })
      ).statusCode,
    ).toBe(201);
    const sameKey = await base.inject({
      method: 'POST',
      url: '/api/v1/wireguard/peers',
      headers: b.h,
      payload: { name: 'other', public_key: key },
    });
    expect(sameKey.statusCode).toBe(409);
    expect(sameKey.json().details).toEqual({ field: 'public_key' });
  });

  it('parallel creations with one name: exactly one wins, the rest are 409', async () => {
    const { h } = await admin(base);
    const res = await Promise.all(
      Array.from({ length: 8 }, () =>
        base.inject({
          method: 'POST',
          url: '/api/v1/wireguard/peers',
          headers: h,
          payload: { name: 'race', public_key: clientKey() },
        }),
      ),
    );
    expect(res.map((r) => r.statusCode).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
  });

  it('parallel revokes and deletes of one peer: one wins, one audit record each', async () => {
    const { h, tenant } = await admin(base);
    const p = (
      await base.inject({
        method: 'POST',
        url: '/api/v1/wireguard/peers',
        headers: h,
        payload: { name: 'contested', public_key: clientKey() },
      })
    ).json();
    const revokes = await Promise.all(
      Array.from({ length: 6 }, () =>
        base.inject({ method: 'POST', url: `/api/v1/wireguard/peers/${p.id}/revoke`, headers: h }),
      ),
    );
    expect(revokes.map((r) => r.statusCode).sort()).toEqual([200, 400, 400, 400, 400, 400]);
    const deletes = await Promise.all(
      Array.from({ length: 6 }, () =>
        base.inject({ method: 'DELETE', url: `/api/v1/wireguard/peers/${p.id}`, headers: h }),
      ),
    );
    expect(deletes.map((r) => r.statusCode).sort()).toEqual([204, 404, 404, 404, 404, 404]);
    const events = await base.ctx.database.query<{ event_type: string }>(
      `select event_type from audit_log where tenant_id = $1 and resource_id = $2 order by seq`,
      [tenant.id, p.id],
    );
    expect(events.map((e) => e.event_type)).toEqual([
      'wireguard.peer.created',
      'wireguard.peer.revoked',
      'wireguard.peer.deleted',
    ]);
  });

  it('links a peer to a user of the tenant only', async () => {
    const a = await admin(base);
    const b = await admin(base);
    const u = await newUser(base, a.tenant.id);
    const ok = await base.inject({
      method: 'POST',
      url: '/api/v1/wireguard/peers',
      headers: a.h,
      payload: { name: 'u', user_id: u.id },
    });
    expect(ok.statusCode).toBe(201);
    expect(ok.json().user_id).toBe(u.id);
    const other = await base.inject({
      method: 'POST',
      url: '/api/v1/wireguard/peers',
      headers: b.h,
      payload: { name: 'u', user_id: u.id },
    });
    expect(other.statusCode).toBe(422);
    const listed = await base.inject({
      method: 'GET',
      url: `/api/v1/wireguard/peers?user_id=${u.id}`,
      headers: a.h,
    });
    expect(listed.json().total).toBe(1);
    // GDPR export hook
    const hook = base.ctx.hooks.gdprExport.find((x) => x.name === 'wireguard_peers')!;
    const exported = (await base.ctx.database.withTenant(a.tenant.id, (tx) =>
      hook.collect(tx, a.tenant.id, u.id),
    )) as { id: string }[];
    expect(exported.map((p) => p.id)).toEqual([ok.json().id]);
  });
});

describe('address allocation', () => {
  it('200 parallel creations get 200 distinct addresses', async () => {
    const app = await appWith(randomNet(23));
    const { h } = await admin(app);
    const res = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        app.inject({
          method: 'POST',
          url: '/api/v1/wireguard/peers',
          headers: h,
          payload: { name: `p${i}`, public_key: clientKey() },
        }),
      ),
    );
    const bad = res.filter((r) => r.statusCode !== 201).map((r) => r.body);
    expect(bad).toEqual([]);
    const ips = new Set(res.map((r) => r.json().assigned_ip));
    expect(ips.size).toBe(200);
  }, 60_000);

  it('a /24 holds exactly 253 clients (.2 to .254): the 254th is 409', async () => {
    const network = randomNet(24);
    const app = await appWith(network);
    const { h } = await admin(app);
    const prefix = network.split('.').slice(0, 3).join('.');
    const ips: string[] = [];
    for (let batch = 0; batch < 253; batch += 50) {
      const n = Math.min(50, 253 - batch);
      const res = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          app.inject({
            method: 'POST',
            url: '/api/v1/wireguard/peers',
            headers: h,
            payload: { name: `n${batch + i}`, public_key: clientKey() },
          }),
        ),
      );
      for (const r of res) {
        expect(r.statusCode, r.body).toBe(201);
        ips.push(r.json().assigned_ip);
      }
    }
    const expected = Array.from({ length: 253 }, (_, i) => `${prefix}.${i + 2}`);
    expect([...ips].sort()).toEqual([...expected].sort());
    const full = await app.inject({
      method: 'POST',
      url: '/api/v1/wireguard/peers',
      headers: h,
      payload: { name: 'one-too-many', public_key: clientKey() },
    });
    expect(full.statusCode).toBe(409);
    expect(full.json().error).toBe('WG_POOL_EXHAUSTED');
  }, 60_000);

  it('a /28 holds 13 clients, a deleted peer frees its address, revoked ones keep theirs', async () => {
    const app = await appWith(randomNet(28));
    const { h } = await admin(app);
    const created = await Promise.all(
      Array.from({ length: 14 }, (_, i) =>
        app.inject({
          method: 'POST',
          url: '/api/v1/wireguard/peers',
          headers: h,
          payload: { name: `s${i}`, public_key: clientKey() },
        }),
      ),
    );
    expect(created.map((r) => r.statusCode).sort()).toEqual([...Array(13).fill(201), 409]);
    const ok = created.filter((r) => r.statusCode === 201).map((r) => r.json());
    const victim = ok[0];
    expect(
      (await app.inject({ method: 'POST', url: `/api/v1/wireguard/peers/${ok[1].id}/revoke`, headers: h }))
        .statusCode,
    ).toBe(200);
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/api/v1/wireguard/peers',
          headers: h,
          payload: { name: 'again' },
        })
      ).statusCode,
    ).toBe(409);
    expect(
      (await app.inject({ method: 'DELETE', url: `/api/v1/wireguard/peers/${victim.id}`, headers: h }))
        .statusCode,
    ).toBe(204);
    const again = await app.inject({
      method: 'POST',
      url: '/api/v1/wireguard/peers',
      headers: h,
      payload: { name: 'again' },
    });
    expect(again.statusCode).toBe(201);
    expect(again.json().assigned_ip).toBe(victim.assigned_ip);
  });

  it('tenants share one pool: addresses are globally unique', async () => {
    const app = await appWith(randomNet(29)); // 5 clients
    const a = await admin(app);
    const b = await admin(app);
    const res = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        app.inject({
          method: 'POST',
          url: '/api/v1/wireguard/peers',
          headers: i % 2 ? a.h : b.h,
          payload: { name: `m${i}`, public_key: clientKey() },
        }),
      ),
    );
    const ok = res.filter((r) => r.statusCode === 201);
    expect(ok).toHaveLength(5);
    expect(new Set(ok.map((r) => r.json().assigned_ip)).size).toBe(5);
    expect(res.filter((r) => r.statusCode === 409)).toHaveLength(1);
  });

  it('works in IPv6 networks, and a /31 or /32 has no room for clients', async () => {
    const v6 = await appWith(
      `fd${randomInt(0, 255).toString(16).padStart(2, '0')}:${randomInt(0, 65535).toString(16)}::/120`,
    );
    const a = await admin(v6);
    const res = await v6.inject({
      method: 'POST',
      url: '/api/v1/wireguard/peers',
      headers: a.h,
      payload: { name: 'v6' },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().assigned_ip).toMatch(/::2$/);
    expect(res.json().allowed_ips[0]).toMatch(/::2\/128$/);
    const server = await v6.inject({ method: 'GET', url: '/api/v1/wireguard/server', headers: a.h });
    expect(server.json().address).toMatch(/::1\/120$/);

    const tiny = await appWith(`10.${randomInt(1, 250)}.${randomInt(0, 255)}.8/31`);
    const t = await admin(tiny);
    expect(
      (
        await tiny.inject({
          method: 'POST',
          url: '/api/v1/wireguard/peers',
          headers: t.h,
          payload: { name: 'none' },
        })
      ).statusCode,
    ).toBe(409);
  });
});

describe('lifecycle', () => {
  it('patch, revoke, delete; each change is audited', async () => {
    const { h, tenant } = await admin(base);
    const p = (
      await base.inject({
        method: 'POST',
        url: '/api/v1/wireguard/peers',
        headers: h,
        payload: { name: 'life' },
      })
    ).json();
    const future = new Date(Date.now() + 86_400_000).toISOString();
    const patched = await base.inject({
      method: 'PATCH',
      url: `/api/v1/wireguard/peers/${p.id}`,
      headers: h,
      payload: {
        name: 'life2',
        description: 'desk',
        enabled: false,
        expires_at: future,
        persistent_keepalive: null,
      },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({
      name: 'life2',
      description: 'desk',
      enabled: false,
      persistent_keepalive: null,
    });
    expect(new Date(patched.json().expires_at).toISOString()).toBe(future);
    expect(
      (
        await base.inject({
          method: 'PATCH',
          url: `/api/v1/wireguard/peers/${p.id}`,
          headers: h,
          payload: { expires_at: '2000-01-01T00:00:00Z' },
        })
      ).statusCode,
    ).toBe(422);
    expect(
      (
        await base.inject({
          method: 'PATCH',
          url: `/api/v1/wireguard/peers/${p.id}`,
          headers: h,
          payload: { bogus: 1 },
        })
      ).statusCode,
    ).toBe(422);
    expect(
      (
        await base.inject({
          method: 'PATCH',
          url: `/api/v1/wireguard/peers/${p.id}`,
          headers: h,
          payload: {},
        })
      ).json().name,
    ).toBe('life2'); // no-op, not audited

    const revoked = await base.inject({
      method: 'POST',
      url: `/api/v1/wireguard/peers/${p.id}/revoke`,
      headers: h,
    });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().revoked_at).not.toBeNull();
    expect(
      (await base.inject({ method: 'POST', url: `/api/v1/wireguard/peers/${p.id}/revoke`, headers: h }))
        .statusCode,
    ).toBe(400);
    expect(
      (
        await base.inject({
          method: 'PATCH',
          url: `/api/v1/wireguard/peers/${p.id}`,
          headers: h,
          payload: { enabled: true },
        })
      ).statusCode,
    ).toBe(400);

    const list = await base.inject({ method: 'GET', url: '/api/v1/wireguard/peers', headers: h });
    expect(list.json().total).toBe(0);
    const withRevoked = await base.inject({
      method: 'GET',
      url: '/api/v1/wireguard/peers?include_revoked=true',
      headers: h,
    });
    expect(withRevoked.json().total).toBe(1);

    expect(
      (await base.inject({ method: 'DELETE', url: `/api/v1/wireguard/peers/${p.id}/`, headers: h }))
        .statusCode,
    ).toBe(204);
    expect(
      (await base.inject({ method: 'GET', url: `/api/v1/wireguard/peers/${p.id}`, headers: h })).statusCode,
    ).toBe(404);
    expect(
      (await base.inject({ method: 'DELETE', url: `/api/v1/wireguard/peers/${p.id}`, headers: h }))
        .statusCode,
    ).toBe(404);

    const events = await base.ctx.database.withTenant(
      tenant.id,
      async (tx) =>
        (
          await tx.execute<{ event_type: string; resource_id: string }>(
            (
              await import('drizzle-orm')
            )
              .sql`select event_type, resource_id from audit_log where tenant_id = ${tenant.id} and resource_type = 'wireguard_peer' order by seq`,
          )
        ).rows,
    );
    expect(events.map((e) => e.event_type)).toEqual([
      'wireguard.peer.created',
      'wireguard.peer.updated',
      'wireguard.peer.revoked',
      'wireguard.peer.deleted',
    ]);
    expect(new Set(events.map((e) => e.resource_id))).toEqual(new Set([p.id]));
  });

  it("GET /server reports the identity and this tenant's counts", async () => {
    const { h } = await admin(base);
    await base.inject({ method: 'POST', url: '/api/v1/wireguard/peers', headers: h, payload: { name: 'a' } });
    const b = (
      await base.inject({
        method: 'POST',
        url: '/api/v1/wireguard/peers',
        headers: h,
        payload: { name: 'b' },
      })
    ).json();
    await base.inject({ method: 'POST', url: `/api/v1/wireguard/peers/${b.id}/revoke`, headers: h });
    const res = await base.inject({ method: 'GET', url: '/api/v1/wireguard/server', headers: h });
    expect(res.statusCode).toBe(200);
    const s = res.json();
    expect(s.public_key).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(s).toMatchObject({
      endpoint: 'vpn.example.test:51820',
      listen_port: 51820,
      peers_total: 2,
      peers_active: 1,
    });
    expect(s.address).toBe(`${s.network.split('/')[0].replace(/\.0$/, '.1')}/24`);
    expect(b.config).toContain(`PublicKey = ${s.public_key}`);
    // One identity, sealed at rest.
    const rows = await base.ctx.database.query<{ private_key_sealed: string }>(
      'select private_key_sealed from wg_server',
    );
    expect(rows.every((r) => r.private_key_sealed.startsWith('enc:v1:'))).toBe(true);
  });
});

describe('isolation and access', () => {
  it("another tenant's peer is 404 on every route", async () => {
    const a = await admin(base);
    const b = await admin(base);
    const p = (
      await base.inject({
        method: 'POST',
        url: '/api/v1/wireguard/peers',
        headers: a.h,
        payload: { name: 'mine' },
      })
    ).json();
    const routes: [string, string, object?][] = [
      ['GET', `/api/v1/wireguard/peers/${p.id}`],
      ['GET', `/api/v1/wireguard/peers/${p.id}/config`],
      ['PATCH', `/api/v1/wireguard/peers/${p.id}`, { name: 'x' }],
      ['POST', `/api/v1/wireguard/peers/${p.id}/revoke`],
      ['DELETE', `/api/v1/wireguard/peers/${p.id}`],
    ];
    for (const [method, url, payload] of routes) {
      const res = await base.inject({
        method: method as 'GET',
        url,
        headers: b.h,
        ...(payload ? { payload } : {}),
      });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
    }
    expect(
      (await base.inject({ method: 'GET', url: '/api/v1/wireguard/peers', headers: b.h })).json().total,
    ).toBe(0);
    // Untouched for its owner.
    const mine = await base.inject({ method: 'GET', url: `/api/v1/wireguard/peers/${p.id}`, headers: a.h });
    expect(mine.json()).toMatchObject({ name: 'mine', revoked_at: null });
  });

  it('RLS hides other tenants even if a query forgot its filter', async () => {
    const a = await admin(base);
    const b = await admin(base);
    await base.inject({
      method: 'POST',
      url: '/api/v1/wireguard/peers',
      headers: a.h,
      payload: { name: 'hidden' },
    });
    const seen = await base.ctx.database.withTenant(
      b.tenant.id,
      async (tx) =>
        (
          await tx.execute<{ n: string }>(
            (
              await import('drizzle-orm')
            ).sql`select count(*)::text as n from wg_peers`,
          )
        ).rows[0]!.n,
    );
    expect(seen).toBe('0');
  });

  it('needs authentication and the wireguard permissions', async () => {
    const t = await newTenant(base);
    const u = await newUser(base, t.tenant.id);
    const h = bearer(await login(base, t.tenant.id, u.email));
    expect((await base.inject({ method: 'GET', url: '/api/v1/wireguard/peers' })).statusCode).toBe(401);
    expect(
      (await base.inject({ method: 'POST', url: '/api/v1/wireguard/peers', payload: { bad: true } }))
        .statusCode,
    ).toBe(401);
    const denied = await base.inject({ method: 'GET', url: '/api/v1/wireguard/server', headers: h });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error).toBe('PERMISSION_DENIED');
    expect(
      (
        await base.inject({
          method: 'POST',
          url: '/api/v1/wireguard/peers',
          headers: h,
          payload: { name: 'x' },
        })
      ).statusCode,
    ).toBe(403);
  });
});
