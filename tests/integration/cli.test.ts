/**
 * The operator CLI against a fresh embedded database: seed prints the password once, then user creation; and
 * `keys audit` (issue 18, finding 2) reports a tenant-owned key minted before creation checked its role.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { testConfig } from '../../src/config.js';
import { roleId, tenantOwner, userWith } from '../helpers/rbac.js';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), 'massacorp-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], extraEnv: Record<string, string> = {}) {
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
  return run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env, timeout: 60_000 });
}

describe('massacorp CLI', () => {
  it('seed creates tenant 1 and its admin once, then user create adds a user who can sign in', async () => {
    const first = await cli(['seed']);
    const password = /password \(shown once\): (\S+)/.exec(first.stdout)?.[1];
    expect(first.stdout).toContain('tenant 1 massacorp, admin admin@massacorp.dev');
    expect(password).toBeTruthy();

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
