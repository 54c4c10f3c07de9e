/**
 * The agent against the real database (PGlite or PostgreSQL) with an in-memory interface: what it adds, updates
 * and removes, what it leaves alone, the statistics it records, and (PostgreSQL) the wake-up on NOTIFY and the
 * single-holder advisory lock.
 */
import { generateKeyPairSync, randomInt } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WgAgent } from '../../src/modules/wireguard/agent.js';
import type {
  DesiredPeerConfig,
  DumpPeer,
  InterfaceDump,
  WgDriver,
} from '../../src/modules/wireguard/wg-driver.js';
import { createTestApp, usingPostgres } from '../helpers/app.js';
import { bearer, login, newTenant } from '../helpers/factories.js';

const clientKey = () =>
  Buffer.from(generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }).x!, 'base64url').toString(
    'base64',
  );

/** An interface in memory that behaves like `wg set` / `wg show dump`. */
class FakeInterface implements WgDriver {
  privateKey: string | null = null;
  listenPort = 0;
  peers = new Map<string, DumpPeer>();
  calls: string[] = [];
  async dump(): Promise<InterfaceDump> {
    return {
      privateKey: this.privateKey,
      publicKey: null,
      listenPort: this.listenPort,
      peers: [...this.peers.values()].map((p) => ({ ...p })),
    };
  }
  async configureInterface(_iface: string, privateKey: string, listenPort: number) {
    this.calls.push('configure');
    this.privateKey = privateKey;
    this.listenPort = listenPort;
  }
  async setPeer(_iface: string, p: DesiredPeerConfig) {
    this.calls.push(`set ${p.publicKey}`);
    const old = this.peers.get(p.publicKey);
    this.peers.set(p.publicKey, {
      publicKey: p.publicKey,
      presharedKey: p.presharedKey,
      endpoint: old?.endpoint ?? null,
      allowedIps: p.allowedIps,
      latestHandshake: old?.latestHandshake ?? 0,
      rxBytes: old?.rxBytes ?? 0,
      txBytes: old?.txBytes ?? 0,
    });
  }
  async removePeer(_iface: string, publicKey: string) {
    this.calls.push(`remove ${publicKey}`);
    this.peers.delete(publicKey);
  }
}

let app: FastifyInstance;
let network: string;
const ifaceName = () => `t${randomInt(1e6, 1e7)}`;

beforeAll(async () => {
  network = `10.${randomInt(1, 250)}.${randomInt(0, 255)}.0/24`;
  app = await createTestApp({ WG_NETWORK: network, WG_INTERFACE: ifaceName(), WG_LISTEN_PORT: '51999' });
});
afterAll(async () => app.close());

async function admin() {
  const t = await newTenant(app, { superuser: true });
  return bearer(await login(app, t.tenant.id, t.admin.email));
}

async function create(h: Record<string, string>, payload: Record<string, unknown>) {
  const res = await app.inject({ method: 'POST', url: '/api/v1/wireguard/peers', headers: h, payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

describe('WireGuard agent', () => {
  it('sets the interface identity, then adds, updates and removes peers as the database changes', async () => {
    const wg = new FakeInterface();
    const agent = new WgAgent(app.ctx, { driver: wg });
    const h = await admin();
    const a = await create(h, { name: 'a' });
    const b = await create(h, { name: 'b', preshared_key: true });
    const c = await create(h, { name: 'c', public_key: clientKey() });

    const first = await agent.reconcileOnce();
    expect(first.interfaceConfigured).toBe(true);
    expect(wg.listenPort).toBe(51999);
    const server = (await app.inject({ method: 'GET', url: '/api/v1/wireguard/server', headers: h })).json();
    expect(Buffer.from(wg.privateKey!, 'base64')).toHaveLength(32);
    expect(server.public_key).not.toBe(wg.privateKey);
    expect(wg.peers.get(a.public_key)?.allowedIps).toEqual([`${a.assigned_ip}/32`]);
    expect(wg.peers.get(b.public_key)?.presharedKey).toBe(b.preshared_key);
    expect(wg.peers.has(c.public_key)).toBe(true);

    // Idempotent: nothing to do the second time.
    wg.calls = [];
    const second = await agent.reconcileOnce();
    expect(second).toMatchObject({ upserts: [], removals: [], interfaceConfigured: false });
    expect(wg.calls).toEqual([]);

    // Disable, revoke, expire (set in the past directly: the API refuses past dates), delete.
    await app.inject({
      method: 'PATCH',
      url: `/api/v1/wireguard/peers/${a.id}`,
      headers: h,
      payload: { enabled: false },
    });
    await app.inject({ method: 'POST', url: `/api/v1/wireguard/peers/${b.id}/revoke`, headers: h });
    await app.ctx.database.query(
      `update wg_peers set expires_at = now() - interval '1 second' where id = $1`,
      [c.id],
    );
    const d = await create(h, { name: 'd' });
    await agent.reconcileOnce();
    expect([...wg.peers.keys()]).toEqual([d.public_key]);
    // The expiry had no request to audit it: the agent did, as the system.
    const expired = await app.ctx.database.query<{ actor_type: string; resource_id: string }>(
      `select actor_type, resource_id from audit_log where event_type = 'wireguard.peer.expired' and resource_id = $1`,
      [c.id],
    );
    expect(expired).toEqual([{ actor_type: 'system', resource_id: c.id }]);

    // Re-enabled comes back.
    await app.inject({
      method: 'PATCH',
      url: `/api/v1/wireguard/peers/${a.id}`,
      headers: h,
      payload: { enabled: true },
    });
    await app.inject({ method: 'DELETE', url: `/api/v1/wireguard/peers/${d.id}`, headers: h });
    await agent.reconcileOnce();
    expect([...wg.peers.keys()]).toEqual([a.public_key]);
  });

  it('leaves peers it did not add, unless pruning; ignores other networks', async () => {
    const wg = new FakeInterface();
    const foreign = clientKey();
    wg.peers.set(foreign, {
      publicKey: foreign,
      presharedKey: null,
      endpoint: null,
      allowedIps: ['10.99.0.1/32'],
      latestHandshake: 0,
      rxBytes: 0,
      txBytes: 0,
    });
    const iface = ifaceName();
    // A replica on another network over the same database: its peers are not this interface's business.
    const other = await createTestApp(
      { WG_NETWORK: `10.${randomInt(1, 250)}.${randomInt(0, 255)}.0/24`, WG_INTERFACE: iface },
      app,
    );
    try {
      const t = await newTenant(other, { superuser: true });
      const oh = bearer(await login(other, t.tenant.id, t.admin.email));
      const otherPeer = (
        await other.inject({
          method: 'POST',
          url: '/api/v1/wireguard/peers',
          headers: oh,
          payload: { name: 'elsewhere' },
        })
      ).json();
      await new WgAgent(app.ctx, { driver: wg, iface }).reconcileOnce();
      expect(wg.peers.has(foreign)).toBe(true);
      expect(wg.peers.has(otherPeer.public_key)).toBe(false);
      await new WgAgent(app.ctx, { driver: wg, iface, pruneUnknown: true }).reconcileOnce();
      expect(wg.peers.has(foreign)).toBe(false);
    } finally {
      await other.close();
    }
  });

  it('records handshakes and byte counters from the dump', async () => {
    const wg = new FakeInterface();
    const agent = new WgAgent(app.ctx, { driver: wg, iface: ifaceName() });
    const h = await admin();
    const p = await create(h, { name: 'stats' });
    await agent.reconcileOnce();
    const when = Math.floor(Date.now() / 1000) - 5;
    Object.assign(wg.peers.get(p.public_key)!, {
      latestHandshake: when,
      rxBytes: 4096,
      txBytes: 1024,
      endpoint: '192.0.2.10:40000',
    });
    const r = await agent.reconcileOnce();
    expect(r.statsRecorded).toBe(1);
    const got = (
      await app.inject({ method: 'GET', url: `/api/v1/wireguard/peers/${p.id}`, headers: h })
    ).json();
    expect(got).toMatchObject({ rx_bytes: 4096, tx_bytes: 1024 });
    expect(Date.parse(got.last_handshake_at)).toBe(when * 1000);
  });

  it('a failing interface is logged and retried, never thrown out of trigger()', async () => {
    const broken: WgDriver = Object.assign(new FakeInterface(), {
      dump: async (): Promise<InterfaceDump> => {
        throw new Error('Unable to access interface: No such device');
      },
    });
    const agent = new WgAgent(app.ctx, { driver: broken, iface: ifaceName() });
    await expect(agent.trigger()).resolves.toBeNull();
  });

  it.runIf(usingPostgres)(
    'PostgreSQL: one agent holds the lock; a change wakes it through NOTIFY',
    async () => {
      const iface = ifaceName();
      const wg1 = new FakeInterface();
      const wg2 = new FakeInterface();
      const a1 = new WgAgent(app.ctx, { driver: wg1, iface, intervalMs: 60_000 });
      const a2 = new WgAgent(app.ctx, { driver: wg2, iface, intervalMs: 60_000 });
      try {
        await a1.start();
        void a2.start(); // waits for the lock as a standby
        const h = await admin();
        const p = await create(h, { name: 'notify' });
        const deadline = Date.now() + 5000;
        while (!wg1.peers.has(p.public_key) && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 50));
        expect(wg1.peers.has(p.public_key)).toBe(true); // long before the 60 s timer
        expect(wg2.peers.size).toBe(0);
      } finally {
        await a1.stop();
        await a2.stop();
      }
    },
  );
});
