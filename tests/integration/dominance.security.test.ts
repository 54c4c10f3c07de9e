/**
 * Issue 10, findings 2, 8, 9 and 10 and the erasure's after-commit flags: acting on a user needs power over them
 * (GDPR erasure and anonymisation, admin session routes), changing a role needs the right to grant what it grants,
 * and a user's WireGuard peers end with their account, in the same transaction.
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
import { createTestApp } from '../helpers/app.js';
import { login, newUser } from '../helpers/factories.js';
import { type Caller, client, tenantOwner, userWith } from '../helpers/rbac.js';

let app: FastifyInstance;
beforeAll(async () => {
  // Its own network and interface name: the agent test below reconciles only the peers of this network.
  app = await createTestApp({
    WG_NETWORK: `10.${randomInt(1, 250)}.${randomInt(0, 255)}.0/24`,
    WG_INTERFACE: `d${randomInt(1e6, 1e7)}`,
  });
});
afterAll(async () => {
  await app?.close();
});

const REASON = 'Erasure requested by the data subject';
const erase = (c: Caller, userId: number) =>
  c.call('DELETE', '/api/v1/gdpr/delete', { user_id: userId, reason: REASON, confirm: true });
const anonymize = (c: Caller, userId: number) =>
  c.call('POST', '/api/v1/gdpr/anonymize', { user_id: userId, reason: REASON });

/** A signed-in user holding exactly one custom role with these permissions (created by the owner). */
async function userWithCustomRole(owner: Caller, permissions: string[], extra: Record<string, unknown> = {}) {
  const code = `r${randomInt(1e6, 1e7)}`;
  const role = await owner.call('POST', '/api/v1/roles', { code, name: code, permissions, ...extra });
  expect(role.statusCode, role.body).toBe(201);
  const u = await userWith(app, owner.tenantId);
  const assigned = await owner.call('POST', `/api/v1/users/${u.userId}/roles`, { role_id: role.json().id });
  expect(assigned.statusCode, assigned.body).toBe(201);
  return u;
}

async function refusals(tenantId: number, action: string) {
  return app.ctx.database.query<{ event_type: string }>(
    `select event_type from audit_log where tenant_id = $1 and event_type = 'access.change_refused' and resource_id = $2`,
    [tenantId, action],
  );
}

describe('finding 2: GDPR erasure and anonymisation apply the checks of user deletion', () => {
  it('finding 2: a gdpr.manage-only role cannot erase or anonymise the owner (403); the last owner cannot go (409); own account 400', async () => {
    const { owner } = await tenantOwner(app);
    const officer = await userWithCustomRole(owner, ['gdpr.manage']);

    // The reproduction: 200 before the fix. Now 403, like DELETE /users/{owner} would be for this caller.
    for (const res of [await erase(officer, owner.userId), await anonymize(officer, owner.userId)]) {
      expect(res.statusCode, res.body).toBe(403);
      expect(res.json().error).toBe('PERMISSION_DENIED');
    }
    expect((await owner.call('GET', '/api/v1/users/me')).statusCode).toBe(200);
    expect(await refusals(owner.tenantId, 'gdpr.erase')).toHaveLength(1);
    expect(await refusals(owner.tenantId, 'gdpr.anonymize')).toHaveLength(1);

    // A user holding less than the officer (nothing at all) may be erased by them.
    const weak = await userWith(app, owner.tenantId);
    const ok = await erase(officer, weak.userId);
    expect(ok.statusCode, ok.body).toBe(200);

    // A member holds users.read, which the officer does not: refused as well.
    const member = await userWith(app, owner.tenantId, ['member']);
    expect((await anonymize(officer, member.userId)).statusCode).toBe(403);

    // Own account: 400, before anything else.
    const self = await erase(officer, officer.userId);
    expect(self.statusCode).toBe(400);
    expect((await anonymize(officer, officer.userId)).statusCode).toBe(400);

    // A superuser dominates the owner, but the only active owner cannot go: 409 LAST_OWNER, as for DELETE /users.
    const su = await newUser(app, owner.tenantId, { isSuperuser: true });
    const superuser = {
      ...owner,
      userId: su.id,
      call: client(app, await login(app, owner.tenantId, su.email)),
    };
    for (const res of [
      await erase(superuser, owner.userId),
      await anonymize(superuser, owner.userId),
      await superuser.call('DELETE', `/api/v1/users/${owner.userId}`),
    ]) {
      expect(res.statusCode, res.body).toBe(409);
      expect(res.json().error).toBe('LAST_OWNER');
    }
    expect((await owner.call('GET', '/api/v1/users/me')).statusCode).toBe(200);

    // With a second active owner, the first may be anonymised.
    await userWith(app, owner.tenantId, ['owner']);
    expect((await anonymize(superuser, owner.userId)).statusCode).toBe(200);
  });

  it('finding 2: 404 for a user of another tenant, before any dominance answer', async () => {
    const a = await tenantOwner(app);
    const b = await tenantOwner(app);
    expect((await erase(a.owner, b.owner.userId)).statusCode).toBe(404);
    expect((await anonymize(a.owner, b.owner.userId)).statusCode).toBe(404);
  });
});

describe('finding 8: admin session routes need dominance over the user', () => {
  it('finding 8: a manager cannot list or end the owner’s sessions (403), can a member’s; other tenants 404', async () => {
    const { owner } = await tenantOwner(app);
    const manager = await userWith(app, owner.tenantId, ['manager']);
    const member = await userWith(app, owner.tenantId, ['member']);

    const list = await manager.call('GET', `/api/v1/users/${owner.userId}/sessions`);
    expect(list.statusCode, list.body).toBe(403);
    expect(list.json().error).toBe('PERMISSION_DENIED');
    const end = await manager.call('DELETE', `/api/v1/users/${owner.userId}/sessions`);
    expect(end.statusCode, end.body).toBe(403);
    expect(end.json().error).toBe('PERMISSION_DENIED');
    expect((await owner.call('GET', '/api/v1/users/me')).statusCode).toBe(200);
    expect(await refusals(owner.tenantId, 'user.sessions.read')).toHaveLength(1);
    expect(await refusals(owner.tenantId, 'user.sessions.revoke')).toHaveLength(1);

    expect((await manager.call('GET', `/api/v1/users/${member.userId}/sessions`)).statusCode).toBe(200);
    const ended = await manager.call('DELETE', `/api/v1/users/${member.userId}/sessions`);
    expect(ended.statusCode).toBe(200);
    expect(ended.json().terminated_count).toBe(1);
    expect((await member.call('GET', '/api/v1/users/me')).statusCode).toBe(401);

    const other = await tenantOwner(app);
    expect((await other.owner.call('GET', `/api/v1/users/${owner.userId}/sessions`)).statusCode).toBe(404);
    expect((await other.owner.call('DELETE', `/api/v1/users/${owner.userId}/sessions`)).statusCode).toBe(404);
  });
});

describe('finding 9: changing or deleting a role needs the right to grant what it grants', () => {
  it('finding 9: roles.write alone cannot relax, strip, extend or delete a role granting more, inherited codes included', async () => {
    const { owner } = await tenantOwner(app);
    const mk = async (body: Record<string, unknown>) => {
      const code = `r${randomInt(1e6, 1e7)}`;
      const res = await owner.call('POST', '/api/v1/roles', { code, name: code, ...body });
      expect(res.statusCode, res.body).toBe(201);
      return res.json().id as string;
    };
    const strong = await mk({ permissions: ['users.delete', 'gdpr.manage'], mfa_required: true });
    const child = await mk({ permissions: ['roles.read'], parent_role_id: strong });
    const light = await mk({ permissions: ['roles.read'] });
    const editor = await userWithCustomRole(owner, ['roles.read', 'roles.write']);

    const denied = async (method: 'PUT' | 'DELETE', id: string, body?: Record<string, unknown>) => {
      const res = await editor.call(method, `/api/v1/roles/${id}`, body);
      expect(res.statusCode, `${method} ${JSON.stringify(body)}: ${res.body}`).toBe(403);
      expect(res.json().error).toBe('PERMISSION_DENIED');
    };
    // Before the change: the role grants what the editor does not hold.
    await denied('PUT', strong, { mfa_required: false });
    await denied('PUT', strong, { permissions: [] });
    await denied('PUT', strong, { name: 'Renamed' });
    await denied('DELETE', strong);
    // Inherited through the parent.
    await denied('PUT', child, { mfa_required: true });
    await denied('PUT', child, { parent_role_id: null });
    await denied('DELETE', child);
    // After the change: adding a code or a parent the editor cannot grant.
    await denied('PUT', light, { permissions: ['roles.read', 'users.delete'] });
    await denied('PUT', light, { parent_role_id: strong });
    expect(await refusals(owner.tenantId, 'role.update')).toHaveLength(7);
    expect(await refusals(owner.tenantId, 'role.delete')).toHaveLength(2);

    const kept = (await owner.call('GET', `/api/v1/roles/${strong}`)).json();
    expect(kept).toMatchObject({ mfa_required: true, permissions: ['users.delete', 'gdpr.manage'] });
    expect((await owner.call('GET', `/api/v1/roles/${child}`)).json().parent_role_id).toBe(strong);

    // Within what the editor holds, everything works.
    const edited = await editor.call('PUT', `/api/v1/roles/${light}`, {
      name: 'Light',
      mfa_required: true,
      permissions: ['roles.read', 'roles.write'],
    });
    expect(edited.statusCode, edited.body).toBe(200);
    expect((await editor.call('DELETE', `/api/v1/roles/${light}`)).statusCode).toBe(204);
    // The owner can do all of it.
    expect((await owner.call('PUT', `/api/v1/roles/${strong}`, { mfa_required: false })).statusCode).toBe(
      200,
    );
    expect((await owner.call('DELETE', `/api/v1/roles/${child}`)).statusCode).toBe(204);
  });
});

/** An interface in memory that behaves like `wg set` / `wg show dump`. */
class FakeInterface implements WgDriver {
  privateKey: string | null = null;
  listenPort = 0;
  peers = new Map<string, DumpPeer>();
  async dump(): Promise<InterfaceDump> {
    return {
      privateKey: this.privateKey,
      publicKey: null,
      listenPort: this.listenPort,
      peers: [...this.peers.values()],
    };
  }
  async configureInterface(_iface: string, privateKey: string, listenPort: number) {
    this.privateKey = privateKey;
    this.listenPort = listenPort;
  }
  async setPeer(_iface: string, p: DesiredPeerConfig) {
    this.peers.set(p.publicKey, {
      publicKey: p.publicKey,
      presharedKey: p.presharedKey,
      endpoint: null,
      allowedIps: p.allowedIps,
      latestHandshake: 0,
      rxBytes: 0,
      txBytes: 0,
    });
  }
  async removePeer(_iface: string, publicKey: string) {
    this.peers.delete(publicKey);
  }
}

const clientKey = () =>
  Buffer.from(generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }).x!, 'base64url').toString(
    'base64',
  );

describe('finding 10: WireGuard peers end with their user', () => {
  it('finding 10: deactivation, deletion and GDPR erasure revoke the user’s peers, audited, and the agent removes them', async () => {
    const { owner } = await tenantOwner(app);
    const users = await Promise.all([1, 2, 3, 4, 5].map(() => newUser(app, owner.tenantId)));
    const peers: { id: string; public_key: string }[] = [];
    for (const u of users) {
      const res = await owner.call('POST', '/api/v1/wireguard/peers', {
        name: `peer-${u.id}`,
        public_key: clientKey(),
        user_id: u.id,
      });
      expect(res.statusCode, res.body).toBe(201);
      peers.push(res.json());
    }
    const wg = new FakeInterface();
    const agent = new WgAgent(app.ctx, { driver: wg });
    await agent.reconcileOnce();
    for (const p of peers) expect(wg.peers.has(p.public_key)).toBe(true);

    const [deactivated, updated, deleted, erased, anonymised] = users.map((u) => u!.id);
    expect((await owner.call('POST', `/api/v1/users/${deactivated}/deactivate`)).statusCode).toBe(200);
    expect((await owner.call('PUT', `/api/v1/users/${updated}`, { is_active: false })).statusCode).toBe(200);
    expect((await owner.call('DELETE', `/api/v1/users/${deleted}`)).statusCode).toBe(204);
    expect((await erase(owner, erased!)).statusCode).toBe(200);
    expect((await anonymize(owner, anonymised!)).statusCode).toBe(200);

    for (const p of peers) {
      const read = (await owner.call('GET', `/api/v1/wireguard/peers/${p.id}`)).json();
      expect(read.revoked_at, p.id).not.toBeNull();
      expect(read.enabled).toBe(false);
    }
    const audited = await app.ctx.database.query<{ resource_id: string; actor_id: string }>(
      `select resource_id, actor_id from audit_log where tenant_id = $1 and event_type = 'wireguard.peer.revoked'`,
      [owner.tenantId],
    );
    expect(audited.map((a) => a.resource_id).sort()).toEqual(peers.map((p) => p.id).sort());
    expect(new Set(audited.map((a) => a.actor_id))).toEqual(new Set([String(owner.userId)]));

    await agent.reconcileOnce();
    for (const p of peers) expect(wg.peers.has(p.public_key)).toBe(false);
  });

  it('finding 10: the revocation is part of the deactivation’s transaction (a failing step undoes both)', async () => {
    const { owner } = await tenantOwner(app);
    const u = await newUser(app, owner.tenantId);
    const peer = await owner.call('POST', '/api/v1/wireguard/peers', {
      name: 'rollback',
      public_key: clientKey(),
      user_id: u.id,
    });
    expect(peer.statusCode).toBe(201);
    // A real fault inside the transaction, after WireGuard's hook has revoked the peer.
    const fault = async () => {
      throw new Error('injected fault after the peers were revoked');
    };
    app.ctx.hooks.userDeactivated.push(fault);
    try {
      expect((await owner.call('POST', `/api/v1/users/${u.id}/deactivate`)).statusCode).toBe(500);
    } finally {
      app.ctx.hooks.userDeactivated.splice(app.ctx.hooks.userDeactivated.indexOf(fault), 1);
    }
    expect((await owner.call('GET', `/api/v1/users/${u.id}`)).json().is_active).toBe(true);
    const read = (await owner.call('GET', `/api/v1/wireguard/peers/${peer.json().id}`)).json();
    expect(read).toMatchObject({ revoked_at: null, enabled: true });
  });
});

describe('own note A: GDPR erasure publishes API key revocations only after it commits', () => {
  it('own note A: a rolled-back erasure leaves the user’s API keys working; a committed one stops them', async () => {
    const { owner } = await tenantOwner(app);
    const victim = await userWith(app, owner.tenantId, ['admin']);
    const created = await victim.call('POST', '/api/v1/api-keys', { name: 'ci', scopes: ['users:read'] });
    expect(created.statusCode, created.body).toBe(201);
    const withKey = { 'x-api-key': created.json().raw_key as string };
    const useKey = () => app.inject({ method: 'GET', url: '/api/v1/users', headers: withKey });
    expect((await useKey()).statusCode).toBe(200);

    // A module hook that fails after the api_keys hook ran: the whole erasure rolls back.
    const fault = {
      name: 'fault',
      erase: async () => {
        throw new Error('injected fault inside the erasure');
      },
    };
    app.ctx.hooks.gdprErase.push(fault);
    try {
      expect((await erase(owner, victim.userId)).statusCode).toBe(500);
    } finally {
      app.ctx.hooks.gdprErase.splice(app.ctx.hooks.gdprErase.indexOf(fault), 1);
    }
    const still = await useKey();
    expect(still.statusCode, still.body).toBe(200);
    expect((await victim.call('GET', '/api/v1/users/me')).statusCode).toBe(200);

    expect((await erase(owner, victim.userId)).statusCode).toBe(200);
    const refused = await useKey();
    expect(refused.statusCode).toBe(401);
  });
});
