/** Process entry: config -> buildApp -> (seed) -> listen -> graceful shutdown. */
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { seedIfEmpty } from './modules/tenant-admin/index.js';
import { DatabaseLockedError } from './platform/db/client.js';

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
  if (config.autoSeed) {
    const seeded = await seedIfEmpty(app.ctx);
    if (seeded.created) {
      // Printed once, to the terminal only: never through the logger.
      process.stdout.write(
        `\n  Seeded tenant ${seeded.tenantId} (massacorp) with admin ${seeded.email}\n` +
          (seeded.generated
            ? `  Generated password (shown once): ${seeded.password}\n\n`
            : '  Password: SEED_ADMIN_PASSWORD\n\n'),
      );
    }
  }
  await app.listen({ host: config.host, port: config.port });
  app.log.info(
    { database: app.ctx.database.kind, store: app.ctx.store.kind, env: config.env },
    'MassaCorp API ready',
  );

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
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
