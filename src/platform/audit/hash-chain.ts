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

/** JSON with object keys sorted at every depth: the same value always gives the same bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
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
