/** The operator CLI against a fresh embedded database: seed prints the password once, then user creation. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { testConfig } from '../../src/config.js';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), 'massacorp-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], extraEnv: Record<string, string> = {}) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ENV: 'dev',
    DATA_DIR: dir,
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
