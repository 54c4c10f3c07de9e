#!/usr/bin/env node
/**
 * `massacorp` command line: migrate, seed, tenant and user creation, an admin's lost password. More commands (key rotation, audit
 * verification, WireGuard) register themselves from src/cli/*.ts through cliCommands.
 */
import { Command } from 'commander';
import { buildApp } from './app.js';
import { cliCommands } from './cli/index.js';
import { loadConfig } from './config.js';
import { resetPasswordAsOperator } from './modules/auth/index.js';
import { modules } from './modules/index.js';
import { createTenant, generatePassword, seedIfEmpty } from './modules/tenant-admin/index.js';
import { resolveTenantHeader } from './modules/tenants/index.js';
import { createUser } from './modules/users/index.js';
import { createDatabase } from './platform/db/client.js';
import { migrate } from './platform/db/migrator.js';
import { AppError } from './platform/http/errors.js';
import { RESET_PASSWORD_FILE, seedAnnouncement, writeSecretFile } from './seed-output.js';

/** The creation's HTTP errors as the CLI has always worded them. */
function cliErrors<A extends unknown[], R>(fn: (...args: A) => Promise<R>) {
  return (...args: A) =>
    fn(...args).catch((err: unknown) => {
      if (err instanceof AppError && err.code === 'PASSWORD_TOO_WEAK')
        throw new Error(`password refused: ${((err.details?.reasons ?? []) as string[]).join(', ')}`);
      if (err instanceof AppError && err.code === 'EMAIL_ALREADY_EXISTS')
        throw new Error('a user with this email already exists in the tenant');
      throw err;
    });
}

const program = new Command()
  .name('massacorp')
  .description('MassaCorp identity and access API: operator commands');

/** The CLI runs the same composition root as the server, without listening. */
export async function withApp<T>(fn: (app: Awaited<ReturnType<typeof buildApp>>) => Promise<T>): Promise<T> {
  const config = loadConfig(process.env);
  const app = await buildApp({ ...config, logLevel: 'warn' }, { migrate: true });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

program
  .command('migrate')
  .description('apply pending SQL migrations from drizzle/')
  .action(async () => {
    const config = loadConfig(process.env);
    const db = await createDatabase(config);
    try {
      const applied = await migrate(db);
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
    } finally {
      await db.close();
    }
  });

program
  .command('seed')
  .description(
    'on an empty database: tenant 1 (massacorp) with admin@massacorp.dev; prints the password once',
  )
  .action(() =>
    withApp(async (app) => {
      const r = await seedIfEmpty(app.ctx);
      if (!r.created) console.log('database already has tenants: nothing seeded');
      // A terminal gets the password; a log (`docker compose run -T`, a Job) gets the file's path (seed-output.ts).
      else
        process.stdout.write(
          seedAnnouncement(r, app.ctx.config.dataDir, process.stdout.isTTY === true).trimStart(),
        );
    }),
  );

const tenant = program.command('tenant').description('tenants');
tenant
  .command('create')
  .requiredOption('--slug <slug>')
  .requiredOption('--name <name>')
  .option('--admin-email <email>')
  .option('--admin-password <password>', 'first admin password (or MASSACORP_ADMIN_PASSWORD)')
  .action((o) =>
    withApp(async (app) => {
      const password = o.adminPassword ?? process.env.MASSACORP_ADMIN_PASSWORD;
      const admin = o.adminEmail
        ? { email: String(o.adminEmail).toLowerCase(), password: String(password ?? '') }
        : undefined;
      const { tenant: t, admin: a } = await createTenant(app.ctx, { slug: o.slug, name: o.name, admin });
      console.log(`tenant ${t.id} (${t.slug})${a ? `, admin user ${a.id} ${a.email}` : ''}`);
    }),
  );

const user = program.command('user').description('users');
user
  .command('create')
  .requiredOption('--tenant <id-or-slug>')
  .requiredOption('--email <email>')
  .option('--password <password>', 'or MASSACORP_USER_PASSWORD')
  .option('--first-name <name>')
  .option('--last-name <name>')
  .option('--superuser', 'grant is_superuser', false)
  .action((o) =>
    withApp(async (app) => {
      const ctx = app.ctx;
      const t = await resolveTenantHeader(ctx, String(o.tenant));
      if (!t) throw new Error(`unknown tenant ${o.tenant}`);
      const password = String(o.password ?? process.env.MASSACORP_USER_PASSWORD ?? '');
      // The same creation as POST /users: tenant password policy, 409 on a taken address, hooks, audit.
      const u = await cliErrors(createUser)(
        ctx,
        t.id,
        {
          email: String(o.email),
          password,
          firstName: o.firstName ?? null,
          lastName: o.lastName ?? null,
          isSuperuser: Boolean(o.superuser),
          isVerified: true,
        },
        { source: 'cli' },
      );
      console.log(`user ${u.id} ${u.email} in tenant ${t.id}`);
    }),
  );

/** All of stdin, for a password piped in (`--stdin`): the first line, without its line ending. */
async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return (Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '').trim();
}

const admin = program.command('admin').description('administrators: recovery');
admin
  .command('reset-password')
  .description(
    "set a user's password (a lost admin password): a generated one-time password, shown once, or one read from " +
      'stdin (--stdin); ends their sessions; audited',
  )
  .requiredOption('--tenant <id-or-slug>')
  .requiredOption('--email <email>')
  .option('--stdin', 'read the new password from stdin (first line) instead of generating one', false)
  .action((o) =>
    withApp(async (app) => {
      const ctx = app.ctx;
      const t = await resolveTenantHeader(ctx, String(o.tenant));
      if (!t) throw new Error(`unknown tenant ${o.tenant}`);
      const given = o.stdin ? await readStdinLine() : null;
      if (o.stdin && !given) throw new Error('no password on stdin');
      const generated = given === null ? generatePassword() : null;
      const r = await cliErrors(resetPasswordAsOperator)(
        ctx,
        t.id,
        String(o.email),
        given !== null ? { given } : { generated: generated! },
      ).catch((err: unknown) => {
        if (err instanceof AppError && err.code === 'NOT_FOUND')
          throw new Error(`no user ${o.email} in tenant ${t.slug}`);
        throw err;
      });
      const head = `password of ${String(o.email).toLowerCase()} (user ${r.userId}) in tenant ${t.slug} reset; ${r.sessionsEnded} session(s) ended`;
      if (generated === null) console.log(head);
      // The seed's rule: a terminal gets the password, a log gets a 0600 file's path (seed-output.ts).
      else if (process.stdout.isTTY === true)
        console.log(`${head}\n  One-time password (shown once; change it after signing in): ${generated}`);
      else {
        const file = writeSecretFile(app.ctx.config.dataDir, RESET_PASSWORD_FILE, generated);
        console.log(
          `${head}\n  One-time password written to ${file} (readable by this user only; output is not a terminal,` +
            ' so it is not printed). Read it, sign in, change it, then delete the file.',
        );
      }
    }),
  );

for (const m of modules) m.cli?.(program, withApp);
for (const register of cliCommands) register(program, withApp);

program.parseAsync(process.argv).catch((err) => {
  console.error(`error: ${(err as Error).message}`);
  process.exit(1);
});
