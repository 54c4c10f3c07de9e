/**
 * WireGuard peers: the policy. Every change commits with its audit record; addresses are allocated under a
 * per-network advisory lock with the unique index as the backstop (a lost race retries). The server's private
 * key and preshared keys are sealed with ctx.secretBox; a generated client private key is never stored.
 */

import { randomUUID } from 'node:crypto';
import QRCode from 'qrcode';
import { type AuditContext, writeAudit } from '../../platform/audit/writer.js';
import type { UserDeactivationReason } from '../../platform/context.js';
import type { Executor } from '../../platform/db/client.js';
import { pgErrorOf } from '../../platform/db/errors.js';
import { AppError, notFound, platformErrors, validationError } from '../../platform/http/errors.js';
import { readTenantSettings } from '../tenants/index.js';
import { userExistsInTenant } from '../users/index.js';
import { clientConfig, endpointWithPort } from './config-file.js';
import type { WireguardDeps } from './deps.js';
import { wireguardErrors } from './errors.js';
import { generateKeyPair, generatePresharedKey, publicKeyProblem } from './keys.js';
import { type AddressPool, addressAt, hostRoute, parsePool } from './pool.js';
import * as repo from './repository.js';
import type { CreatePeerBody, ListPeersQuery, UpdatePeerBody } from './schemas.js';
import type { PeerRow } from './tables.js';

const ALLOCATION_ATTEMPTS = 5;
const sealAad = (what: string) => `wireguard:${what}`;

export function poolOf(ctx: WireguardDeps): AddressPool {
  return parsePool(ctx.config.wgNetwork);
}

// ---- server identity ----

export interface ServerIdentity {
  publicKey: string;
  privateKey: () => string;
}

/** The interface's key pair, created on first use; concurrent first uses agree on one winner. */
export async function ensureServer(ctx: WireguardDeps): Promise<ServerIdentity> {
  const iface = ctx.config.wgInterface;
  const row = await ctx.database.withSystem(async (tx) => {
    const existing = await repo.findServer(tx, iface);
    if (existing) return existing;
    const pair = generateKeyPair();
    await repo.insertServerIfAbsent(
      tx,
      iface,
      pair.publicKey,
      ctx.secretBox.encrypt(pair.privateKey, sealAad(`server:${iface}`)),
    );
    return repo.findServer(tx, iface);
  });
  if (!row) throw new Error(`could not create the WireGuard identity of ${iface}`);
  return {
    publicKey: row.publicKey,
    privateKey: () => ctx.secretBox.decrypt(row.privateKeySealed, sealAad(`server:${iface}`)),
  };
}

export function openPresharedKey(ctx: WireguardDeps, peerId: string, sealed: string | null): string | null {
  return sealed ? ctx.secretBox.decrypt(sealed, sealAad(`psk:${peerId}`)) : null;
}

// ---- reading ----

export function isActive(p: Pick<PeerRow, 'enabled' | 'revokedAt' | 'expiresAt'>, now = Date.now()): boolean {
  return p.enabled && p.revokedAt === null && (p.expiresAt === null || p.expiresAt.getTime() > now);
}

/** Peer of API.md §15. */
type AuditedPeer = Pick<PeerRow, 'id' | 'name' | 'publicKey' | 'assignedIp'>;

/**
 * The audit record of a change to a peer (`wireguard.peer.<event>`): every one names the peer by its name, public
 * key and address, plus what `extra` says.
 */
function auditPeer(
  tx: Executor,
  tenantId: number,
  audit: AuditContext,
  event: 'created' | 'revoked' | 'deleted',
  peer: AuditedPeer,
  extra: Record<string, unknown> = {},
) {
  return writeAudit(tx, tenantId, audit, {
    eventType: `wireguard.peer.${event}`,
    resourceType: 'wireguard_peer',
    resourceId: peer.id,
    metadata: { name: peer.name, public_key: peer.publicKey, assigned_ip: peer.assignedIp, ...extra },
  });
}

export function toPeerRead(p: PeerRow) {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    peer_type: p.peerType,
    user_id: p.userId,
    public_key: p.publicKey,
    assigned_ip: p.assignedIp,
    allowed_ips: [hostRoute(p.assignedIp)],
    persistent_keepalive: p.persistentKeepalive,
    enabled: p.enabled,
    has_preshared_key: p.presharedKeySealed !== null,
    expires_at: p.expiresAt?.toISOString() ?? null,
    revoked_at: p.revokedAt?.toISOString() ?? null,
    last_handshake_at: p.lastHandshakeAt?.toISOString() ?? null,
    rx_bytes: Number(p.rxBytes),
    tx_bytes: Number(p.txBytes),
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
  };
}

/** A page of the tenant's peers (newest first), optionally one user's, revoked ones on request. */
export async function listPeers(ctx: WireguardDeps, tenantId: number, q: ListPeersQuery) {
  const { rows, total } = await ctx.database.withTenant(tenantId, (tx) =>
    repo.listPeers(tx, tenantId, {
      skip: q.skip ?? 0,
      limit: q.limit ?? 100,
      includeRevoked: q.include_revoked ?? false,
      userId: q.user_id,
    }),
  );
  return { peers: rows.map(toPeerRead), total };
}

export async function getPeer(ctx: WireguardDeps, tenantId: number, id: string): Promise<PeerRow> {
  const p = await ctx.database.withTenant(tenantId, (tx) => repo.findPeer(tx, tenantId, id));
  if (!p) throw notFound('wireguard_peer');
  return p;
}

export async function peerConfig(ctx: WireguardDeps, tenantId: number, id: string): Promise<string> {
  const p = await getPeer(ctx, tenantId, id);
  const server = await ensureServer(ctx);
  // Secrets are shown once at creation: here the client fills them in.
  return clientConfig({
    name: p.name,
    assignedIp: p.assignedIp,
    privateKey: null,
    presharedKey: null,
    hasPresharedKey: p.presharedKeySealed !== null,
    persistentKeepalive: p.persistentKeepalive,
    serverPublicKey: server.publicKey,
    endpoint: endpointWithPort(ctx.config.wgEndpoint, ctx.config.wgListenPort),
    network: poolOf(ctx).network,
  });
}

export async function serverInfo(ctx: WireguardDeps, tenantId: number) {
  const server = await ensureServer(ctx);
  const counts = await ctx.database.withTenant(tenantId, (tx) => repo.countPeers(tx, tenantId));
  const pool = poolOf(ctx);
  return {
    public_key: server.publicKey,
    endpoint: endpointWithPort(ctx.config.wgEndpoint, ctx.config.wgListenPort),
    listen_port: ctx.config.wgListenPort,
    network: pool.network,
    address: pool.serverAddress,
    peers_total: counts.total,
    peers_active: counts.active,
  };
}

// ---- changes ----

export type CreatePeerInput = CreatePeerBody;

function futureDate(value: string, field: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw validationError(field, 'must be a date-time', 'datetime');
  if (d.getTime() <= Date.now()) throw validationError(field, 'must be in the future', 'value_error');
  return d;
}

async function assertUserInTenant(tx: Executor, tenantId: number, userId: number): Promise<void> {
  // Another tenant's user id is simply unknown here (RLS and the tenant filter agree).
  if (!(await userExistsInTenant(tx, tenantId, userId)))
    throw validationError('body.user_id', 'unknown user', 'not_found');
}

function conflictFrom(err: unknown): AppError | 'retry' | null {
  const pg = pgErrorOf(err);
  // The user was deleted between our check and the insert: the same answer as an unknown user.
  if (pg?.code === '23503') return validationError('body.user_id', 'unknown user', 'not_found');
  if (pg?.code !== '23505') return null;
  if (pg.constraint === 'wg_peers_assigned_ip_key') return 'retry';
  if (pg.constraint === 'wg_peers_public_key_key')
    return platformErrors.error('ALREADY_EXISTS', { field: 'public_key' });
  return platformErrors.error('ALREADY_EXISTS', { field: 'name' });
}

/** The per-tenant peer quota (tenant setting wireguard.max_peers, set by platform operators): 409 beyond it. */
async function assertQuota(ctx: WireguardDeps, tx: Executor, tenantId: number): Promise<void> {
  const max = (await readTenantSettings(ctx, tx, tenantId)).wireguard.max_peers;
  const peers = await repo.countAddressHolders(tx, tenantId);
  if (peers >= max) throw wireguardErrors.error('WG_QUOTA_EXCEEDED', { max_peers: max, peers });
}

export async function createPeer(
  ctx: WireguardDeps,
  tenantId: number,
  actorUserId: number | null,
  input: CreatePeerInput,
  audit: AuditContext,
) {
  let publicKey: string;
  let privateKey: string | null = null;
  if (input.public_key !== undefined) {
    const problem = publicKeyProblem(input.public_key);
    if (problem) throw validationError('body.public_key', problem, 'wireguard_key');
    publicKey = input.public_key;
  } else {
    ({ publicKey, privateKey } = generateKeyPair());
  }
  const expiresAt = input.expires_at !== undefined ? futureDate(input.expires_at, 'body.expires_at') : null;
  const presharedKey = input.preshared_key ? generatePresharedKey() : null;
  const pool = poolOf(ctx);
  const server = await ensureServer(ctx);

  let row: PeerRow | null = null;
  for (let attempt = 1; !row; attempt++) {
    try {
      row = await ctx.database.withTenant(tenantId, async (tx) => {
        if (await repo.nameTaken(tx, tenantId, input.name))
          throw platformErrors.error('ALREADY_EXISTS', { field: 'name' });
        if (input.user_id !== undefined) await assertUserInTenant(tx, tenantId, input.user_id);
        // Takes the pool lock first: every allocation in this network waits here, so the quota count below
        // sees every peer committed before us and two parallel creates at quota - 1 cannot both pass.
        const offset = await repo.lowestFreeOffset(tx, pool);
        await assertQuota(ctx, tx, tenantId);
        if (offset === null)
          throw wireguardErrors.error('WG_POOL_EXHAUSTED', {
            network: pool.network,
            capacity: pool.capacity.toString(),
          });
        const id = randomUUID();
        const peer = await repo.insertPeer(tx, tenantId, {
          id,
          name: input.name,
          description: input.description ?? null,
          peerType: input.peer_type ?? 'client',
          userId: input.user_id ?? null,
          publicKey,
          presharedKeySealed: presharedKey ? ctx.secretBox.encrypt(presharedKey, sealAad(`psk:${id}`)) : null,
          assignedIp: addressAt(pool, offset),
          persistentKeepalive: input.persistent_keepalive ?? 25,
          serverGenerated: privateKey !== null,
          expiresAt,
          createdByUserId: actorUserId,
        });
        await auditPeer(tx, tenantId, audit, 'created', peer, {
          peer_type: peer.peerType,
          user_id: peer.userId,
          server_generated: peer.serverGenerated,
          preshared_key: presharedKey !== null,
        });
        return peer;
      });
    } catch (err) {
      const mapped = conflictFrom(err);
      if (mapped === 'retry' && attempt < ALLOCATION_ATTEMPTS) continue;
      if (mapped === 'retry')
        throw platformErrors.error('CONFLICT', { reason: 'address allocation contention, retry' });
      throw mapped ?? err;
    }
  }

  const config = clientConfig({
    name: row.name,
    assignedIp: row.assignedIp,
    privateKey,
    presharedKey,
    hasPresharedKey: presharedKey !== null,
    persistentKeepalive: row.persistentKeepalive,
    serverPublicKey: server.publicKey,
    endpoint: endpointWithPort(ctx.config.wgEndpoint, ctx.config.wgListenPort),
    network: pool.network,
  });
  // A QR code only makes sense for a complete config a phone can import.
  const qr = privateKey
    ? (await QRCode.toBuffer(config, { type: 'png', errorCorrectionLevel: 'M' })).toString('base64')
    : null;
  return {
    ...toPeerRead(row),
    private_key: privateKey,
    preshared_key: presharedKey,
    config,
    qr_code_base64: qr,
  };
}

export type UpdatePeerInput = UpdatePeerBody;

export async function updatePeer(
  ctx: WireguardDeps,
  tenantId: number,
  id: string,
  input: UpdatePeerInput,
  audit: AuditContext,
) {
  const expiresAt =
    input.expires_at === undefined
      ? undefined
      : input.expires_at === null
        ? null
        : futureDate(input.expires_at, 'body.expires_at');
  try {
    return await ctx.database.withTenant(tenantId, async (tx) => {
      const before = await repo.findPeer(tx, tenantId, id);
      if (!before) throw notFound('wireguard_peer');
      if (Object.keys(input).length === 0) return toPeerRead(before); // nothing changed, nothing to audit
      if (input.enabled === true && before.revokedAt)
        throw wireguardErrors.error('WG_PEER_REVOKED', { reason: 'a revoked peer cannot be re-enabled' });
      if (input.name !== undefined && (await repo.nameTaken(tx, tenantId, input.name, id)))
        throw platformErrors.error('ALREADY_EXISTS', { field: 'name' });
      if (input.user_id != null) await assertUserInTenant(tx, tenantId, input.user_id);
      const patch = {
        ...(input.name !== undefined && { name: input.name }),
        ...(input.description !== undefined && { description: input.description }),
        ...(input.peer_type !== undefined && { peerType: input.peer_type }),
        ...(input.user_id !== undefined && { userId: input.user_id }),
        ...(expiresAt !== undefined && { expiresAt }),
        ...(input.persistent_keepalive !== undefined && { persistentKeepalive: input.persistent_keepalive }),
        ...(input.enabled !== undefined && { enabled: input.enabled }),
      };
      const after = await repo.updatePeer(tx, tenantId, id, patch);
      await writeAudit(tx, tenantId, audit, {
        eventType: 'wireguard.peer.updated',
        resourceType: 'wireguard_peer',
        resourceId: id,
        metadata: { changes: Object.keys(input), enabled: after!.enabled },
      });
      return toPeerRead(after!);
    });
  } catch (err) {
    const mapped = conflictFrom(err);
    throw mapped instanceof AppError ? mapped : err;
  }
}

export async function revokePeer(ctx: WireguardDeps, tenantId: number, id: string, audit: AuditContext) {
  return ctx.database.withTenant(tenantId, async (tx) => {
    const after = await repo.revokePeer(tx, tenantId, id);
    if (!after) {
      if (!(await repo.findPeer(tx, tenantId, id))) throw notFound('wireguard_peer');
      throw wireguardErrors.error('WG_PEER_REVOKED', { reason: 'already revoked' });
    }
    await auditPeer(tx, tenantId, audit, 'revoked', after);
    return toPeerRead(after);
  });
}

/**
 * Hook userDeactivated: a deactivated, deleted or erased user's peers are revoked in that same transaction (the
 * agent then takes them off the interface), one audit record per peer. Reactivation does not bring them back.
 */
export async function revokePeersOfUser(
  tx: Executor,
  tenantId: number,
  userId: number,
  reason: UserDeactivationReason,
  audit: AuditContext,
): Promise<void> {
  for (const peer of await repo.revokeActiveUserPeers(tx, tenantId, userId)) {
    await auditPeer(tx, tenantId, audit, 'revoked', peer, { user_id: userId, reason });
  }
}

export async function deletePeer(
  ctx: WireguardDeps,
  tenantId: number,
  id: string,
  audit: AuditContext,
): Promise<void> {
  await ctx.database.withTenant(tenantId, async (tx) => {
    const before = await repo.findPeer(tx, tenantId, id);
    if (!before || !(await repo.deletePeer(tx, tenantId, id))) throw notFound('wireguard_peer');
    await auditPeer(tx, tenantId, audit, 'deleted', before);
  });
}
