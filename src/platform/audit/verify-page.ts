/**
 * One page of chain verification, as plain data (records as the database returns them in text form), so the
 * same function runs inline or on a worker thread (verify-worker.ts).
 */
import { type RecordWireColumns, recordHash } from './hash-chain.js';

/** A record as CHAIN_PAGE_SQL selects it: bigints as text, metadata as JSON text, created_at in ISO form. */
export type TextRecord = RecordWireColumns & {
  id: string | number;
  seq: string | number;
  actor_type: 'user' | 'api_key' | 'system';
  metadata: string | Record<string, unknown>;
};

export interface HashPage {
  tenantId: number;
  /** The hash the first record must chain from, and the seq it must carry. */
  prev: string;
  expected: number;
  rows: TextRecord[];
}

export type PageResult =
  | { ok: true; prev: string; expected: number; checked: number }
  | { ok: false; checked: number; id: number; reason: 'seq_gap' | 'prev_hash_mismatch' | 'hash_mismatch' };

export function hashPage(p: HashPage): PageResult {
  let { prev, expected } = p;
  let checked = 0;
  for (const r of p.rows) {
    const seq = Number(r.seq);
    const fail = (reason: 'seq_gap' | 'prev_hash_mismatch' | 'hash_mismatch'): PageResult => ({
      ok: false,
      checked,
      id: Number(r.id),
      reason,
    });
    if (seq !== expected) return fail('seq_gap');
    if (r.prev_hash !== prev) return fail('prev_hash_mismatch');
    const fields = {
      tenantId: p.tenantId,
      seq,
      eventType: r.event_type,
      actorType: r.actor_type,
      actorId: r.actor_id,
      resourceType: r.resource_type,
      resourceId: r.resource_id,
      success: r.success,
      ipAddress: r.ip_address,
      userAgent: r.user_agent,
      requestId: r.request_id,
      sessionId: r.session_id,
      metadata:
        typeof r.metadata === 'string' ? (JSON.parse(r.metadata) as Record<string, unknown>) : r.metadata,
      createdAt: new Date(r.created_at),
    };
    if (recordHash(prev, fields) !== r.hash) return fail('hash_mismatch');
    prev = r.hash;
    expected += 1;
    checked += 1;
  }
  return { ok: true, prev, expected, checked };
}
