/** Process entry: config -> buildApp -> (seed) -> listen -> graceful shutdown. */
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { seedIfEmpty } from './modules/tenants/index.js';

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
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await app.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
