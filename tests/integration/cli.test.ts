/**
 * The operator CLI against a fresh embedded database: seed prints the password once, then user creation; and
 * (issue 18 item 9) a CLI next to a running server on the same embedded database fails instead of losing writes;
 * `keys audit` (issue 18, finding 2) reports a tenant-owned key minted before creation checked its role.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { testConfig } from '../../src/config.js';
import { newTenant } from '../helpers/factories.js';
import { roleId, tenantOwner, userWith } from '../helpers/rbac.js';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), 'massacorp-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function childEnv(extraEnv: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ENV: 'dev',
    DATA_DIR: extraEnv.DATA_DIR ?? dir,
    LOG_LEVEL: 'warn',
    ARGON2_MEMORY_KIB: '4096',
    ARGON2_TIME_COST: '1',
    ...extraEnv,
  };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  delete env.PGLITE_DIR;
  return env;
}

function cli(args: string[], extraEnv: Record<string, string> = {}) {
  return run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    env: childEnv(extraEnv),
    timeout: 60_000,
  });
}

/** Runs the CLI expecting it to fail: its exit code and output. */
async function cliFailure(args: string[], extraEnv: Record<string, string>) {
  const err = (await cli(args, extraEnv).then(
    (ok) => ({ code: 0, ...ok }),
    (e: unknown) => e,
  )) as { code: number; stdout: string; stderr: string };
  return { code: err.code, stdout: err.stdout, stderr: err.stderr };
}

describe('massacorp CLI', () => {
  it('seed creates tenant 1 and its admin once, then user create adds a user who can sign in', async () => {
    const first = await cli(['seed']);
    expect(first.stdout).toContain('Seeded tenant 1 (massacorp) with admin admin@massacorp.dev');
    // Output to a pipe, not a terminal (issue 24 item 8): the password is in a file only its owner reads.
    const file = path.join(dir, 'initial-admin-password');
    expect(first.stdout).toContain(`Generated password written to ${file}`);
    const password = readFileSync(file, 'utf8').trim();
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect(first.stdout + first.stderr).not.toContain(password);

    const created = await cli(
      ['user', 'create', '--tenant', 'massacorp', '--email', 'Ops@Example.test', '--first-name', 'Op'],
      {
        MASSACORP_USER_PASSWORD: 'Operator-Pass-2026!',
      },
    );
    expect(created.stdout).toMatch(/user \d+ ops@example\.test in tenant 1/);
    const again = await cli(['seed']);
    expect(again.stdout).toContain('nothing seeded');

    const app = await buildApp(testConfig({ PGLITE_DIR: path.join(dir, 'pglite'), DATA_DIR: dir }), {
      migrate: false,
    });
    try {
      for (const [email, pw] of [
        ['admin@massacorp.dev', password!],
        ['ops@example.test', 'Operator-Pass-2026!'],
      ]) {
        const res = await app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          headers: { 'x-tenant-id': 'massacorp' },
          payload: { email, password: pw },
        });
        expect(res.statusCode, email).toBe(200);
      }
    } finally {
      await app.close();
    }
  }, 120_000);
});

describe('issue 18 item 9: one process per embedded database', () => {
  const password = { MASSACORP_USER_PASSWORD: 'Operator-Pass-2026!' };
  const userCreate = (tenant: string, email: string) => [
    'user',
    'create',
    '--tenant',
    tenant,
    '--email',
    email,
  ];
  const countUsers = async (app: FastifyInstance, email: string) =>
    (
      await app.ctx.database.withSystem((tx) =>
        tx.execute<{ n: number }>(sql`select count(*)::int as n from users where email = ${email}`),
      )
    ).rows[0]!.n;

  it('finding 9 — with an app holding the embedded database, `user create` from the CLI exits non-zero naming the holder pid, and no user is created', async () => {
    const own = mkdtempSync(path.join(tmpdir(), 'massacorp-lock-'));
    const env = { PGLITE_DIR: path.join(own, 'pglite'), DATA_DIR: own };
    try {
      let app = await buildApp(testConfig(env), { migrate: true });
      let slug: string;
      try {
        slug = (await newTenant(app)).tenant.slug;
        const failed = await cliFailure(userCreate(slug, 'lost@example.test'), {
          DATA_DIR: own,
          ...password,
        });
        expect(failed.code).toBe(1);
        expect(failed.stderr).toContain(`is in use by process ${process.pid}`);
        expect(failed.stderr).toContain(path.join(own, 'pglite'));
        expect(failed.stdout).not.toMatch(/user \d+/);
        expect(await countUsers(app, 'lost@example.test')).toBe(0);
      } finally {
        await app.close();
      }
      // Closing released the lock: the CLI now works, and what it writes is there for the next start.
      expect(existsSync(path.join(own, 'pglite.lock'))).toBe(false);
      const ok = await cli(userCreate(slug, 'kept@example.test'), { DATA_DIR: own, ...password });
      expect(ok.stdout).toMatch(/user \d+ kept@example\.test/);
      app = await buildApp(testConfig(env), { migrate: false });
      try {
        expect(await countUsers(app, 'kept@example.test')).toBe(1);
        expect(await countUsers(app, 'lost@example.test')).toBe(0);
      } finally {
        await app.close();
      }
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  }, 180_000);

  /** `npm start` in a child: resolves once it listens (its seed line and "ready" log seen). */
  async function startServer(own: string): Promise<ChildProcess> {
    const server = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: childEnv({ DATA_DIR: own, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (c: Buffer) => {
        out += c.toString();
        if (out.includes('MassaCorp API ready')) resolve();
      };
      server.stdout!.on('data', onData);
      server.stderr!.on('data', onData);
      server.once('exit', (code) => reject(new Error(`server exited (${code}) before ready: ${out}`)));
    });
    return server;
  }

  it('finding 9 — with `npm start` running embedded, the CLI fails naming the server pid; SIGTERM releases the lock, and a kill -9 leaves a stale lock the next process takes over', async () => {
    const own = mkdtempSync(path.join(tmpdir(), 'massacorp-lock-'));
    const lockFile = path.join(own, 'pglite.lock');
    try {
      let server = await startServer(own);
      const failed = await cliFailure(userCreate('massacorp', 'lost@example.test'), {
        DATA_DIR: own,
        ...password,
      });
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain(`is in use by process ${server.pid} (main.ts)`);
      // Clean shutdown releases the lock.
      server.kill('SIGTERM');
      const [code] = await once(server, 'exit');
      expect(code).toBe(0);
      expect(existsSync(lockFile)).toBe(false);

      // A server killed outright leaves its lock behind; its pid is dead, so the CLI takes the lock over.
      server = await startServer(own);
      expect(JSON.parse(readFileSync(lockFile, 'utf8')).pid).toBe(server.pid);
      server.kill('SIGKILL');
      await once(server, 'exit');
      expect(existsSync(lockFile)).toBe(true);
      const ok = await cli(userCreate('massacorp', 'kept@example.test'), { DATA_DIR: own, ...password });
      expect(ok.stdout).toMatch(/user \d+ kept@example\.test in tenant 1/);
      expect(existsSync(lockFile)).toBe(false);
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  }, 240_000);
});

describe('massacorp keys audit', () => {
  const auditDir = mkdtempSync(path.join(tmpdir(), 'massacorp-keys-audit-'));
  afterAll(() => rmSync(auditDir, { recursive: true, force: true }));
  // The CLI reads what the test app wrote: same directory and the same secrets.
  const secrets = {
    DATA_DIR: auditDir,
    JWT_SECRET: 'test-jwt-secret-0123456789abcdef0123456789',
    ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
  };

  it('finding 2 — keys audit lists a pre-fix over-powered key (tenant, id, name, role, permissions in excess) and exits non-zero; a clean tenant exits 0', async () => {
    const app = await buildApp(
      testConfig({ PGLITE_DIR: path.join(auditDir, 'pglite'), DATA_DIR: auditDir }),
      {
        migrate: true,
      },
    );
    let tenantId: number;
    let cleanTenantId: number;
    let keyId: number;
    try {
      const { owner } = await tenantOwner(app);
      tenantId = owner.tenantId;
      cleanTenantId = (await tenantOwner(app)).owner.tenantId;
      // The creator may assign roles, not hold everything: the owner role exceeds what they could grant.
      const creator = await userWith(app, tenantId, ['manager']);
      const ownerRole = await roleId(owner, 'owner');
      const hash = createHash('sha256').update(randomBytes(32)).digest('hex');
      // Written directly, as POST /api-keys let it through before the fix.
      const rows = await app.ctx.database.withTenant(tenantId, (tx) =>
        tx.execute<{ id: number }>(sql`
          insert into api_keys (tenant_id, name, key_hash, key_prefix, scopes, owner, role_id, created_by_user_id)
          values (${tenantId}, 'okta provisioning', ${hash}, 'mc_sk_legacy', '{scim}', 'tenant', ${ownerRole},
                  ${creator.userId})
          returning id`),
      );
      keyId = Number(rows.rows[0]!.id);
    } finally {
      await app.close();
    }

    const failed = await cli(['keys', 'audit'], secrets).then(
      () => null,
      (err: { code?: number; stdout: string; stderr: string }) => err,
    );
    expect(failed, 'keys audit must exit non-zero').not.toBeNull();
    expect(failed!.code).toBe(1);
    const line = failed!.stdout.split('\n').find((l) => l.includes(`key ${keyId} `));
    expect(line, failed!.stdout).toBeDefined();
    expect(line).toContain(`tenant ${tenantId} `);
    expect(line).toContain('"okta provisioning"');
    expect(line).toContain('role owner');
    expect(line).toContain('exceeds_creator');
    expect(line).toMatch(/in excess: .*tenants\.manage/);
    expect(line).not.toMatch(/in excess: .*users\.write/); // a manager holds it
    expect(failed!.stderr).toContain('1 tenant-owned key(s) exceed');

    // --json and --tenant: a clean tenant prints nothing and exits 0 (execFile would reject otherwise).
    const clean = await cli(['keys', 'audit', '--json', '--tenant', String(cleanTenantId)], secrets);
    expect(clean.stdout.trim()).toBe('');
  }, 180_000);
});

describe('massacorp admin reset-password (issue 20 item 8)', () => {
  /** The CLI with `input` on its stdin. */
  function cliWithStdin(args: string[], input: string, extraEnv: Record<string, string>) {
    return new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
        env: childEnv(extraEnv),
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      child.stdin.end(input);
    });
  }

  it('a generated one-time password (to a 0600 file when not a terminal) or one from stdin; old password and sessions end; audited', async () => {
    const own = mkdtempSync(path.join(tmpdir(), 'massacorp-reset-'));
    const env = { DATA_DIR: own, PGLITE_DIR: path.join(own, 'pglite') };
    const withApp = async <T>(fn: (app: FastifyInstance) => Promise<T>) => {
      const app = await buildApp(testConfig(env), { migrate: false });
      try {
        return await fn(app);
      } finally {
        await app.close();
      }
    };
    const signIn = (app: FastifyInstance, password: string) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { 'x-tenant-id': 'massacorp' },
        payload: { email: 'admin@massacorp.dev', password },
      });
    try {
      await cli(['seed'], env);
      const initial = readFileSync(path.join(own, 'initial-admin-password'), 'utf8').trim();
      const refreshToken = await withApp(async (app) => {
        const res = await signIn(app, initial);
        expect(res.statusCode).toBe(200);
        return res.json().refresh_token as string;
      });

      const reset = await cli(
        ['admin', 'reset-password', '--tenant', 'massacorp', '--email', 'Admin@Massacorp.dev'],
        env,
      );
      const file = path.join(own, 'reset-admin-password');
      expect(reset.stdout).toContain(
        'password of admin@massacorp.dev (user 1) in tenant massacorp reset; 1 session(s) ended',
      );
      expect(reset.stdout).toContain(`One-time password written to ${file}`);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const generated = readFileSync(file, 'utf8').trim();
      expect(generated.length).toBeGreaterThanOrEqual(16);
      expect(reset.stdout + reset.stderr).not.toContain(generated);

      await withApp(async (app) => {
        expect((await signIn(app, initial)).statusCode).toBe(401);
        expect((await signIn(app, generated)).statusCode).toBe(200);
        // The session opened before the reset is over: its refresh token no longer works.
        const refreshed = await app.inject({
          method: 'POST',
          url: '/api/v1/auth/refresh',
          payload: { refresh_token: refreshToken },
        });
        expect(refreshed.statusCode).toBe(401);
        const audited = await app.ctx.database.withTenant(1, (tx) =>
          tx.execute<{ metadata: Record<string, unknown> }>(sql`select metadata from audit_log
            where tenant_id = 1 and event_type = 'auth.password_reset_by_operator' and resource_id = '1'`),
        );
        expect(audited.rows.map((r) => r.metadata)).toEqual([
          expect.objectContaining({ via: 'cli', generated: true, sessions_ended: 1 }),
        ]);
      });

      // A password of the operator's choosing, from stdin, under the tenant's policy.
      const weak = await cliWithStdin(
        ['admin', 'reset-password', '--tenant', 'massacorp', '--email', 'admin@massacorp.dev', '--stdin'],
        'short\n',
        env,
      );
      expect(weak.code).toBe(1);
      expect(weak.stderr).toContain('password refused');
      const chosen = await cliWithStdin(
        ['admin', 'reset-password', '--tenant', 'massacorp', '--email', 'admin@massacorp.dev', '--stdin'],
        'Chosen-By-Operator-2026!\n',
        env,
      );
      expect(chosen.code, chosen.stderr).toBe(0);
      expect(chosen.stdout).not.toContain('Chosen-By-Operator-2026!');
      await withApp(async (app) => {
        expect((await signIn(app, 'Chosen-By-Operator-2026!')).statusCode).toBe(200);
      });

      const unknown = await cliFailure(
        ['admin', 'reset-password', '--tenant', 'massacorp', '--email', 'nobody@example.test'],
        env,
      );
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('no user nobody@example.test in tenant massacorp');
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  }, 180_000);
});
