/**
 * `massacorp keys audit`: tenant-owned API keys whose role exceeds what their creator could grant (issue 18).
 * `massacorp keys rotate-encryption`: re-seals every secret at rest under the current ENCRYPTION_KEY_ID.
 * Run it after deploying a new key with the old one kept in ENCRYPTION_KEYS_PREVIOUS; once it reports nothing
 * left to rotate, the old key can be dropped. Modules with sealed columns add a line to `sealedColumns`.
 */
import { sql } from 'drizzle-orm';
import { auditTenantKeyGrants } from '../modules/api-keys/index.js';
import { totpAad } from '../modules/mfa/index.js';
import { oidcSecretAad, samlSpKeyAad } from '../modules/sso/index.js';
import type { AppContext } from '../platform/context.js';
import type { CliRegistration } from '../platform/module.js';

export interface SealedColumn {
  table: string;
  /** Primary key columns: each row is re-sealed with an update on its key. */
  key: string[];
  column: string;
  /** Tables with tenant_id can be rotated one tenant at a time (tests, staged rollouts). */
  tenantScoped: boolean;
  /** The additional authenticated data the owning module seals with (must match it exactly). */
  aad: (row: Record<string, unknown>) => string | undefined;
}

export const sealedColumns: SealedColumn[] = [
  {
    table: 'mfa_totp',
    key: ['tenant_id', 'user_id'],
    column: 'secret_encrypted',
    tenantScoped: true,
    aad: (r) => totpAad(Number(r.tenant_id), Number(r.user_id)),
  },
  {
    table: 'wg_server',
    key: ['interface'],
    column: 'private_key_sealed',
    tenantScoped: false,
    aad: (r) => `wireguard:server:${String(r.interface)}`,
  },
  {
    table: 'wg_peers',
    key: ['id'],
    column: 'preshared_key_sealed',
    tenantScoped: true,
    aad: (r) => `wireguard:psk:${String(r.id)}`,
  },
  {
    table: 'jwt_signing_keys',
    key: ['kid'],
    column: 'secret_sealed',
    tenantScoped: false,
    aad: (r) => `jwt:key:${String(r.kid)}`,
  },
  {
    table: 'saml_sp_keys',
    key: ['id'],
    column: 'private_key_sealed',
    tenantScoped: false,
    aad: (r) => samlSpKeyAad(String(r.id)),
  },
  {
    table: 'sso_connections',
    key: ['id'],
    column: 'oidc_client_secret_sealed',
    tenantScoped: true,
    aad: (r) => oidcSecretAad(String(r.id)),
  },
];

export interface RotationReport {
  table: string;
  column: string;
  pending: number;
  rotated: number;
  failed: number;
  skipped?: 'table absent' | 'not tenant-scoped';
}

const BATCH = 200;

/**
 * Cross-tenant by nature, so it runs in system transactions (RLS bypassed), in batches; each update only applies
 * if the row still holds the value that was read, so a concurrent change is never overwritten.
 */
export async function rotateEncryption(
  ctx: Pick<AppContext, 'database' | 'secretBox'>,
  opts: { dryRun?: boolean; tenantId?: number; columns?: SealedColumn[] } = {},
): Promise<RotationReport[]> {
  const box = ctx.secretBox;
  const reports: RotationReport[] = [];
  for (const entry of opts.columns ?? sealedColumns) {
    const report: RotationReport = {
      table: entry.table,
      column: entry.column,
      pending: 0,
      rotated: 0,
      failed: 0,
    };
    reports.push(report);
    const exists = await ctx.database.withSystem(
      async (tx) =>
        (await tx.execute<{ t: string | null }>(sql`select to_regclass(${entry.table})::text as t`)).rows[0]
          ?.t,
    );
    if (!exists) {
      report.skipped = 'table absent';
      continue;
    }
    if (opts.tenantId !== undefined && !entry.tenantScoped) {
      report.skipped = 'not tenant-scoped';
      continue;
    }
    const col = sql.identifier(entry.column);
    const table = sql.identifier(entry.table);
    const keyCols = sql.join(
      entry.key.map((k) => sql.identifier(k)),
      sql`, `,
    );
    const tenantFilter = opts.tenantId !== undefined ? sql` and tenant_id = ${opts.tenantId}` : sql``;
    const rows = await ctx.database.withSystem(
      async (tx) =>
        (
          await tx.execute<Record<string, unknown>>(sql`
        select ${keyCols}, ${col} as sealed from ${table}
         where ${col} is not null and split_part(${col}, ':', 3) <> ${box.currentKeyId}${tenantFilter}`)
        ).rows,
    );
    report.pending = rows.length;
    if (opts.dryRun) continue;
    for (let i = 0; i < rows.length; i += BATCH) {
      await ctx.database.withSystem(async (tx) => {
        for (const row of rows.slice(i, i + BATCH)) {
          const old = String(row.sealed);
          let resealed: string;
          try {
            const aad = entry.aad(row);
            resealed = box.encrypt(box.decrypt(old, aad), aad);
          } catch {
            report.failed += 1; // unknown key id or a damaged value: reported, never overwritten
            continue;
          }
          const match = sql.join(
            entry.key.map((k) => sql`${sql.identifier(k)} = ${row[k]}`),
            sql` and `,
          );
          const r = await tx.execute(
            sql`update ${table} set ${col} = ${resealed} where ${match} and ${col} = ${old}`,
          );
          if ((r.rowCount ?? (r as { affectedRows?: number }).affectedRows ?? 0) > 0) report.rotated += 1;
        }
      });
    }
  }
  return reports;
}

export const registerKeys: CliRegistration = (program, withApp) => {
  const keys = program.command('keys').description('encryption keys of secrets at rest, JWT signing keys');
  keys
    .command('rotate-jwt')
    .description(
      "new JWT signing keys: JWT_ALGORITHM's and the OpenID Provider's (RS256, ES256, EdDSA), or only --alg; " +
        'each previous key verifies until its tokens expire',
    )
    .option('--alg <alg>', 'only this algorithm: JWT_ALGORITHM, RS256, ES256 or EdDSA')
    .action((o: { alg?: string }) =>
      withApp(async (app) => {
        const jwt = app.ctx.jwt;
        const all = jwt.rotationAlgorithms();
        const algs = o.alg === undefined ? all : all.filter((a) => a.toLowerCase() === o.alg!.toLowerCase());
        if (algs.length === 0) throw new Error(`--alg must be one of ${all.join(', ')}`);
        for (const alg of algs) {
          const r = await jwt.rotate(alg);
          console.log(
            `${r.alg}: signing with key ${r.kid}; previous key ${r.previousKid} verifies until ${r.previousVerifiesUntil}`,
          );
        }
      }),
    );
  keys
    .command('audit')
    .description(
      'read-only: list tenant-owned API keys whose role gives more than their creator could grant; exit code 1 if any',
    )
    .option('--tenant <id>', 'only this tenant')
    .option('--json', 'one JSON object per line instead of text', false)
    .action((o) =>
      withApp(async (app) => {
        const tenantId = o.tenant !== undefined ? Number(o.tenant) : undefined;
        if (tenantId !== undefined && (!Number.isSafeInteger(tenantId) || tenantId <= 0))
          throw new Error('--tenant must be a tenant id');
        const findings = await auditTenantKeyGrants(app.ctx, { tenantId });
        for (const f of findings) {
          if (o.json) console.log(JSON.stringify(f));
          else
            console.log(
              `tenant ${f.tenant_id} key ${f.key_id} "${f.name}" role ${f.role_code ?? f.role_id}: ${f.reason}` +
                ` (creator ${f.created_by_user_id ?? 'none'}); in excess: ${f.excess.join(', ')}`,
            );
        }
        if (findings.length > 0) {
          // Non-zero so a CI job or cron notices; the keys keep working until an operator revokes them.
          process.exitCode = 1;
          console.error(
            `${findings.length} tenant-owned key(s) exceed what their creator could grant: revoke them ` +
              '(DELETE /api/v1/api-keys/{id}) and have someone who holds the role create a new one',
          );
        } else if (!o.json) console.log('no tenant-owned API key exceeds what its creator could grant');
      }),
    );
  keys
    .command('rotate-encryption')
    .description(
      're-encrypt every sealed secret under the current ENCRYPTION_KEY_ID (old keys from ENCRYPTION_KEYS_PREVIOUS)',
    )
    .option('--dry-run', 'only count what would be re-encrypted', false)
    .option('--tenant <id>', 'only this tenant (tenant-scoped tables)')
    .action((o) =>
      withApp(async (app) => {
        const tenantId = o.tenant !== undefined ? Number(o.tenant) : undefined;
        if (tenantId !== undefined && (!Number.isSafeInteger(tenantId) || tenantId <= 0))
          throw new Error('--tenant must be a tenant id');
        const reports = await rotateEncryption(app.ctx, { dryRun: Boolean(o.dryRun), tenantId });
        for (const r of reports) {
          const what = r.skipped
            ? `skipped (${r.skipped})`
            : `${r.pending} pending, ${o.dryRun ? 'dry run' : `${r.rotated} re-encrypted`}, ${r.failed} failed`;
          console.log(`${r.table}.${r.column}: ${what} [key ${app.ctx.secretBox.currentKeyId}]`);
        }
        if (reports.some((r) => r.failed > 0)) {
          process.exitCode = 1;
          console.error('some values could not be decrypted: is their key in ENCRYPTION_KEYS_PREVIOUS?');
        }
      }),
    );
};
