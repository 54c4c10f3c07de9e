/**
 * `massacorp wg ...`: the gateway's side of WireGuard.
 *   server-config   wg-quick config of the gateway (Address, ListenPort, PrivateKey; --with-peers adds peers)
 *   agent           keeps WG_INTERFACE in line with the database until SIGINT/SIGTERM
 *   sync            one reconcile pass, then exit (cron, debugging)
 */
import type { Command } from 'commander';
import { CidrSet } from '../../platform/http/network.js';
import type { CliRegistration } from '../../platform/module.js';
import { WgAgent } from './agent.js';
import { serverConfig } from './config-file.js';
import * as repo from './repository.js';
import { ensureServer, openPresharedKey, poolOf } from './service.js';

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 3600) throw new Error('--interval must be 1..3600 seconds');
  return n;
}

export const registerWg: CliRegistration = (program: Command, withApp) => {
  const wg = program.command('wg').description('WireGuard gateway: server config, agent');

  wg.command('server-config')
    .description(
      'print the wg-quick config of the gateway interface (contains its private key: write it to a 0600 file)',
    )
    .option('--with-peers', 'include the active peers (otherwise the agent adds them)', false)
    .action((o) =>
      withApp(async (app) => {
        const ctx = app.ctx;
        const server = await ensureServer(ctx);
        const pool = poolOf(ctx);
        const network = new CidrSet([pool.network]);
        const peers = o.withPeers
          ? (await ctx.database.withSystem((tx) => repo.allPeersForAgent(tx)))
              .filter((p) => p.active && network.contains(p.assignedIp))
              .map((p) => ({
                name: p.id,
                publicKey: p.publicKey,
                presharedKey: openPresharedKey(ctx, p.id, p.presharedKeySealed),
                assignedIp: p.assignedIp,
              }))
          : [];
        process.stdout.write(
          serverConfig({
            privateKey: server.privateKey(),
            address: pool.serverAddress,
            listenPort: ctx.config.wgListenPort,
            peers,
          }),
        );
      }),
    );

  wg.command('agent')
    .description('reconcile WG_INTERFACE with the database every few seconds and on changes, until stopped')
    .option('--prune-unknown', 'also remove peers on the interface that the agent did not add', false)
    .option('--interval <seconds>', 'seconds between passes (default WG_AGENT_INTERVAL)', seconds)
    .action((o) =>
      withApp(async (app) => {
        const agent = new WgAgent(app.ctx, {
          pruneUnknown: o.pruneUnknown,
          intervalMs: o.interval ? o.interval * 1000 : undefined,
        });
        const stopped = new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await agent.start();
        await stopped;
        await agent.stop();
      }),
    );

  wg.command('sync')
    .description('one reconcile pass of WG_INTERFACE, then exit')
    .option('--prune-unknown', 'also remove peers on the interface that the agent did not add', false)
    .action((o) =>
      withApp(async (app) => {
        const r = await new WgAgent(app.ctx, { pruneUnknown: o.pruneUnknown }).reconcileOnce();
        console.log(
          `interface ${app.ctx.config.wgInterface}: ${r.upserts.length} added/updated, ${r.removals.length} removed, ${r.statsRecorded} with statistics${r.interfaceConfigured ? ', key and port set' : ''}`,
        );
      }),
    );
};
