/**
 * Chain verification for one tenant. Starts from the latest retention anchor (or the genesis hash), walks the
 * records in seq order in keyset pages (memory stays flat whatever the size), recomputes every hash and checks
 * that seq has no gap and that the last record matches the chain head. The head is read first: records
 * appended while we walk are left for the next run instead of racing with it.
 *
 * Two more starting points (issue 25):
 * - `incremental`: from the tenant's verification mark (audit_verifications) when a full run set one: the
 *   marked record must still carry the marked hash, then only the records appended since are re-hashed, and the
 *   mark moves to the head. GET /audit/verify.
 * - a full run (`markFull`) re-hashes from the anchor and, when valid, sets the mark. The background job
 *   (verify-jobs.ts) runs it with the hashing on a worker thread.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { GENESIS_HASH } from './hash-chain.js';
import { type HashPage, hashPage, type PageResult } from './verify-page.js';

export interface VerifyResult {
  valid: boolean;
  checked: number;
  first_invalid_id?: number;
  /** Why it failed: hash_mismatch, prev_hash_mismatch, seq_gap, head_mismatch, mark_mismatch. */
  reason?: string;
  /** Where verification started (the anchor of a pruned prefix), for auditors. */
  anchored_at_seq?: number;
  /** An incremental run: the seq of the verification mark it started after (records up to it were not re-read). */
  verified_from_seq?: number;
}

export interface VerifyOptions {
  pageSize?: number;
  /** Start from the verification mark when there is one (and move it on success). */
  incremental?: boolean;
  /** A full run: on success, set the verification mark at the head it checked. */
  markFull?: boolean;
  /** Where pages are hashed (default: inline). */
  hasher?: (page: HashPage) => Promise<PageResult>;
  /** Pages read ahead and hashed at once (default 2: the next page is read while one is hashed). */
  depth?: number;
  /** Called after each page with the records checked so far and the number to check in all. */
  onProgress?: (checked: number, total: number) => void;
}

const PAGE = 1000;

/**
 * A page of the chain, aggregated by PostgreSQL into one JSON text (verify-page.ts, PageRecord's order), with its
 * size and last seq so the reading side can ask for the next page without parsing it.
 */
function chainPage(tenantId: number, after: number, through: number, limit: number) {
  return sql`select coalesce(json_agg(json_build_array(p.id, p.seq, p.event_type, p.actor_type, p.actor_id,
        p.resource_type, p.resource_id, p.success, p.ip_address, p.user_agent, p.request_id, p.session_id,
        p.metadata, to_char(p.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), p.prev_hash,
        p.hash) order by p.seq), '[]')::text as page,
      count(*)::int as n, max(p.seq)::text as last_seq
    from (select * from audit_log where tenant_id = ${tenantId} and seq > ${after} and seq <= ${through}
      order by audit_log.seq limit ${limit}) p`;
}

export async function verifyChain(
  database: Database,
  tenantId: number,
  opts: VerifyOptions = {},
): Promise<VerifyResult> {
  const pageSize = opts.pageSize ?? PAGE;
  const hasher = opts.hasher ?? (async (p: HashPage) => hashPage(p));
  const start = await database.withTenant(tenantId, async (tx) => {
    const r = await tx.execute<{
      last_seq: string | null;
      last_hash: string | null;
      pruned_seq: string | null;
      pruned_hash: string | null;
      mark_seq: string | null;
      mark_hash: string | null;
      marked_record_hash: string | null;
      marked_record_prev: string | null;
      marked_record_id: string | null;
    }>(sql`select h.last_seq::text as last_seq, h.last_hash,
        a.pruned_through_seq::text as pruned_seq, a.last_hash_pruned as pruned_hash,
        v.through_seq::text as mark_seq, v.through_hash as mark_hash,
        (select l.hash from audit_log l where l.tenant_id = ${tenantId} and l.seq = v.through_seq) as marked_record_hash,
        (select l.prev_hash from audit_log l where l.tenant_id = ${tenantId} and l.seq = v.through_seq) as marked_record_prev,
        (select l.id::text from audit_log l where l.tenant_id = ${tenantId} and l.seq = v.through_seq) as marked_record_id
      from (select 1) one
      left join audit_chain_heads h on h.tenant_id = ${tenantId}
      left join lateral (select pruned_through_seq, last_hash_pruned from audit_anchors
        where tenant_id = ${tenantId} order by pruned_through_seq desc limit 1) a on true
      left join audit_verifications v on v.tenant_id = ${tenantId}`);
    return r.rows[0]!;
  });
  const anchored = start.pruned_seq !== null;
  let base = anchored
    ? { seq: Number(start.pruned_seq), hash: start.pruned_hash! }
    : { seq: 0, hash: GENESIS_HASH };
  const headSeq = Number(start.last_seq ?? 0);
  let checked = 0;
  const extra: Partial<VerifyResult> = anchored ? { anchored_at_seq: base.seq } : {};
  const fail = (id: number | null, reason: string): VerifyResult => ({
    valid: false,
    checked,
    ...(id !== null ? { first_invalid_id: id } : {}),
    reason,
    ...extra,
  });

  if (opts.incremental && start.mark_seq !== null) {
    const markSeq = Number(start.mark_seq);
    // A mark inside the pruned prefix says nothing more than the anchor; one beyond the head cannot be right.
    if (markSeq > base.seq && markSeq <= headSeq) {
      extra.verified_from_seq = markSeq;
      if (start.marked_record_hash !== start.mark_hash)
        return fail(start.marked_record_id === null ? null : Number(start.marked_record_id), 'mark_mismatch');
      // The marked record itself is re-hashed from the prev_hash it carries: its hash was the one the full run
      // reached, so a change to its content or its link shows here, and every record after it chains from it.
      base = { seq: markSeq - 1, hash: start.marked_record_prev! };
    }
  }

  let prev = base.hash;
  let expected = base.seq + 1;
  const total = Math.max(0, headSeq - base.seq);
  const read = (after: number) =>
    database.withTenant(tenantId, async (tx) => {
      const r = await tx.execute<{ page: string; n: number; last_seq: string | null }>(
        chainPage(tenantId, after, headSeq, pageSize),
      );
      const row = r.rows[0]!;
      return { json: row.page, n: Number(row.n), lastSeq: Number(row.last_seq ?? after) };
    });
  // Pages are read one after another (keyset on seq) and hashed as they arrive, up to `depth` at a time (on as
  // many workers as the hasher has); their results are checked in chain order, each page's first record
  // against the end of the page before. Memory: at most `depth` pages.
  const depth = Math.max(1, opts.depth ?? 2);
  const hashing: Promise<PageResult>[] = [];
  const settle = async (): Promise<VerifyResult | null> => {
    const r = await hashing.shift()!;
    if (r.first) {
      if (r.first.seq !== expected) return fail(r.first.id, 'seq_gap');
      if (r.first.prev !== prev) return fail(r.first.id, 'prev_hash_mismatch');
    }
    checked += r.checked;
    if (!r.ok) return fail(r.id, r.reason);
    prev = r.prev;
    expected = r.expected;
    opts.onProgress?.(checked, total);
    return null;
  };
  try {
    let after = expected - 1;
    while (after < headSeq) {
      const page = await read(after);
      if (page.n === 0) break;
      hashing.push(hasher({ tenantId, json: page.json }));
      // Nothing is lost if a promise waits unobserved for its turn; its rejection is seen by settle().
      hashing.at(-1)!.catch(() => {});
      after = page.lastSeq;
      if (page.n < pageSize) break;
      while (hashing.length >= depth) {
        const failed = await settle();
        if (failed) return failed;
      }
    }
    while (hashing.length > 0) {
      const failed = await settle();
      if (failed) return failed;
    }
  } finally {
    for (const h of hashing) h.catch(() => {});
  }
  // The tail: records deleted after the last one we saw leave the head pointing at a hash nobody carries.
  if (start.last_seq !== null && (expected - 1 !== headSeq || prev !== start.last_hash))
    return fail(null, 'head_mismatch');
  if (
    start.last_seq !== null &&
    (opts.markFull || (opts.incremental && extra.verified_from_seq !== undefined))
  )
    await database.withTenant(tenantId, (tx) =>
      tx.execute(sql`insert into audit_verifications (tenant_id, through_seq, through_hash, full_at)
        values (${tenantId}, ${headSeq}, ${prev}, now())
        on conflict (tenant_id) do update set through_seq = excluded.through_seq, through_hash = excluded.through_hash,
          full_at = ${opts.markFull ? sql`excluded.full_at` : sql`audit_verifications.full_at`}, updated_at = now()
        where audit_verifications.through_seq <= excluded.through_seq`),
    );
  return { valid: true, checked, ...extra };
}
