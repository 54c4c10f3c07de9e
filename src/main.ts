/** Process entry: config -> buildApp -> (seed) -> listen -> graceful shutdown. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { seedIfEmpty } from './modules/tenant-admin/index.js';
import { resolveTenantHeader } from './modules/tenants/index.js';
import { DatabaseLockedError } from './platform/db/client.js';
import { startupBanner } from './seed-output.js';

/** The CLI the way this process runs: the sources through tsx (`npm start`), or the build beside this file. */
function cliCommand(): string {
  if (import.meta.url.endsWith('.ts')) return 'npm run cli --';
  return `node ${path.relative(process.cwd(), fileURLToPath(new URL('./cli.js', import.meta.url)))}`;
}

async function main() {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78);
    }
    throw err;
  }
  const app = await buildApp(config);
  const seeded = config.autoSeed ? await seedIfEmpty(app.ctx) : { created: false as const };
  await app.listen({ host: config.host, port: config.port });
  app.log.info(
    { database: app.ctx.database.kind, store: app.ctx.store.kind, env: config.env },
    'MassaCorp API ready',
  );
  // One block at the very end of start-up, after the build and log lines (issue 20 item 8). Never through the
  // logger: a generated password is printed only to a terminal, else written to a 0600 file (seed-output.ts).
  const organisation = await resolveTenantHeader(app.ctx, String(seeded.created ? seeded.tenantId : 1)).catch(
    () => null,
  );
  process.stdout.write(
    startupBanner({
      publicUrl: config.publicUrl,
      docsUi: config.env !== 'prod',
      organisation: organisation?.slug ?? null,
      seeded: seeded.created ? seeded : null,
      dataDir: config.dataDir,
      toTerminal: process.stdout.isTTY === true,
      cli: cliCommand(),
    }),
  );

  // serving → draining (SHUTDOWN_DRAIN_MS: everything is served, /ready says 503, responses close their
  // connections, so balancers and keep-alive clients move to other replicas) → closing (app.close()). Closing at
  // once lost requests in rolling restarts: a balancer still sending here, and keep-alive connections closed
  // under the client's next request.
  let phase: 'serving' | 'draining' | 'closing' = 'serving';
  let endDrain: (() => void) | null = null;
  const shutdown = async (signal: string) => {
    if (phase === 'draining') {
      // A second signal (an impatient operator, Ctrl-C twice): skip the rest of the drain, still close cleanly.
      app.log.info({ signal }, 'second signal: ending the drain now');
      endDrain?.();
      return;
    }
    if (phase === 'closing') return;
    phase = 'draining';
    if (config.shutdownDrainMs > 0) {
      app.ctx.lifecycle.draining = true;
      app.log.info(
        { signal, drainMs: config.shutdownDrainMs },
        'draining: /ready answers 503, still serving',
      );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, config.shutdownDrainMs);
        endDrain = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    phase = 'closing';
    app.log.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down');
    // app.close() stops accepting connections, lets in-flight requests finish (new ones on open connections
    // get 503, app.ts), then closes the database and the store (onClose). Past the deadline we exit anyway.
    const force = setTimeout(() => {
      app.log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown deadline passed: exiting now');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    try {
      await app.close();
    } catch (err) {
      app.log.error({ err }, 'error while shutting down');
      process.exit(1);
    }
    app.log.info({ signal }, 'shut down cleanly');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err) => {
  // Another process has the embedded database: its message names that process, a stack trace would bury it.
  if (err instanceof DatabaseLockedError) {
    console.error(`error: ${err.message}`);
    process.exit(1);
  }
  console.error(err);
  process.exit(1);
});
