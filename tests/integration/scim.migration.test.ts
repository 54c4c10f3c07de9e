/**
 * Issue 19: drizzle/0030 turns the role-code SCIM groups of the past into directory groups mapped to those roles,
 * with the same ids (the identity provider keeps them) and the role holders as members, in tenants that hold a
 * SCIM key only. Runs the migrations before 0030 on a database of its own, seeds that state, then applies 0030.
 */
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../../src/platform/db/client.js';
import { MIGRATIONS_DIR, migrate } from '../../src/platform/db/migrator.js';
import { usingPostgres } from '../helpers/app.js';
import { createPrivateDatabase, type PrivateDatabase } from '../helpers/private-database.js';

let priv: PrivateDatabase | null = null;
let database: Database | null = null;
let dir: string | null = null;
afterAll(async () => {
  await database?.close();
  await priv?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('issue 19 migration 0030: role-code groups become directory groups', () => {
  it('maps each held role of a SCIM tenant to a group of the same id, members and sources kept', async () => {
    priv = usingPostgres ? await createPrivateDatabase('mc_scim_mig') : null;
    database = await createDatabase({
      databaseUrl: priv?.url ?? null,
      pgliteDir: 'memory://',
      dbPoolMax: 2,
      dbConnectTimeoutMs: 10_000,
      dbStatementTimeoutMs: 60_000,
    });
    dir = await mkdtemp(path.join(tmpdir(), 'scim-mig-'));
    const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql')).sort();
    for (const f of files.filter((f) => f < '0030'))
      await copyFile(path.join(MIGRATIONS_DIR, f), path.join(dir, f));
    await migrate(database, dir);

    const q = async <T>(text: string, params: unknown[] = []) => (await database!.query(text, params)) as T[];
    const [withKey] = await q<{ id: number }>(
      `insert into tenants (slug, name) values ('mig-scim', 'Mig SCIM') returning id`,
    );
    const [without] = await q<{ id: number }>(
      `insert into tenants (slug, name) values ('mig-plain', 'Mig plain') returning id`,
    );
    for (const t of [withKey!.id, without!.id])
      await q(
        `insert into roles (tenant_id, code, name, is_system) values ($1, 'viewer', 'Viewer', true), ($1, 'manager', 'Manager', true)`,
        [t],
      );
    const user = async (t: number, email: string) =>
      (
        await q<{ id: number }>(`insert into users (tenant_id, email) values ($1, $2) returning id`, [
          t,
          email,
        ])
      )[0]!.id;
    const a = await user(withKey!.id, 'a@mig.test');
    const b = await user(withKey!.id, 'b@mig.test');
    const c = await user(without!.id, 'c@mig.test');
    const role = async (t: number, code: string) =>
      (await q<{ id: string }>(`select id from roles where tenant_id = $1 and code = $2`, [t, code]))[0]!.id;
    const viewer = await role(withKey!.id, 'viewer');
    const manager = await role(withKey!.id, 'manager');
    await q(`insert into user_roles (tenant_id, user_id, role_id) values ($1, $2, $3), ($1, $4, $3)`, [
      withKey!.id,
      a,
      viewer,
      b,
    ]);
    await q(`insert into user_roles (tenant_id, user_id, role_id) values ($1, $2, $3)`, [
      without!.id,
      c,
      await role(without!.id, 'viewer'),
    ]);
    await q(
      `insert into api_keys (tenant_id, name, key_hash, key_prefix, scopes, owner, role_id)
       values ($1, 'scim', $3, 'mc_sk_mig', '{scim}', 'tenant', $2)`,
      [withKey!.id, manager, 'ab'.repeat(32)],
    );

    await copyFile(
      path.join(MIGRATIONS_DIR, '0030_directory_groups.sql'),
      path.join(dir, '0030_directory_groups.sql'),
    );
    await migrate(database, dir);

    const groups = await q<{ id: string; tenant_id: number; display_name: string }>(
      `select id, tenant_id, display_name from directory_groups order by tenant_id, display_name`,
    );
    // Only the SCIM tenant, only the role with holders; same id as the role, its code as displayName.
    expect(groups).toEqual([{ id: viewer, tenant_id: withKey!.id, display_name: 'viewer' }]);
    expect(await q(`select group_id, role_id from directory_group_roles`)).toEqual([
      { group_id: viewer, role_id: viewer },
    ]);
    const members = await q<{ user_id: number }>(
      `select user_id from directory_group_members order by user_id`,
    );
    expect(members.map((m) => m.user_id)).toEqual([a, b].sort((x, y) => x - y));
    const sources = await q<{ user_id: number; direct: boolean; via_group: boolean }>(
      `select user_id, direct, via_group from user_roles order by user_id`,
    );
    expect(sources).toEqual([
      { user_id: a, direct: true, via_group: true },
      { user_id: b, direct: true, via_group: true },
      { user_id: c, direct: true, via_group: false },
    ]);
  });
});
