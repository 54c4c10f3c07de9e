/**
 * Retention: archive, then prune, the head of a tenant's chain. The archive (NDJSON, hashes included, PII
 * references left unresolved so archives never hold personal data) is written and fsynced before anything is
 * deleted; the deletion goes through the SECURITY DEFINER function audit_prune(), which writes the anchor that
 * verification starts from. Only the connection (owner) role may call it: the app role cannot delete records.
 */
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { and, asc, eq, gt, lte, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { chainedBody, type RecordWireColumns } from './hash-chain.js';
import { type AuditRow, type AuditTextTimeRow, auditLog, auditTextTimeColumns } from './tables.js';
import { verifyChain } from './verify.js';

export interface PruneResult {
  tenantId: number;
  pruned: number;
  throughSeq: number | null;
  archive: string | null;
}

/** The archive / export line of one record: every column, so the file can be re-verified on its own. */
export interface RecordLine extends RecordWireColumns {
  id: number;
  tenant_id: number;
  seq: number;
  actor_type: string;
  metadata: Record<string, unknown>;
}

export function recordLine(r: AuditRow | AuditTextTimeRow): RecordLine {
  return { id: r.id, ...chainedBody(r), prev_hash: r.prevHash, hash: r.hash };
}

export async function pruneTenant(
  database: Database,
  tenantId: number,
  opts: { cutoff: Date; dir: string },
): Promise<PruneResult> {
  const none = { tenantId, pruned: 0, throughSeq: null, archive: null };
  // Never prune (and so hide) a prefix that does not verify.
  const check = await verifyChain(database, tenantId);
  if (!check.valid)
    throw new Error(
      `tenant ${tenantId}: audit chain does not verify (${check.reason} at ${check.first_invalid_id ?? 'head'}); not pruning`,
    );
  const bounds = await database.withTenant(tenantId, async (tx) => {
    const r = await tx.execute<{ through: string | null; from: string | null }>(sql`
      select (select max(seq) from audit_log where tenant_id = ${tenantId} and created_at < ${opts.cutoff.toISOString()}::timestamptz)::text as through,
             (select min(seq) from audit_log where tenant_id = ${tenantId})::text as from`);
    return r.rows[0];
  });
  if (!bounds?.through || !bounds.from) return none;
  const from = Number(bounds.from);
  const through = Number(bounds.through);

  await mkdir(opts.dir, { recursive: true, mode: 0o700 });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(opts.dir, `audit-tenant-${tenantId}-seq-${from}-${through}-${stamp}.ndjson`);
  const fh = await open(file, 'wx', 0o600);
  try {
    let last = from - 1;
    for (;;) {
      const rows = await database.withTenant(tenantId, (tx) =>
        tx
          .select(auditTextTimeColumns)
          .from(auditLog)
          .where(and(eq(auditLog.tenantId, tenantId), gt(auditLog.seq, last), lte(auditLog.seq, through)))
          .orderBy(asc(auditLog.seq))
          .limit(1000),
      );
      if (rows.length === 0) break;
      await fh.write(rows.map((r) => `${JSON.stringify(recordLine(r))}\n`).join(''));
      last = rows[rows.length - 1]!.seq;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  const pruned = await database.withSystem(async (tx) => {
    const r = await tx.execute<{ n: string }>(
      sql`select audit_prune(${tenantId}, ${through}, ${path.basename(file)})::text as n`,
    );
    return Number(r.rows[0]!.n);
  });
  return { tenantId, pruned, throughSeq: through, archive: file };
}
