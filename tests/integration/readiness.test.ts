/**
 * Issue 24 item 6: production never runs on an unmigrated embedded database, and /ready is 200 only when the
 * instance can serve a sign-in (the database answers with the schema this code expects and its signing keys
 * table, and the store answers). On PostgreSQL the database under test is a fresh one made here; embedded, an
 * in-memory PGlite of its own.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { expectedSchemaVersion, migrate } from '../../src/platform/db/migrator.js';
import { testEnv, usingPostgres } from '../helpers/app.js';
import { runCleanups } from '../helpers/cleanups.js';
import { createPrivateDatabase, type PrivateDatabase } from '../helpers/private-database.js';

let own: PrivateDatabase | undefined;
const cleanups: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  await runCleanups(cleanups);
  await own?.drop();
});

/** An app over an empty database of its own, not migrated (as prod is until `massacorp migrate` runs). */
async function unmigratedApp(): Promise<FastifyInstance> {
  let databaseUrl: string | undefined;
  if (usingPostgres) {
    own = await createPrivateDatabase('mc_ready');
    databaseUrl = own.url;
  }
  const app = await buildApp(testEnv({ DATABASE_URL: databaseUrl, PGLITE_DIR: 'memory://' }), {
    migrate: false,
  });
  cleanups.push(() => app.close());
  return app;
}

describe('readiness means a sign-in can be served (issue 24 item 6)', () => {
  it('/ready is 503 naming migrations and signing_keys on an unmigrated database, 200 once migrated, 503 naming migrations when the schema version the code expects is missing', async () => {
    const app = await unmigratedApp();
    const before = await app.inject({ url: '/ready' });
    expect(before.statusCode, before.body).toBe(503);
    expect(before.json()).toMatchObject({
      status: 'error',
      checks: {
        database: { status: 'ok' },
        migrations: { status: 'error' },
        signing_keys: { status: 'error' },
        redis: { status: 'ok' },
      },
    });

    await migrate(app.ctx.database);
    const after = await app.inject({ url: '/ready' });
    expect(after.statusCode, after.body).toBe(200);
    expect(after.json()).toMatchObject({
      status: 'ok',
      checks: { migrations: { status: 'ok' }, signing_keys: { status: 'ok' } },
    });

    // An older schema (a release rolled out before its migration job ran): not ready.
    const latest = await expectedSchemaVersion();
    expect(latest).toMatch(/^\d{4}_/);
    await app.ctx.database.query('delete from massacorp_migrations where name = $1', [latest]);
    const behind = await app.inject({ url: '/ready' });
    expect(behind.statusCode).toBe(503);
    expect(behind.json().checks).toMatchObject({
      database: { status: 'ok' },
      migrations: { status: 'error' },
      signing_keys: { status: 'ok' },
    });
    await app.ctx.database.query('insert into massacorp_migrations(name) values ($1)', [latest]);
    expect((await app.inject({ url: '/ready' })).statusCode).toBe(200);
  }, 120_000);

  it('ENV=prod and ENV=staging without DATABASE_URL: the process stops at once with one line and exit code 78', async () => {
    for (const appEnv of ['prod', 'staging']) {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        ENV: appEnv,
        JWT_SECRET: randomBytes(32).toString('hex'),
        ENCRYPTION_KEY: randomBytes(32).toString('hex'),
        METRICS_TOKEN: randomBytes(32).toString('hex'),
        PORT: '0',
      };
      delete env.DATABASE_URL;
      delete env.PGLITE_DIR;
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.once('exit', (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      expect(code, out).toBe(78);
      expect(out.trim()).toBe(
        'Invalid configuration:\n' +
          `  - DATABASE_URL is required when ENV=${appEnv} (the embedded database is for dev and test only)`,
      );
    }
  }, 120_000);
});
