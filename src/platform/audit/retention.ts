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
  /** Records now behind the tenant's anchor (archived first): removed by a dropped partition or a delete. */
  pruned: number;
  /** Of those, how many were deleted one by one (their month is kept for another tenant, or in the default). */
  deleted: number;
  throughSeq: number | null;
  archive: string | null;
}

/** A tenant's prefix, archived and anchored, not yet removed (see pruneTenants). */
interface Anchored {
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

/**
 * Retention for several tenants at once (each with its own cutoff), in three steps: each tenant's expired prefix
 * is archived and anchored (nothing deleted yet); then every monthly partition of audit_log whose records all lie
 * behind their tenants' anchors is dropped whole; what is left behind an anchor (a month another tenant keeps, or
 * the default partition) is deleted. With one retention for every tenant, whole months go and nothing is deleted.
 */
export async function pruneTenants(
  database: Database,
  targets: { tenantId: number; cutoff: Date }[],
  opts: { dir: string },
): Promise<{ results: PruneResult[]; droppedPartitions: string[] }> {
  const anchored: Anchored[] = [];
  for (const t of targets)
    anchored.push(await archiveAndAnchor(database, t.tenantId, { cutoff: t.cutoff, dir: opts.dir }));
  if (!anchored.some((a) => a.pruned > 0)) {
    return { results: anchored.map((a) => ({ ...a, deleted: 0 })), droppedPartitions: [] };
  }
  const droppedPartitions = await database.withSystem(async (tx) => {
    // Only months wholly before the latest cutoff; the anchors decide for every tenant with records in them.
    const before = new Date(Math.max(...targets.map((t) => t.cutoff.getTime())));
    const r = await tx.execute<{ dropped: string[] | string }>(
      sql`select audit_drop_pruned_partitions(${before.toISOString()}::timestamptz) as dropped`,
    );
    const raw = r.rows[0]?.dropped ?? [];
    return Array.isArray(raw)
      ? raw
      : raw
          .replace(/^\{|\}$/g, '')
          .split(',')
          .filter(Boolean);
  });
  const results: PruneResult[] = [];
  for (const a of anchored) {
    const deleted =
      a.pruned === 0
        ? 0
        : await database.withSystem(async (tx) => {
            const r = await tx.execute<{ n: string }>(
              sql`select audit_delete_pruned(${a.tenantId})::text as n`,
            );
            return Number(r.rows[0]!.n);
          });
    results.push({ ...a, deleted });
  }
  return { results, droppedPartitions };
}

/** One tenant's retention (pruneTenants for that tenant alone). */
export async function pruneTenant(
  database: Database,
  tenantId: number,
  opts: { cutoff: Date; dir: string },
): Promise<PruneResult> {
  const { results } = await pruneTenants(database, [{ tenantId, cutoff: opts.cutoff }], { dir: opts.dir });
  return results[0]!;
}

/** Archives (written and fsynced) then anchors the tenant's records older than the cutoff; deletes nothing. */
async function archiveAndAnchor(
  database: Database,
  tenantId: number,
  opts: { cutoff: Date; dir: string },
): Promise<Anchored> {
  const none = { tenantId, pruned: 0, throughSeq: null, archive: null };
  // Never prune (and so hide) a prefix that does not verify.
  const check = await verifyChain(database, tenantId);
  if (!check.valid)
    throw new Error(
      `tenant ${tenantId}: audit chain does not verify (${check.reason} at ${check.first_invalid_id ?? 'head'}); not pruning`,
    );
  const bounds = await database.withTenant(tenantId, async (tx) => {
    // From the anchor on: records behind it may still be there until the end of this job (see pruneTenants).
    const r = await tx.execute<{ through: string | null; from: string | null }>(sql`
      with anchor as (select coalesce(max(pruned_through_seq), 0) as seq from audit_anchors where tenant_id = ${tenantId})
      select (select max(seq) from audit_log where tenant_id = ${tenantId} and seq > (select seq from anchor)
                and created_at < ${opts.cutoff.toISOString()}::timestamptz)::text as through,
             (select min(seq) from audit_log where tenant_id = ${tenantId} and seq > (select seq from anchor))::text as from`);
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
  const anchoredNow = await database.withSystem(async (tx) => {
    const r = await tx.execute<{ ok: boolean }>(
      sql`select audit_anchor(${tenantId}, ${through}, ${path.basename(file)}) as ok`,
    );
    return r.rows[0]!.ok === true;
  });
  return anchoredNow ? { tenantId, pruned: through - from + 1, throughSeq: through, archive: file } : none;
}

/**
 * The monthly partitions of audit_log from this month through the third next (drizzle/0034): run at start and
 * once a day, so a record never waits for its month (and the default partition only catches a clock far off).
 */
export async function ensureAuditPartitions(database: Database, now: Date): Promise<number> {
  return database.withSystem(async (tx) => {
    const r = await tx.execute<{ n: number }>(
      sql`select audit_log_ensure_partitions(${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz + interval '3 months') as n`,
    );
    return Number(r.rows[0]?.n ?? 0);
  });
}
