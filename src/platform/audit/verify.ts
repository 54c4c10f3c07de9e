/**
 * Chain verification for one tenant. Starts from the latest retention anchor (or the genesis hash), walks the
 * records in seq order in keyset pages (memory stays flat whatever the size), recomputes every hash and checks
 * that seq has no gap and that the last record matches the chain head. The head is read first: records
 * appended while we walk are left for the next run instead of racing with it.
 */
import { and, asc, desc, eq, gt, lte } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { one } from '../db/rows.js';
import { GENESIS_HASH, recordHash } from './hash-chain.js';
import { type AuditRow, auditAnchors, auditChainHeads, auditColumns, auditLog } from './tables.js';

export interface VerifyResult {
  valid: boolean;
  checked: number;
  first_invalid_id?: number;
  /** Why it failed: hash_mismatch, prev_hash_mismatch, seq_gap, head_mismatch. */
  reason?: string;
  /** Where verification started (the anchor of a pruned prefix), for auditors. */
  anchored_at_seq?: number;
}

const PAGE = 1000;

export async function verifyChain(
  database: Database,
  tenantId: number,
  pageSize = PAGE,
): Promise<VerifyResult> {
  const start = await database.withTenant(tenantId, async (tx) => {
    const head = await one(
      tx
        .select({ lastSeq: auditChainHeads.lastSeq, lastHash: auditChainHeads.lastHash })
        .from(auditChainHeads)
        .where(eq(auditChainHeads.tenantId, tenantId)),
    );
    const anchor = await one(
      tx
        .select({
          prunedThroughSeq: auditAnchors.prunedThroughSeq,
          lastHashPruned: auditAnchors.lastHashPruned,
        })
        .from(auditAnchors)
        .where(eq(auditAnchors.tenantId, tenantId))
        .orderBy(desc(auditAnchors.prunedThroughSeq)),
    );
    return { head, anchor };
  });
  const base = start.anchor
    ? { seq: start.anchor.prunedThroughSeq, hash: start.anchor.lastHashPruned }
    : { seq: 0, hash: GENESIS_HASH };
  const headSeq = start.head?.lastSeq ?? 0;
  let prev = base.hash;
  let expected = base.seq + 1;
  let checked = 0;
  const anchored = start.anchor ? { anchored_at_seq: base.seq } : {};
  const fail = (row: AuditRow | null, reason: string): VerifyResult => ({
    valid: false,
    checked,
    ...(row ? { first_invalid_id: row.id } : {}),
    reason,
    ...anchored,
  });

  while (expected <= headSeq) {
    const rows = await database.withTenant(tenantId, (tx) =>
      tx
        .select(auditColumns)
        .from(auditLog)
        .where(
          and(eq(auditLog.tenantId, tenantId), gt(auditLog.seq, expected - 1), lte(auditLog.seq, headSeq)),
        )
        .orderBy(asc(auditLog.seq))
        .limit(pageSize),
    );
    if (rows.length === 0) break;
    for (const row of rows) {
      if (row.seq !== expected) return fail(row, 'seq_gap');
      if (row.prevHash !== prev) return fail(row, 'prev_hash_mismatch');
      if (recordHash(prev, row) !== row.hash) return fail(row, 'hash_mismatch');
      prev = row.hash;
      expected += 1;
      checked += 1;
    }
  }
  // The tail: records deleted after the last one we saw leave the head pointing at a hash nobody carries.
  if (start.head && (expected - 1 !== headSeq || prev !== start.head.lastHash))
    return fail(null, 'head_mismatch');
  return { valid: true, checked, ...anchored };
}
