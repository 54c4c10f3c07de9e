/**
 * GDPR erasure and webhooks: a delivery's payload is a copy of audit records with their personal values put back
 * (events.ts), so erasing those values from the audit trail must scrub the copies too. Each personal value of the
 * user, as it appears in JSON (a whole quoted string), is replaced by the user's pseudonym, in every delivery of
 * the tenant: the delivery log keeps its status, attempts and timings, and an event still owed is still sent,
 * carrying the pseudonym (receivers key on ids, which stay). Runs in the erasure's transaction, before the audit
 * phase deletes the values it looks for. A delivery already on the wire when the erasure commits has gone as it
 * was: that is the receiver's copy, the tenant's to erase.
 */
import { piiValuesOf } from '../../platform/audit/pii.js';
import type { GdprErasure } from '../../platform/context.js';
import type { Executor } from '../../platform/db/client.js';
import { deliveriesContaining, setDeliveryPayload } from './repository.js';

export async function scrubDeliveries(
  tx: Executor,
  tenantId: number,
  userId: number,
  erasure: GdprErasure,
): Promise<{ webhook_payloads_scrubbed: number }> {
  const values = new Set(await piiValuesOf(tx, tenantId, userId, [erasure.email]));
  values.add(erasure.email);
  // A value inside a JSON document is a whole string: matching the quoted form never cuts another word.
  const needles = [...values].map((v) => JSON.stringify(v));
  const replacement = JSON.stringify(erasure.pseudonym);
  const rows = await deliveriesContaining(tx, tenantId, needles);
  for (const row of rows) {
    let payload = row.payload;
    for (const needle of needles) payload = payload.split(needle).join(replacement);
    await setDeliveryPayload(tx, tenantId, row.id, payload);
  }
  return { webhook_payloads_scrubbed: rows.length };
}
