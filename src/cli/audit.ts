/**
 * `massacorp audit verify [--tenant <id|slug>]` and `massacorp audit prune [--tenant] [--dir] [--days]`: the
 * auditors' and operators' side of the trail. verify exits 1 when any chain fails, so it can gate a cron job.
 * prune archives then prunes records older than each tenant's settings.audit_retention_days (or --days).
 */
import type { Command } from 'commander';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { resolveTenantHeader } from '../modules/tenants/index.js';
import { type PruneResult, pruneTenants as pruneAll } from '../platform/audit/retention.js';
import { type VerifyResult, verifyChain } from '../platform/audit/verify.js';
import { startHashWorkers } from '../platform/audit/verify-jobs.js';
import type { CliRegistration } from '../platform/module.js';

async function tenantIds(app: FastifyInstance, tenant?: string): Promise<number[]> {
  if (tenant) {
    const t = await resolveTenantHeader(app.ctx, tenant);
    if (!t) throw new Error(`unknown or suspended tenant ${tenant}`);
    return [t.id];
  }
  // Every tenant that has a chain (cross-tenant by nature: system).
  return app.ctx.database.withSystem(async (tx) => {
    const r = await tx.execute<{ tenant_id: number }>(
      sql`select tenant_id from audit_chain_heads order by tenant_id`,
    );
    return r.rows.map((x) => Number(x.tenant_id));
  });
}

export async function verifyTenants(
  app: FastifyInstance,
  tenant?: string,
  opts: { onProgress?: (tenantId: number, checked: number, total: number) => void } = {},
): Promise<(VerifyResult & { tenant_id: number })[]> {
  const out: (VerifyResult & { tenant_id: number })[] = [];
  // A full run per tenant, hashed on worker threads; a valid one sets the mark GET /audit/verify starts from.
  const worker = startHashWorkers();
  try {
    for (const id of await tenantIds(app, tenant))
      out.push({
        tenant_id: id,
        ...(await verifyChain(app.ctx.database, id, {
          pageSize: 5000,
          markFull: true,
          hasher: worker.hash,
          depth: worker.depth,
          onProgress: opts.onProgress ? (checked, total) => opts.onProgress!(id, checked, total) : undefined,
        })),
      });
  } finally {
    await worker.stop();
  }
  return out;
}

export async function pruneTenants(
  app: FastifyInstance,
  opts: {
    tenant?: string;
    dir?: string;
    days?: number;
    now?: Date;
    /** The monthly partitions dropped whole (their records all behind their tenants' anchors). */
    onDropped?: (partitions: string[]) => void;
  },
): Promise<PruneResult[]> {
  const dir = opts.dir ?? app.ctx.config.auditArchiveDir;
  const now = opts.now ?? new Date();
  let targets = await app.ctx.retention.tenantsWithRetention();
  if (opts.tenant) {
    const [id] = await tenantIds(app, opts.tenant);
    const own = targets.find((t) => t.tenantId === id);
    const days = opts.days ?? own?.days;
    if (days === undefined) throw new Error(`tenant ${opts.tenant} has no audit_retention_days; pass --days`);
    targets = [{ tenantId: id!, days }];
  } else if (opts.days !== undefined) {
    targets = targets.map((t) => ({ ...t, days: opts.days! }));
  }
  const { results, droppedPartitions } = await pruneAll(
    app.ctx.database,
    targets.map((t) => ({ tenantId: t.tenantId, cutoff: new Date(now.getTime() - t.days * 86_400_000) })),
    { dir },
  );
  opts.onDropped?.(droppedPartitions);
  return results;
}

export const registerAuditCommands: CliRegistration = (program: Command, withApp) => {
  const audit = program
    .command('audit')
    .description('audit trail: verify the hash chains, archive and prune');
  audit
    .command('verify')
    .description('recompute the hash chain of one tenant (or all); exit code 1 if any is broken')
    .option('--tenant <id-or-slug>')
    .action((o) =>
      withApp(async (app) => {
        let shown = 0;
        const results = await verifyTenants(app, o.tenant, {
          // Progress on stderr, about once a second: stdout stays one line per tenant for scripts.
          onProgress: (tenantId, checked, total) => {
            if (Date.now() - shown < 1000) return;
            shown = Date.now();
            process.stderr.write(`tenant ${tenantId}: ${checked}/${total} records checked\n`);
          },
        });
        for (const r of results) {
          console.log(
            r.valid
              ? `tenant ${r.tenant_id}: valid, ${r.checked} records${r.anchored_at_seq !== undefined ? ` (from anchor at seq ${r.anchored_at_seq})` : ''}`
              : `tenant ${r.tenant_id}: INVALID (${r.reason}) at record ${r.first_invalid_id ?? 'head'} after ${r.checked} good records`,
          );
        }
        if (results.some((r) => !r.valid)) process.exitCode = 1;
      }),
    );
  audit
    .command('prune')
    .description(
      "archive, then delete, records older than the tenant's audit_retention_days (anchored, chain stays verifiable)",
    )
    .option('--tenant <id-or-slug>')
    .option('--dir <directory>', 'archive directory (default AUDIT_ARCHIVE_DIR or DATA_DIR/audit-archive)')
    .option('--days <n>', 'override the retention in days', (v) => {
      if (!/^\d+$/.test(v)) throw new Error('--days must be a non-negative integer');
      return Number(v);
    })
    .action((o) =>
      withApp(async (app) => {
        const results = await pruneTenants(app, {
          tenant: o.tenant,
          dir: o.dir,
          days: o.days,
          onDropped: (partitions) => {
            if (partitions.length > 0) console.log(`dropped partitions: ${partitions.join(', ')}`);
          },
        });
        for (const r of results) {
          console.log(
            r.pruned
              ? `tenant ${r.tenantId}: pruned ${r.pruned} records through seq ${r.throughSeq} (${r.deleted} deleted one by one, the rest with their month), archive ${r.archive}`
              : `tenant ${r.tenantId}: nothing to prune`,
          );
        }
      }),
    );
};
