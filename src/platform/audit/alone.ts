/**
 * Audit outside the main transaction. Every state change writes its record in its own transaction (writeAudit);
 * this is for the rest: refusals and failures, whose transaction (if any) rolls back while the record must stay,
 * and events with nothing else to commit (an export read, a peer the agent took off the interface).
 */
import type { AppContext } from '../context.js';
import { type AuditContext, type AuditEvent, writeAudit } from './writer.js';

export interface AloneOptions {
  /**
   * Best effort: a failure to write is logged with this message instead of thrown (the caller is already
   * answering with an error of its own, which must not become a 500).
   */
  bestEffort?: string;
}

/** Writes one audit record in a transaction of its own, in the tenant's chain. */
export async function writeAuditAlone(
  ctx: Pick<AppContext, 'database' | 'log'>,
  tenantId: number,
  audit: AuditContext,
  event: AuditEvent,
  options: AloneOptions = {},
): Promise<void> {
  const write = ctx.database.withTenant(tenantId, (tx) => writeAudit(tx, tenantId, audit, event));
  if (options.bestEffort === undefined) {
    await write;
    return;
  }
  await write.catch((err) => ctx.log.error({ err }, options.bestEffort));
}
