/**
 * The per-tenant hash chain: each record's hash covers the previous hash and the record's canonical JSON,
 * so changing, removing or reordering any record breaks every hash after it.
 */
import { createHash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);

export interface ChainedFields {
  tenantId: number;
  seq: number;
  eventType: string;
  actorType: string;
  actorId: string | null;
  resourceType: string | null;
  resourceId: string | null;
  success: boolean;
  ipAddress: string | null;
  userAgent: string | null;
  requestId: string | null;
  sessionId: string | null;
  metadata: Record<string, unknown>;
  /** A Date, or already the ISO form toISOString gives (bulk reads have PostgreSQL format it: see exportPage). */
  createdAt: Date | string;
}

/**
 * JSON with object keys sorted at every depth: the same value always gives the same bytes. Written as loops
 * rather than entries/filter/map (the full re-verification runs this for every record: issue 25); the output
 * is what it always was: keys in UTF-16 code unit order (Array#sort's default), undefined members left out.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  let firstMember = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    out += `${firstMember ? '' : ','}${JSON.stringify(k)}:${canonicalJson(v)}`;
    firstMember = false;
  }
  return `${out}}`;
}

/** The columns every wire (snake_case) form of a record carries as they are: exports, archives, hashed pages. */
export type RecordWireColumns = {
  event_type: string;
  actor_id: string | null;
  resource_type: string | null;
  resource_id: string | null;
  success: boolean;
  ip_address: string | null;
  user_agent: string | null;
  request_id: string | null;
  session_id: string | null;
  created_at: string;
  prev_hash: string;
  hash: string;
};

/** The hashed part of a record, in its wire (snake_case) form; exports and archives add id and hashes to it. */
export function chainedBody(r: ChainedFields) {
  return {
    tenant_id: r.tenantId,
    seq: r.seq,
    event_type: r.eventType,
    actor_type: r.actorType,
    actor_id: r.actorId,
    resource_type: r.resourceType,
    resource_id: r.resourceId,
    success: r.success,
    ip_address: r.ipAddress,
    user_agent: r.userAgent,
    request_id: r.requestId,
    session_id: r.sessionId,
    metadata: r.metadata,
    created_at: typeof r.createdAt === 'string' ? r.createdAt : r.createdAt.toISOString(),
  };
}

export function recordHash(prevHash: string, r: ChainedFields): string {
  const body = canonicalJson(chainedBody(r));
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}
