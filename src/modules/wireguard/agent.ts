/**
 * The data plane: makes WG_INTERFACE match the peers stored in the database, for every tenant (withSystem).
 * One agent per interface holds a PostgreSQL advisory lock (others wait as hot standbys); it reconciles every
 * few seconds and at once when a peer change commits (LISTEN massacorp_wg; PGlite has one connection, so it polls).
 * It only removes peers it added itself, unless pruneUnknown, and records handshakes and byte counters.
 */
import pg from 'pg';
import { writeAuditAlone } from '../../platform/audit/alone.js';
import { SYSTEM_AUDIT_CONTEXT } from '../../platform/audit/writer.js';
import { CidrSet } from '../../platform/http/network.js';
import type { WireguardDeps } from './deps.js';
import { hostRoute } from './pool.js';
import { planReconcile, type ReconcilePlan } from './reconcile.js';
import * as repo from './repository.js';
import { ensureServer, openPresharedKey, poolOf } from './service.js';
import { createWgDriver, type DesiredPeerConfig, type WgDriver } from './wg-driver.js';

const AGENT_LOCK_CLASS = 0x7761; // "wa"

export interface AgentOptions {
  iface?: string;
  intervalMs?: number;
  pruneUnknown?: boolean;
  driver?: WgDriver;
}

export interface ReconcileResult extends ReconcilePlan {
  interfaceConfigured: boolean;
  statsRecorded: number;
}

export class WgAgent {
  readonly iface: string;
  private readonly driver: WgDriver;
  private readonly intervalMs: number;
  private readonly pruneUnknown: boolean;
  private running: Promise<ReconcileResult | null> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private lockClient: pg.Client | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  /** True from the loss of the lock session until it is reacquired: no reconciling without the lock. */
  private suspended = false;
  /** Bumped on every activation, so a timer chain of a lost session never runs alongside the new one. */
  private generation = 0;
  private connectedOnce = false;

  constructor(
    private readonly ctx: WireguardDeps,
    opts: AgentOptions = {},
  ) {
    this.iface = opts.iface ?? ctx.config.wgInterface;
    this.driver = opts.driver ?? createWgDriver();
    this.intervalMs = opts.intervalMs ?? ctx.config.wgAgentIntervalSeconds * 1000;
    this.pruneUnknown = opts.pruneUnknown ?? false;
  }

  /** One pass: interface identity, peers, statistics. Throws if the interface cannot be read. */
  async reconcileOnce(): Promise<ReconcileResult> {
    const { ctx, driver, iface } = this;
    const server = await ensureServer(ctx);
    const dump = await driver.dump(iface);
    let interfaceConfigured = false;
    const privateKey = server.privateKey();
    if (dump.privateKey !== privateKey || dump.listenPort !== ctx.config.wgListenPort) {
      await driver.configureInterface(iface, privateKey, ctx.config.wgListenPort);
      interfaceConfigured = true;
    }

    // The interface serves one network: peers of other networks (an old WG_NETWORK) are not its business.
    const network = new CidrSet([poolOf(ctx).network]);
    const { peers, managed } = await ctx.database.withSystem(async (tx) => ({
      peers: await repo.allPeersForAgent(tx),
      managed: await repo.managedKeys(tx, iface),
    }));
    const desired: DesiredPeerConfig[] = peers
      .filter((p) => p.active && network.contains(p.assignedIp))
      .map((p) => ({
        publicKey: p.publicKey,
        presharedKey: openPresharedKey(ctx, p.id, p.presharedKeySealed),
        allowedIps: [hostRoute(p.assignedIp)],
      }));
    const plan = planReconcile(desired, dump.peers, managed, this.pruneUnknown);

    for (const peer of plan.upserts) {
      await driver.setPeer(iface, peer);
      await ctx.database.withSystem((tx) => repo.markManaged(tx, iface, peer.publicKey));
    }
    const byKey = new Map(peers.map((p) => [p.publicKey, p]));
    for (const key of plan.removals) {
      await driver.removePeer(iface, key);
      await ctx.database.withSystem((tx) => repo.unmarkManaged(tx, iface, key));
      // Revokes, edits and deletes were audited by the request that made them; an expiry has no request, so
      // the agent records the moment it took the peer off the interface.
      const row = byKey.get(key);
      if (row?.expired) {
        await writeAuditAlone(ctx, row.tenantId, SYSTEM_AUDIT_CONTEXT, {
          eventType: 'wireguard.peer.expired',
          resourceType: 'wireguard_peer',
          resourceId: row.id,
          metadata: { public_key: row.publicKey, assigned_ip: row.assignedIp, interface: iface },
        });
      }
    }
    if (plan.upserts.length || plan.removals.length) {
      ctx.log.info(
        { iface, added_or_updated: plan.upserts.length, removed: plan.removals.length },
        'wireguard interface reconciled',
      );
    }

    // Statistics of the peers the database knows (never the preshared keys the dump also carries).
    const known = new Set(peers.map((p) => p.publicKey));
    const stats = dump.peers.filter(
      (p) => known.has(p.publicKey) && (p.latestHandshake > 0 || p.rxBytes > 0 || p.txBytes > 0),
    );
    if (stats.length) {
      await ctx.database.withSystem(async (tx) => {
        for (const s of stats) {
          await repo.recordStats(tx, s.publicKey, {
            lastHandshakeAt: s.latestHandshake > 0 ? new Date(s.latestHandshake * 1000) : null,
            rxBytes: s.rxBytes,
            txBytes: s.txBytes,
            endpoint: s.endpoint,
          });
        }
      });
    }
    return { ...plan, interfaceConfigured, statsRecorded: stats.length };
  }

  /** Runs a pass now, or right after the one in flight (changes during a pass are never lost). */
  trigger(): Promise<ReconcileResult | null> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.reconcileOnce()
      .catch((err) => {
        this.ctx.log.warn(
          { iface: this.iface, err: (err as Error).message },
          'wireguard reconcile failed; retrying next tick',
        );
        return null;
      })
      .finally(() => {
        this.running = null;
        if (this.again && !this.stopped && !this.suspended) {
          this.again = false;
          void this.trigger();
        }
      });
    return this.running;
  }

  /**
   * PostgreSQL: a dedicated session holds the per-interface lock and LISTENs. PGlite has one connection: no-op.
   * The session can die (a PostgreSQL restart or failover): that ends the lock and the LISTEN with it, so the
   * agent stops reconciling and goes back to acquiring, as a standby would (sessionLost).
   */
  private async acquire(): Promise<void> {
    const url = this.ctx.config.databaseUrl;
    if (!url || this.ctx.database.kind !== 'postgres') return;
    const client = new pg.Client({ connectionString: url });
    let established = false;
    // Always listened to: an unhandled 'error' event would end the process.
    client.on('error', (err) => {
      this.ctx.log.warn({ iface: this.iface, err: err.message }, 'wireguard agent connection error');
      if (established) this.sessionLost(client);
    });
    client.on('end', () => {
      if (established) this.sessionLost(client);
    });
    this.lockClient = client;
    try {
      await client.connect();
      this.connectedOnce = true;
      while (!this.stopped) {
        const r = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1, hashtext($2)) as ok', [
          AGENT_LOCK_CLASS,
          this.iface,
        ]);
        if (r.rows[0]?.ok) break;
        await this.sleep(this.intervalMs);
      }
      if (this.stopped) return;
      client.on('notification', () => void this.trigger());
      await client.query('listen massacorp_wg');
      established = true;
    } catch (err) {
      if (this.lockClient === client) this.lockClient = null;
      await client.end().catch(() => {});
      throw err;
    }
  }

  /** The session holding the lock is gone: stop reconciling, then reacquire (maybe as a standby). */
  private sessionLost(client: pg.Client): void {
    if (this.stopped || this.lockClient !== client) return;
    this.lockClient = null;
    this.suspended = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    void client.end().catch(() => {});
    this.ctx.log.warn(
      { iface: this.iface },
      'wireguard agent lost its database session; reacquiring the lock',
    );
    void this.reacquire();
  }

  /** Retries every second (or the interval, if shorter) until the database answers again or stop(). */
  private async reacquire(): Promise<void> {
    while (!this.stopped) {
      await this.sleep(Math.min(this.intervalMs, 1000));
      if (this.stopped) return;
      try {
        await this.acquire();
      } catch {
        continue; // still down: the error was logged by the client listener or is the refused connection
      }
      if (this.stopped) return;
      await this.activate();
      return;
    }
  }

  /** Reconciles now, then on a timer (and on notifications) until the session is lost or stop(). */
  private async activate(): Promise<void> {
    this.suspended = false;
    const generation = ++this.generation;
    if (this.timer) clearTimeout(this.timer);
    this.ctx.log.info({ iface: this.iface, interval_ms: this.intervalMs }, 'wireguard agent active');
    await this.trigger();
    const live = () => !this.stopped && !this.suspended && generation === this.generation;
    const tick = () => {
      if (!live()) return;
      void this.trigger().finally(() => {
        if (live()) this.timer = setTimeout(tick, this.intervalMs);
      });
    };
    if (live()) this.timer = setTimeout(tick, this.intervalMs);
  }

  /** Waits for the lock (standby), then reconciles on a timer and on notifications until stop(). */
  async start(): Promise<void> {
    try {
      await this.acquire();
    } catch (err) {
      if (this.stopped) return; // stop() closed the connection under a pending query: not an error
      // A standby whose session died while it waited retries; a first connection that fails is the caller's.
      if (!this.connectedOnce) throw err;
      this.ctx.log.warn({ iface: this.iface, err: (err as Error).message }, 'wireguard agent session lost');
      void this.reacquire();
      return;
    }
    if (this.stopped) return;
    await this.activate();
  }

  /** A wait that stop() cuts short (a standby must not outlive its app by a whole interval). */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => {});
    // Closing the session releases the advisory lock: a standby takes over.
    await this.lockClient?.end().catch(() => {});
    this.lockClient = null;
  }
}

/** WG_AGENT_IN_PROCESS: started when the app is ready; a failure is logged, never fatal to the API. */
export function startInProcessAgent(ctx: WireguardDeps): () => Promise<void> {
  const agent = new WgAgent(ctx);
  agent
    .start()
    .catch((err) => ctx.log.error({ err: (err as Error).message }, 'wireguard agent could not start'));
  return () => agent.stop();
}
