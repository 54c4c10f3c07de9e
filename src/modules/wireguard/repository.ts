/** SQL only. Tenant functions take (tx, tenantId) and put tenant_id in every WHERE; system ones say so. */
import { count, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { one } from '../../platform/db/rows.js';
import { tenantRows } from '../../platform/db/tenant-rows.js';
import type { AddressPool } from './pool.js';
import { type NewPeer, type PeerRow, wgPeers, wgServer } from './tables.js';

/** Advisory lock class for address allocation (two-int key space, apart from the migration lock). */
const POOL_LOCK_CLASS = 0x7767; // "wg"

/**
 * A peer as every read returns it. `presharedKeySealed` is here because the API answers `has_preshared_key` for
 * each peer and the agent and CLI open it (issue 23 notes: the API reads could select a boolean instead).
 */
const peerColumns = {
  id: wgPeers.id,
  tenantId: wgPeers.tenantId,
  name: wgPeers.name,
  description: wgPeers.description,
  peerType: wgPeers.peerType,
  userId: wgPeers.userId,
  publicKey: wgPeers.publicKey,
  presharedKeySealed: wgPeers.presharedKeySealed,
  assignedIp: wgPeers.assignedIp,
  persistentKeepalive: wgPeers.persistentKeepalive,
  enabled: wgPeers.enabled,
  serverGenerated: wgPeers.serverGenerated,
  expiresAt: wgPeers.expiresAt,
  revokedAt: wgPeers.revokedAt,
  lastHandshakeAt: wgPeers.lastHandshakeAt,
  rxBytes: wgPeers.rxBytes,
  txBytes: wgPeers.txBytes,
  lastEndpoint: wgPeers.lastEndpoint,
  createdByUserId: wgPeers.createdByUserId,
  createdAt: wgPeers.createdAt,
  updatedAt: wgPeers.updatedAt,
};
const peerRows = tenantRows(wgPeers, peerColumns);

/** The server identity with its sealed private key: its one reader (the agent's setup) opens it. */
const serverColumns = {
  interface: wgServer.interface,
  publicKey: wgServer.publicKey,
  privateKeySealed: wgServer.privateKeySealed,
  createdAt: wgServer.createdAt,
};

export const findPeer = peerRows.findById;

export async function nameTaken(
  tx: Executor,
  tenantId: number,
  name: string,
  exceptId?: string,
): Promise<boolean> {
  const id = await peerRows.pick(tx, tenantId, wgPeers.id, eq(wgPeers.name, name));
  return id !== null && id !== exceptId;
}

export interface ListFilter {
  skip: number;
  limit: number;
  includeRevoked: boolean;
  userId?: number;
}

export async function listPeers(
  tx: Executor,
  tenantId: number,
  f: ListFilter,
): Promise<{ rows: PeerRow[]; total: number }> {
  const conditions = [
    f.includeRevoked ? undefined : isNull(wgPeers.revokedAt),
    f.userId === undefined ? undefined : eq(wgPeers.userId, f.userId),
  ];
  const rows = await peerRows.list(tx, tenantId, {
    where: conditions,
    orderBy: [desc(wgPeers.createdAt), desc(wgPeers.id)],
    offset: f.skip,
    limit: f.limit,
  });
  const [total] = await tx
    .select({ n: count() })
    .from(wgPeers)
    .where(peerRows.where(tenantId, ...conditions));
  return { rows, total: Number(total?.n ?? 0) };
}

export async function listUserPeers(tx: Executor, tenantId: number, userId: number): Promise<PeerRow[]> {
  return peerRows.list(tx, tenantId, { where: [eq(wgPeers.userId, userId)], orderBy: [wgPeers.createdAt] });
}

export async function countPeers(tx: Executor, tenantId: number): Promise<{ total: number; active: number }> {
  const r = await tx.execute<{ total: string; active: string }>(sql`
    select count(*)::text as total,
           count(*) filter (where enabled and revoked_at is null and (expires_at is null or expires_at > now()))::text as active
    from wg_peers where tenant_id = ${tenantId}`);
  return { total: Number(r.rows[0]?.total ?? 0), active: Number(r.rows[0]?.active ?? 0) };
}

/**
 * Serialises allocations in one network until the transaction ends, then asks for the lowest free offset
 * across all tenants (a SECURITY DEFINER function: RLS hides other tenants' rows from this role).
 */
export async function lowestFreeOffset(tx: Executor, pool: AddressPool): Promise<bigint | null> {
  await tx.execute(sql`select pg_advisory_xact_lock(${POOL_LOCK_CLASS}, hashtext(${pool.network}))`);
  const r = await tx.execute<{ o: string | null }>(
    sql`select wg_lowest_free_offset(${pool.network}::cidr, ${pool.firstClient.toString()}::bigint, ${pool.lastClient.toString()}::bigint)::text as o`,
  );
  const o = r.rows[0]?.o;
  return o === null || o === undefined ? null : BigInt(o);
}

/**
 * Peers that take a place in the tenant's quota: every peer that holds an address of the shared pool, i.e. every
 * row, revoked ones included (a revoked peer keeps its address until deleted; counting only live peers would let
 * a tenant drain the pool by creating and revoking). Race-free only after lowestFreeOffset took the pool lock in
 * the same transaction.
 */
export async function countAddressHolders(tx: Executor, tenantId: number): Promise<number> {
  const [r] = await tx.select({ n: count() }).from(wgPeers).where(peerRows.where(tenantId));
  return Number(r?.n ?? 0);
}

export async function insertPeer(
  tx: Executor,
  tenantId: number,
  v: Omit<NewPeer, 'tenantId'>,
): Promise<PeerRow> {
  return peerRows.insert(tx, tenantId, v);
}

export async function updatePeer(
  tx: Executor,
  tenantId: number,
  id: string,
  patch: Partial<NewPeer>,
): Promise<PeerRow | null> {
  return peerRows.updateOne(tx, tenantId, { ...patch, updatedAt: new Date() }, eq(wgPeers.id, id));
}

/** What revoking sets: the peer stops working now. */
function revocation() {
  const now = new Date();
  return { revokedAt: now, enabled: false, updatedAt: now };
}

/** Revokes only a peer not revoked yet: of racing revokes exactly one gets the row back. */
export async function revokePeer(tx: Executor, tenantId: number, id: string): Promise<PeerRow | null> {
  return peerRows.updateOne(tx, tenantId, revocation(), eq(wgPeers.id, id), isNull(wgPeers.revokedAt));
}

export async function deletePeer(tx: Executor, tenantId: number, id: string): Promise<boolean> {
  return (await peerRows.delete(tx, tenantId, eq(wgPeers.id, id))) > 0;
}

/** The user's account ended: their peers not yet revoked are revoked; the rows come back for the audit. */
export async function revokeActiveUserPeers(
  tx: Executor,
  tenantId: number,
  userId: number,
): Promise<PeerRow[]> {
  return peerRows.updateReturning(
    tx,
    tenantId,
    revocation(),
    eq(wgPeers.userId, userId),
    isNull(wgPeers.revokedAt),
  );
}

/** GDPR erasure: the user's peers stop working and lose the link to the person. */
export async function revokeUserPeers(tx: Executor, tenantId: number, userId: number): Promise<number> {
  const now = new Date();
  const rows = await tx
    .update(wgPeers)
    .set({
      revokedAt: sql`coalesce(${wgPeers.revokedAt}, ${now.toISOString()}::timestamptz)`,
      enabled: false,
      userId: null,
      updatedAt: now,
    })
    .where(peerRows.where(tenantId, eq(wgPeers.userId, userId)))
    .returning({ id: wgPeers.id });
  return rows.length;
}

// ---- system (withSystem): the server identity and the agent, cross-tenant by nature ----

export async function findServer(tx: Executor, iface: string) {
  return one(tx.select(serverColumns).from(wgServer).where(eq(wgServer.interface, iface)));
}

/** Creates the identity once; a concurrent creator loses quietly and both read the winner. */
export async function insertServerIfAbsent(
  tx: Executor,
  iface: string,
  publicKey: string,
  privateKeySealed: string,
): Promise<void> {
  await tx.insert(wgServer).values({ interface: iface, publicKey, privateKeySealed }).onConflictDoNothing();
}

export interface AgentPeer {
  id: string;
  tenantId: number;
  publicKey: string;
  presharedKeySealed: string | null;
  assignedIp: string;
  active: boolean;
  expired: boolean;
}

export async function allPeersForAgent(tx: Executor): Promise<AgentPeer[]> {
  const r = await tx.execute<{
    id: string;
    tenant_id: number;
    public_key: string;
    preshared_key_sealed: string | null;
    assigned_ip: string;
    active: boolean;
    expired: boolean;
  }>(sql`
    select id, tenant_id, public_key, preshared_key_sealed, host(assigned_ip) as assigned_ip,
           (enabled and revoked_at is null and (expires_at is null or expires_at > now())) as active,
           (expires_at is not null and expires_at <= now()) as expired
    from wg_peers`);
  return r.rows.map((x) => ({
    id: x.id,
    tenantId: Number(x.tenant_id),
    publicKey: x.public_key,
    presharedKeySealed: x.preshared_key_sealed,
    assignedIp: x.assigned_ip,
    active: x.active,
    expired: x.expired,
  }));
}

export async function managedKeys(tx: Executor, iface: string): Promise<Set<string>> {
  const r = await tx.execute<{ public_key: string }>(
    sql`select public_key from wg_agent_peers where interface = ${iface}`,
  );
  return new Set(r.rows.map((x) => x.public_key));
}

export async function markManaged(tx: Executor, iface: string, publicKey: string): Promise<void> {
  await tx.execute(
    sql`insert into wg_agent_peers (interface, public_key) values (${iface}, ${publicKey}) on conflict do nothing`,
  );
}

export async function unmarkManaged(tx: Executor, iface: string, publicKey: string): Promise<void> {
  await tx.execute(sql`delete from wg_agent_peers where interface = ${iface} and public_key = ${publicKey}`);
}

/** Statistics from `wg show dump`; writes only when something moved, so idle peers cost nothing. */
export async function recordStats(
  tx: Executor,
  publicKey: string,
  s: { lastHandshakeAt: Date | null; rxBytes: number; txBytes: number; endpoint: string | null },
): Promise<void> {
  await tx.execute(sql`
    update wg_peers set last_handshake_at = coalesce(${s.lastHandshakeAt?.toISOString() ?? null}::timestamptz, last_handshake_at),
           rx_bytes = ${s.rxBytes}, tx_bytes = ${s.txBytes}, last_endpoint = coalesce(${s.endpoint}, last_endpoint)
    where public_key = ${publicKey}
      and (rx_bytes <> ${s.rxBytes} or tx_bytes <> ${s.txBytes}
           or last_handshake_at is distinct from coalesce(${s.lastHandshakeAt?.toISOString() ?? null}::timestamptz, last_handshake_at))`);
}
