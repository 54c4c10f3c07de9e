/**
 * One page of chain verification, as plain data, so the same function runs inline or on a worker thread
 * (verify-worker.ts).
 *
 * A page travels as ONE string: PostgreSQL aggregates the page's records into a JSON array of arrays
 * (CHAIN_PAGE_COLUMNS' order, see verify.ts), the reading thread passes that text on untouched, and the hashing
 * side parses it with one native JSON.parse. Reading the records as row objects and posting them to the worker
 * cost the reading thread about as much as the hashing itself (issue 25: 49,000 records/s; profile in
 * docs/scaling.md).
 *
 * Each record's hash covers its own prev_hash, so pages can be hashed in any order and on several workers: the
 * page checks its records' links to one another, and reports its first record's seq and prev_hash, which the
 * caller checks against the end of the page before it (verify.ts).
 */
import { hash as oneShotHash } from 'node:crypto';
import { canonicalJson } from './hash-chain.js';

/**
 * A record in the page's JSON: [id, seq, event_type, actor_type, actor_id, resource_type, resource_id, success,
 * ip_address, user_agent, request_id, session_id, metadata, created_at (ISO, as toISOString), prev_hash, hash].
 */
export type PageRecord = [
  number,
  number,
  string,
  string,
  string | null,
  string | null,
  string | null,
  boolean,
  string | null,
  string | null,
  string | null,
  string | null,
  Record<string, unknown>,
  string,
  string,
  string,
];

export interface HashPage {
  tenantId: number;
  /** The records, as PostgreSQL's json_agg gave them (a JSON array of PageRecord). */
  json: string;
}

export type Failure = 'seq_gap' | 'prev_hash_mismatch' | 'hash_mismatch';

export type PageResult =
  | {
      ok: true;
      checked: number;
      /** The first record: the caller checks that it follows the page before. */
      first: { id: number; seq: number; prev: string } | null;
      /** The last record's hash and the seq the next page must start at. */
      prev: string;
      expected: number;
    }
  | {
      ok: false;
      checked: number;
      first: { id: number; seq: number; prev: string } | null;
      id: number;
      reason: Failure;
    };

const str = JSON.stringify;

/**
 * canonicalJson(chainedBody(record)) of hash-chain.ts, written out: the body's keys are fixed, so their sorted
 * order is too, and only the metadata needs the generic canonical form. Byte for byte the same text (a test in
 * tests/integration/audit.verify-job.test.ts compares the two over awkward values); about twice as fast.
 */
export function canonicalBody(tenantId: number, r: PageRecord): string {
  return (
    `{"actor_id":${str(r[4])},"actor_type":${str(r[3])},"created_at":${str(r[13])},"event_type":${str(r[2])}` +
    `,"ip_address":${str(r[8])},"metadata":${canonicalJson(r[12])},"request_id":${str(r[10])}` +
    `,"resource_id":${str(r[6])},"resource_type":${str(r[5])},"seq":${str(r[1])},"session_id":${str(r[11])}` +
    `,"success":${str(r[7])},"tenant_id":${str(tenantId)},"user_agent":${str(r[9])}}`
  );
}

/** recordHash of hash-chain.ts for a page record: sha256(prev_hash "\n" canonical body), hex. */
export function pageRecordHash(tenantId: number, prev: string, r: PageRecord): string {
  return oneShotHash('sha256', `${prev}\n${canonicalBody(tenantId, r)}`, 'hex');
}

export function hashPage(p: HashPage): PageResult {
  const rows = JSON.parse(p.json) as PageRecord[];
  const head = rows[0];
  const first = head ? { id: head[0], seq: head[1], prev: head[14] } : null;
  let prev = head ? head[14] : '';
  let expected = head ? head[1] : 0;
  let checked = 0;
  for (const r of rows) {
    // The first record's seq and link are the caller's to check (they depend on the page before).
    if (r[1] !== expected) return { ok: false, checked, first, id: r[0], reason: 'seq_gap' };
    if (r[14] !== prev) return { ok: false, checked, first, id: r[0], reason: 'prev_hash_mismatch' };
    if (pageRecordHash(p.tenantId, prev, r) !== r[15])
      return { ok: false, checked, first, id: r[0], reason: 'hash_mismatch' };
    prev = r[15];
    expected += 1;
    checked += 1;
  }
  return { ok: true, checked, first, prev, expected };
}
