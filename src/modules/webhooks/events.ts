/**
 * From audit records to deliveries. A single event's body is `{type, id, created_at, tenant_id, data}` (JSON);
 * the audit stream is NDJSON, one such object per record, in chain order, with the record as the chain hashes it
 * (personal values as references, so the receiver can recompute every hash) and the values of those references
 * beside it while they exist (a GDPR erasure removes them; the record and its hash stay).
 */
import { collectRefs, lookupPii, rehydrate } from '../../platform/audit/pii.js';
import { type RecordLine, recordLine } from '../../platform/audit/retention.js';
import type { AuditRow } from '../../platform/audit/tables.js';
import type { Executor } from '../../platform/db/client.js';
import { AUDIT_STREAM, eventTypesFor, SCHEMA_VERSION, streamsAudit } from './catalogue.js';

/** A delivery to insert: what the fan-out makes of new records for one endpoint. */
export interface NewDelivery {
  eventId: string;
  eventType: string;
  payload: string;
  contentType: string;
  firstSeq: number;
  lastSeq: number;
}

/** The webhook-id of an event: stable per tenant and audit record, so replays and retries carry the same one. */
export const eventId = (tenantId: number, seq: number, type: string) => `evt_${tenantId}_${seq}_${type}`;
const batchId = (tenantId: number, first: number, last: number) => `aud_${tenantId}_${first}_${last}`;

/** The `data` of a single event: the record's facts with personal values shown (docs/webhooks.md). */
function eventData(line: RecordLine) {
  return {
    schema_version: SCHEMA_VERSION,
    audit_event: line.event_type,
    success: line.success,
    actor: { type: line.actor_type, id: line.actor_id },
    resource: { type: line.resource_type, id: line.resource_id },
    ip_address: line.ip_address,
    request_id: line.request_id,
    session_id: line.session_id,
    details: line.metadata,
    audit: { seq: line.seq, hash: line.hash },
  };
}

/**
 * The deliveries `rows` (one tenant's records, in seq order) make for an endpoint subscribed to `subscriptions`:
 * one per matching single event, and for the audit stream one batch of all of them.
 */
export async function deliveriesFor(
  tx: Executor,
  tenantId: number,
  rows: AuditRow[],
  subscriptions: readonly string[],
): Promise<NewDelivery[]> {
  if (rows.length === 0) return [];
  const lines = rows.map(recordLine);
  const pii = await lookupPii(tx, tenantId, collectRefs(lines.map((l) => l.metadata)));
  const out: NewDelivery[] = [];
  for (const line of lines) {
    for (const type of eventTypesFor(line.event_type, line.success, subscriptions)) {
      const id = eventId(tenantId, line.seq, type);
      const shown = { ...line, metadata: pii.size ? rehydrate(line.metadata, pii) : line.metadata };
      out.push({
        eventId: id,
        eventType: type,
        payload: JSON.stringify({
          type,
          id,
          created_at: line.created_at,
          tenant_id: tenantId,
          data: eventData(shown),
        }),
        contentType: 'application/json',
        firstSeq: line.seq,
        lastSeq: line.seq,
      });
    }
  }
  if (streamsAudit(subscriptions)) {
    const first = lines[0]!.seq;
    const last = lines[lines.length - 1]!.seq;
    const body = lines.map((line) => {
      const refs = [...collectRefs([line.metadata])];
      const values = Object.fromEntries(refs.flatMap((r) => (pii.has(r) ? [[r, pii.get(r)!]] : [])));
      return JSON.stringify({
        type: AUDIT_STREAM,
        id: `rec_${tenantId}_${line.seq}`,
        created_at: line.created_at,
        tenant_id: tenantId,
        data: { record: line, pii: values },
      });
    });
    out.push({
      eventId: batchId(tenantId, first, last),
      eventType: AUDIT_STREAM,
      payload: `${body.join('\n')}\n`,
      contentType: 'application/x-ndjson',
      firstSeq: first,
      lastSeq: last,
    });
  }
  return out;
}
