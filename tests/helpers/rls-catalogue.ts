/**
 * What the migrated database's catalogue says about tenant isolation, and the rules it must satisfy. Read by
 * tests/fast/rls.catalogue.test.ts (the rules) and tests/integration/tenant-isolation.contract.test.ts
 * (the list of tenant tables), so a table added by any migration is checked and exercised without anyone
 * editing a list. The rules run on an executor, so a test can also run them on a transaction that created a
 * bad table on purpose (and roll it back), proving they fail.
 */
import { sql } from 'drizzle-orm';
import type { Executor } from '../../src/platform/db/client.js';
import { APP_ROLE } from '../../src/platform/db/client.js';

/** Tables keyed to a tenant by a column other than tenant_id: the tenant row itself (policy on `id`). */
export const TENANT_KEY_COLUMN: Readonly<Record<string, string>> = {
  tenants: 'id',
};

type Privilege = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE' | 'TRUNCATE' | 'REFERENCES' | 'TRIGGER';
const PRIVILEGES: Privilege[] = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'];

/**
 * Every table WITHOUT a tenant column, and exactly what the app role may do with it. A table missing here fails
 * the catalogue test: either it holds tenant data (give it tenant_id, forced RLS and the policy) or it is global
 * by nature (add it here, saying why). A privilege of the app role not listed here fails too, so a global table
 * cannot quietly become writable from a tenant transaction.
 */
export const GLOBAL_TABLES: Readonly<Record<string, { app: Privilege[]; why: string }>> = {
  // The migrator's own bookkeeping (src/platform/db/migrator.ts), written by the connection role only.
  massacorp_migrations: { app: [], why: 'migration bookkeeping' },
  // The feature flag catalogue: platform operators write it (withSystem); every tenant reads the same rows.
  feature_flags: { app: ['SELECT'], why: 'global flag catalogue, read by every tenant' },
  // JWT signing keys of the whole deployment (0011): system transactions only.
  jwt_signing_keys: { app: [], why: 'deployment-wide signing keys' },
  // The SAML service provider key shared by every connection (0014): system transactions only.
  saml_sp_keys: { app: [], why: 'deployment-wide SAML SP key' },
  // The WireGuard gateway identity per interface (0005): the agent and the CLI, through withSystem.
  wg_server: { app: [], why: 'gateway identity, infrastructure' },
  // Peers the agent itself put on an interface (0005): the agent only.
  wg_agent_peers: { app: [], why: 'agent bookkeeping of the live interface' },
};

export interface RelationFacts {
  schema: string;
  name: string;
  kind: string;
  /** A partition of a partitioned table (reached through its parent). */
  partition: boolean;
  rowSecurity: boolean;
  forceRowSecurity: boolean;
  ownedByApp: boolean;
  appMemberOfOwner: boolean;
  securityInvoker: boolean;
  columns: string[];
  privileges: Privilege[];
}

export interface PolicyFacts {
  table: string;
  name: string;
  permissive: boolean;
  /** r, a, w, d or * (all). */
  command: string;
  /** Applies to the app role (named, or PUBLIC). */
  appliesToApp: boolean;
  using: string | null;
  check: string | null;
}

/** Schemas the application creates objects in (every one that is not PostgreSQL's own). */
const APP_SCHEMAS = sql`n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'`;

export async function readRelations(tx: Executor): Promise<RelationFacts[]> {
  const r = await tx.execute<{
    schema: string;
    name: string;
    kind: string;
    partition: boolean;
    rls: boolean;
    force: boolean;
    owned_by_app: boolean;
    app_member_of_owner: boolean;
    security_invoker: boolean;
    columns: string[] | string;
    privileges: string[] | string;
  }>(sql`
    select n.nspname as schema, c.relname as name, c.relkind::text as kind, c.relispartition as partition,
           c.relrowsecurity as rls, c.relforcerowsecurity as force,
           pg_get_userbyid(c.relowner) = ${APP_ROLE} as owned_by_app,
           pg_has_role(${APP_ROLE}, c.relowner, 'MEMBER') as app_member_of_owner,
           coalesce('security_invoker=true' = any(c.reloptions) or 'security_invoker=on' = any(c.reloptions), false)
             as security_invoker,
           array(select a.attname::text from pg_attribute a
                  where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped order by a.attnum) as columns,
           array(select p from unnest(array[${sql.raw(PRIVILEGES.map((p) => `'${p}'`).join(', '))}]) p
                  where has_table_privilege(${APP_ROLE}, c.oid, p)) as privileges
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where ${APP_SCHEMAS} and c.relkind in ('r', 'p', 'v', 'm', 'f')
     order by n.nspname, c.relname`);
  return r.rows.map((x) => ({
    schema: x.schema,
    name: x.name,
    kind: x.kind,
    partition: x.partition,
    rowSecurity: x.rls,
    forceRowSecurity: x.force,
    ownedByApp: x.owned_by_app,
    appMemberOfOwner: x.app_member_of_owner,
    securityInvoker: x.security_invoker,
    columns: pgArray(x.columns),
    privileges: pgArray(x.privileges) as Privilege[],
  }));
}

export async function readPolicies(tx: Executor): Promise<PolicyFacts[]> {
  const r = await tx.execute<{
    table: string;
    name: string;
    permissive: boolean;
    command: string;
    applies_to_app: boolean;
    using: string | null;
    check: string | null;
  }>(sql`
    select c.relname as table, p.polname as name, p.polpermissive as permissive, p.polcmd::text as command,
           (0::oid = any(p.polroles) or (select oid from pg_roles where rolname = ${APP_ROLE}) = any(p.polroles))
             as applies_to_app,
           pg_get_expr(p.polqual, p.polrelid) as using, pg_get_expr(p.polwithcheck, p.polrelid) as check
      from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace
     where ${APP_SCHEMAS}
     order by c.relname, p.polname`);
  return r.rows.map((x) => ({
    table: x.table,
    name: x.name,
    permissive: x.permissive,
    command: x.command,
    appliesToApp: x.applies_to_app,
    using: x.using,
    check: x.check,
  }));
}

export async function readAppRole(
  tx: Executor,
): Promise<{ exists: boolean; superuser: boolean; bypassRls: boolean; privilegedMemberOf: string[] }> {
  const r = await tx.execute<{ superuser: boolean; bypass: boolean; member_of: string[] | string }>(sql`
    select r.rolsuper as superuser, r.rolbypassrls as bypass,
           array(select o.rolname::text from pg_roles o
                  where o.oid <> r.oid and (o.rolsuper or o.rolbypassrls) and pg_has_role(r.oid, o.oid, 'MEMBER'))
             as member_of
      from pg_roles r where r.rolname = ${APP_ROLE}`);
  const row = r.rows[0];
  if (!row) return { exists: false, superuser: false, bypassRls: false, privilegedMemberOf: [] };
  return {
    exists: true,
    superuser: row.superuser,
    bypassRls: row.bypass,
    privilegedMemberOf: pgArray(row.member_of),
  };
}

export interface ForeignKeyFacts {
  name: string;
  table: string;
  columns: string[];
  references: string;
  referencedColumns: string[];
}

export async function readForeignKeys(tx: Executor): Promise<ForeignKeyFacts[]> {
  const r = await tx.execute<{
    name: string;
    table: string;
    columns: string[] | string;
    references: string;
    referenced_columns: string[] | string;
  }>(sql`
    select c.conname as name, s.relname as table, d.relname as references,
           array(select a.attname::text from unnest(c.conkey) with ordinality k(n, i)
                   join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n order by k.i) as columns,
           array(select a.attname::text from unnest(c.confkey) with ordinality k(n, i)
                   join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n order by k.i) as referenced_columns
      from pg_constraint c
      join pg_class s on s.oid = c.conrelid join pg_namespace n on n.oid = s.relnamespace
      join pg_class d on d.oid = c.confrelid
     where c.contype = 'f' and ${APP_SCHEMAS}
     order by s.relname, c.conname`);
  return r.rows.map((x) => ({
    name: x.name,
    table: x.table,
    columns: pgArray(x.columns),
    references: x.references,
    referencedColumns: pgArray(x.referenced_columns),
  }));
}

/** PGlite returns text[] as arrays; some pg setups return the literal `{a,b}`. */
function pgArray(v: string[] | string | null): string[] {
  if (Array.isArray(v)) return v;
  if (!v || v === '{}') return [];
  return v
    .slice(1, -1)
    .split(',')
    .map((s) => s.replace(/^"|"$/g, ''));
}

/** The column that ties a table's rows to a tenant, or null for a global table. */
export function tenantColumnOf(rel: Pick<RelationFacts, 'name' | 'columns'>): string | null {
  if (TENANT_KEY_COLUMN[rel.name]) return TENANT_KEY_COLUMN[rel.name]!;
  return rel.columns.includes('tenant_id') ? 'tenant_id' : null;
}

/**
 * True when a policy expression confines rows to the transaction's tenant: `<column> = app_current_tenant()`
 * (or the setting read directly), and no OR anywhere, since an OR can let rows of other tenants through. This
 * reads the deparsed expression (pg_get_expr), which PostgreSQL normalises: `(tenant_id = app_current_tenant())`.
 */
export function confinesToTenant(expr: string | null, column: string): boolean {
  if (!expr) return false;
  if (/\bOR\b/i.test(expr)) return false;
  const setting = String.raw`(app_current_tenant\(\)|\(?current_setting\('app\.tenant_id'(::text)?(, true)?\)\)?(::integer)?)`;
  const col = String.raw`(\w+\.)?${column}`;
  return new RegExp(String.raw`\(${col} = ${setting}\)|\(${setting} = ${col}\)`).test(expr);
}

const COMMANDS: Record<string, string> = { r: 'SELECT', a: 'INSERT', w: 'UPDATE', d: 'DELETE' };

/**
 * Every way the catalogue falls short of "a tenant transaction sees and writes its own tenant only", one line
 * per finding, each naming the table. Empty when isolation holds.
 */
export async function isolationViolations(tx: Executor): Promise<string[]> {
  const [relations, policies, role] = [
    await readRelations(tx),
    await readPolicies(tx),
    await readAppRole(tx),
  ];
  const out: string[] = [];
  if (!role.exists) return [`role ${APP_ROLE} does not exist`];
  if (role.superuser) out.push(`role ${APP_ROLE} is a superuser (bypasses row-level security)`);
  if (role.bypassRls) out.push(`role ${APP_ROLE} has BYPASSRLS`);
  for (const r of role.privilegedMemberOf)
    out.push(`role ${APP_ROLE} is a member of ${r}, which bypasses row-level security`);

  for (const rel of relations) {
    const t = rel.schema === 'public' ? rel.name : `${rel.schema}.${rel.name}`;
    if (rel.ownedByApp) out.push(`${t}: owned by ${APP_ROLE} (an owner can disable its row-level security)`);
    else if (rel.appMemberOfOwner) out.push(`${t}: ${APP_ROLE} is a member of its owner role`);
    if (rel.kind === 'v' || rel.kind === 'm' || rel.kind === 'f') {
      // A view runs with its owner's rights, so it would read past RLS unless it is security_invoker.
      if (rel.privileges.length > 0 && !(rel.kind === 'v' && rel.securityInvoker))
        out.push(`${t}: a ${rel.kind === 'v' ? 'view' : 'materialized/foreign table'} the app role can read`);
      continue;
    }
    const column = tenantColumnOf(rel);
    // A partition (audit_log's months) is reached through its parent, whose RLS applies; the app must hold nothing on
    // it directly. It still forces RLS with the parent's policy (below), in case a grant ever lands on it.
    if (rel.partition && rel.privileges.length > 0)
      out.push(
        `${t}: a partition, but ${APP_ROLE} holds ${rel.privileges.join(', ')} on it (grant on the parent only)`,
      );
    if (column === null) {
      const listed = GLOBAL_TABLES[rel.name];
      if (!listed) {
        out.push(
          `${t}: has no tenant_id column and is not in GLOBAL_TABLES (tests/helpers/rls-catalogue.ts): ` +
            'tenant data needs tenant_id + forced RLS + a tenant policy; a global table must be listed there',
        );
        continue;
      }
      const extra = rel.privileges.filter((p) => !listed.app.includes(p));
      if (extra.length)
        out.push(
          `${t}: global table, but ${APP_ROLE} holds ${extra.join(', ')}, which GLOBAL_TABLES does not allow`,
        );
      continue;
    }
    if (!rel.rowSecurity) out.push(`${t}: has ${column} but row-level security is not enabled`);
    if (!rel.forceRowSecurity) out.push(`${t}: has ${column} but row-level security is not FORCEd`);
    const mine = policies.filter((p) => p.table === rel.name && p.appliesToApp);
    for (const p of mine.filter((x) => x.permissive)) {
      // Permissive policies are OR'ed together: one that does not confine to the tenant opens the table.
      if (p.using !== null && !confinesToTenant(p.using, column))
        out.push(`${t}: permissive policy ${p.name} USING (${p.using}) does not confine rows to the tenant`);
      if (p.check !== null && !confinesToTenant(p.check, column))
        out.push(
          `${t}: permissive policy ${p.name} WITH CHECK (${p.check}) does not confine rows to the tenant`,
        );
    }
    for (const [cmd, name] of Object.entries(COMMANDS)) {
      const covering = mine.filter(
        (p) =>
          p.permissive &&
          (p.command === '*' || p.command === cmd) &&
          confinesToTenant(cmd === 'a' ? (p.check ?? p.using) : p.using, column),
      );
      if (covering.length === 0 && (rel.privileges as string[]).includes(name))
        out.push(`${t}: ${APP_ROLE} may ${name} but no policy confines ${name} to ${column} = the tenant`);
    }
    if (mine.length === 0) out.push(`${t}: has ${column} but no row-level security policy for ${APP_ROLE}`);
  }
  // Referential checks run as the owner, past RLS: a key naming another tenant table's id alone would let a row
  // point into another tenant (and a cascade cross tenants). The key must pair the tenant columns as well.
  const columnOf = new Map(relations.map((r) => [r.name, tenantColumnOf(r)]));
  for (const fk of await readForeignKeys(tx)) {
    const from = columnOf.get(fk.table);
    const to = columnOf.get(fk.references);
    if (!from || !to || TENANT_KEY_COLUMN[fk.references]) continue;
    const paired = fk.columns.some((c, i) => c === from && fk.referencedColumns[i] === to);
    if (!paired)
      out.push(
        `${fk.table}: foreign key ${fk.name} (${fk.columns.join(', ')}) -> ${fk.references} (${fk.referencedColumns.join(', ')}) ` +
          `does not pair ${from} with ${fk.references}.${to}: a row could point into another tenant ` +
          `(reference ${fk.references} (${to}, ...) as drizzle/0019 does)`,
      );
  }
  for (const name of Object.keys(GLOBAL_TABLES))
    if (!relations.some((r) => r.name === name))
      out.push(`${name}: listed in GLOBAL_TABLES but no such table (remove the entry)`);
  return out;
}

/** Tables whose rows belong to one tenant, with their tenant column (the contract test exercises each). */
export async function tenantTables(tx: Executor): Promise<{ name: string; column: string }[]> {
  return (
    (await readRelations(tx))
      // Partitions are exercised through their parent (the only way the app reaches them).
      .filter((r) => (r.kind === 'r' || r.kind === 'p') && !r.partition)
      .map((r) => ({ name: r.name, column: tenantColumnOf(r) }))
      .filter((r): r is { name: string; column: string } => r.column !== null)
  );
}
