/**
 * Tenant isolation read from the migrated database's catalogue, for every table, not a hand-kept list: a table
 * with tenant_id must have row-level security enabled AND forced, and policies for the app role that confine
 * every command to the tenant; every table without tenant_id must be a listed global table; the app role owns
 * nothing and bypasses nothing. A migration that adds a table without RLS fails here, naming the table.
 * The rules live in tests/helpers/rls-catalogue.ts; the last test proves they catch each kind of gap.
 */
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { APP_ROLE, type Database, type Tx } from '../../src/platform/db/client.js';
import { testDatabase } from '../helpers/app.js';
import {
  GLOBAL_TABLES,
  isolationViolations,
  readAppRole,
  readRelations,
  tenantTables,
} from '../helpers/rls-catalogue.js';

let database: Database;

beforeAll(async () => {
  database = await testDatabase();
});

/** Runs fn in a system transaction that is always rolled back (probe tables never outlive the test). */
async function rolledBack<T>(fn: (tx: Tx) => Promise<T>) {
  const rollback = new Error('rollback');
  let out: T | undefined;
  await database
    .withSystem(async (tx) => {
      out = await fn(tx);
      throw rollback;
    })
    .catch((err) => {
      if (err !== rollback) throw err;
    });
  return out as T;
}

describe('row-level security, read from the catalogue', () => {
  it('every table with tenant_id has RLS enabled and forced, policies confining each command to the tenant, and foreign keys that pair tenant_id', async () => {
    const violations = await database.withSystem((tx) => isolationViolations(tx));
    // One line per gap, each naming its table: the failure message is the to-do list.
    expect(violations, violations.join('\n')).toEqual([]);
  });

  it('finds the tenant tables of every migration (not a fixed list of six)', async () => {
    const tables = await database.withSystem((tx) => tenantTables(tx));
    const names = tables.map((t) => t.name);
    // A floor, not the list: the catalogue decides. These span every migration up to 0014.
    for (const t of [
      'tenants',
      'users',
      'sessions',
      'refresh_tokens',
      'audit_log',
      'audit_chain_heads',
      'audit_anchors',
      'roles',
      'user_roles',
      'mfa_totp',
      'mfa_recovery_codes',
      'webauthn_credentials',
      'api_keys',
      'feature_overrides',
      'wg_peers',
      'audit_pii',
      'password_reset_tokens',
      'sso_connections',
      'sso_domains',
      'external_identities',
      'scim_external_ids',
      'invitations',
      'oidc_clients',
    ])
      expect(names, t).toContain(t);
    expect(tables.length).toBeGreaterThanOrEqual(21);
  });

  it(`${APP_ROLE} is no superuser, has no BYPASSRLS, owns no table and is no member of an owner`, async () => {
    const role = await database.withSystem((tx) => readAppRole(tx));
    expect(role).toEqual({ exists: true, superuser: false, bypassRls: false, privilegedMemberOf: [] });
    const relations = await database.withSystem((tx) => readRelations(tx));
    expect(relations.filter((r) => r.ownedByApp || r.appMemberOfOwner).map((r) => r.name)).toEqual([]);
    // And inside a tenant transaction the app really runs as that role, with no way around RLS.
    const inside = await database.withTenant(1, async (tx) => {
      const r = await tx.execute<{ who: string; bypass: boolean }>(
        sql`select current_user as who, (select rolbypassrls from pg_roles where rolname = current_user) as bypass`,
      );
      return r.rows[0];
    });
    expect(inside).toEqual({ who: APP_ROLE, bypass: false });
  });

  it('every table without tenant_id is an explicit, commented global table', async () => {
    const relations = await database.withSystem((tx) => readRelations(tx));
    const global = relations
      .filter((r) => (r.kind === 'r' || r.kind === 'p') && !r.columns.includes('tenant_id'))
      .map((r) => r.name)
      .filter((n) => n !== 'tenants')
      .sort();
    expect(global).toEqual(Object.keys(GLOBAL_TABLES).sort());
  });

  it('the rules fail, naming the table, for each kind of gap (checked on probe tables, rolled back)', async () => {
    const found = await rolledBack(async (tx) => {
      const script = `
        create table rls_probe_plain (id int primary key, tenant_id int not null);
        grant select, insert, update, delete on rls_probe_plain to ${APP_ROLE};
        create table rls_probe_unforced (id int primary key, tenant_id int not null);
        alter table rls_probe_unforced enable row level security;
        create policy tenant_isolation on rls_probe_unforced to ${APP_ROLE}
          using (tenant_id = app_current_tenant()) with check (tenant_id = app_current_tenant());
        create table rls_probe_open (id int primary key, tenant_id int not null);
        alter table rls_probe_open enable row level security;
        alter table rls_probe_open force row level security;
        create policy tenant_isolation on rls_probe_open to ${APP_ROLE}
          using (tenant_id = app_current_tenant()) with check (tenant_id = app_current_tenant());
        create policy everyone_reads on rls_probe_open for select to ${APP_ROLE} using (true);
        create table rls_probe_ored (id int primary key, tenant_id int not null);
        alter table rls_probe_ored enable row level security;
        alter table rls_probe_ored force row level security;
        create policy tenant_isolation on rls_probe_ored to ${APP_ROLE}
          using (tenant_id = app_current_tenant() or tenant_id is null);
        create table rls_probe_nopolicy (id int primary key, tenant_id int not null);
        alter table rls_probe_nopolicy enable row level security;
        alter table rls_probe_nopolicy force row level security;
        create table rls_probe_forgot_tenant (id int primary key, owner_email text);
        create table rls_probe_owned (id int primary key, tenant_id int not null);
        alter table rls_probe_owned enable row level security;
        alter table rls_probe_owned force row level security;
        create policy tenant_isolation on rls_probe_owned to ${APP_ROLE} using (tenant_id = app_current_tenant());
        alter table rls_probe_owned owner to ${APP_ROLE};
        create view rls_probe_view as select * from users;
        grant select on rls_probe_view to ${APP_ROLE};
        grant insert on feature_flags to ${APP_ROLE};
        create table rls_probe_fk (id int primary key, tenant_id int not null, user_id int references users (id));
        alter table rls_probe_fk enable row level security;
        alter table rls_probe_fk force row level security;
        create policy tenant_isolation on rls_probe_fk to ${APP_ROLE}
          using (tenant_id = app_current_tenant()) with check (tenant_id = app_current_tenant());
      `;
      // One statement at a time: the extended protocol (PGlite, pg with parameters) takes one per message.
      for (const stmt of script
        .split(';')
        .map((s) => s.trim())
        .filter(Boolean))
        await tx.execute(sql.raw(stmt));
      return isolationViolations(tx);
    });
    const about = (table: string) => found.filter((l) => l.startsWith(`${table}:`));
    expect(about('rls_probe_plain')).toEqual(
      expect.arrayContaining([
        'rls_probe_plain: has tenant_id but row-level security is not enabled',
        'rls_probe_plain: has tenant_id but row-level security is not FORCEd',
        'rls_probe_plain: has tenant_id but no row-level security policy for massacorp_app',
      ]),
    );
    expect(about('rls_probe_unforced')).toEqual([
      'rls_probe_unforced: has tenant_id but row-level security is not FORCEd',
    ]);
    expect(about('rls_probe_open')).toEqual([
      'rls_probe_open: permissive policy everyone_reads USING (true) does not confine rows to the tenant',
    ]);
    expect(about('rls_probe_ored').join('\n')).toMatch(/permissive policy tenant_isolation USING .* OR /);
    expect(about('rls_probe_nopolicy')).toEqual([
      'rls_probe_nopolicy: has tenant_id but no row-level security policy for massacorp_app',
    ]);
    expect(about('rls_probe_forgot_tenant').join('\n')).toMatch(
      /has no tenant_id column and is not in GLOBAL_TABLES/,
    );
    expect(about('rls_probe_owned').join('\n')).toMatch(/owned by massacorp_app/);
    expect(about('rls_probe_view').join('\n')).toMatch(/a view the app role can read/);
    expect(about('feature_flags')).toEqual([
      'feature_flags: global table, but massacorp_app holds INSERT, which GLOBAL_TABLES does not allow',
    ]);
    expect(about('rls_probe_fk').join('\n')).toMatch(
      /foreign key rls_probe_fk_user_id_fkey \(user_id\) -> users \(id\) does not pair tenant_id with users.tenant_id/,
    );
    // Nothing of the probe outlived its transaction.
    const after = await database.withSystem((tx) => isolationViolations(tx));
    expect(after).toEqual([]);
  });
});
