/**
 * sso_required on every path (issue 18, item 4; docs/sso.md). The refusal itself is service.ts's
 * ssoRequiredRefusal, asked through auth's hooks before a password is checked (passwordSignIn) and before ANY
 * session is opened or refreshed (signIn). This file ends what existed before the requirement: switching it on
 * (a connection created or PATCHed with it, enabled again, or one of its domains verified) ends, in the same
 * transaction, every session of the users in those domains that was not opened through that connection.
 */

import { type AuditContext, writeAudit } from '../../platform/audit/writer.js';
import type { Tx } from '../../platform/db/client.js';
import { publishRevocations, revokeSessionsNotThrough } from '../sessions/index.js';
import { isPlatformTenant } from '../tenants/index.js';
import { userIdsInDomains } from '../users/index.js';
import type { SsoDeps } from './deps.js';
import * as repo from './repository.js';
import type { ConnectionRow } from './tables.js';

/** What switched the requirement on, recorded in the audit record. */
export type SsoRequiredTrigger = 'connection_created' | 'connection_updated' | 'domain_verified';

/** The revoked reason of the sessions ended here (sessions.revoked_reason). */
export const SSO_REQUIRED_REASON = 'sso_required';

/** Whether a change makes this connection require SSO where it did not (a disabled connection requires nothing). */
export function ssoRequirementSwitchedOn(
  before: Pick<ConnectionRow, 'enabled' | 'ssoRequired'> | null,
  after: Pick<ConnectionRow, 'enabled' | 'ssoRequired'>,
): boolean {
  return after.enabled && after.ssoRequired && !(before?.enabled && before.ssoRequired);
}

/**
 * In the transaction of the change: ends the sessions of the users whose address is in `domains` (default: the
 * connection's verified domains) that were not opened through this connection (password, social login, another
 * connection, and 'unknown' rows older than drizzle/0016), and writes ONE summary audit record (count, user ids,
 * domains). Returns the ended session ids: the caller publishes them once committed (publishEnded), so every
 * replica refuses their access tokens from the next request on. The platform tenant is never locked out by SSO
 * (as ssoRequiredRefusal), so nothing of it ends.
 */
export async function endNonSsoSessions(
  tx: Tx,
  tenantId: number,
  connection: ConnectionRow,
  audit: AuditContext,
  trigger: SsoRequiredTrigger,
  domains?: string[],
): Promise<string[]> {
  if (!connection.enabled || !connection.ssoRequired) return [];
  if (await isPlatformTenant(tx, tenantId)) return [];
  const reach =
    domains ??
    (await repo.domainsOf(tx, tenantId, [connection.id]))
      .filter((d) => d.verifiedAt !== null)
      .map((d) => d.domain);
  const userIds = await userIdsInDomains(tx, tenantId, reach);
  const ended = await revokeSessionsNotThrough(
    tx,
    tenantId,
    userIds,
    { ssoConnectionId: connection.id },
    SSO_REQUIRED_REASON,
  );
  if (ended.length === 0) return [];
  await writeAudit(tx, tenantId, audit, {
    eventType: 'sso.sessions_revoked',
    resourceType: 'sso_connection',
    resourceId: connection.id,
    metadata: {
      reason: SSO_REQUIRED_REASON,
      trigger,
      domains: reach,
      sessions_ended: ended.length,
      user_ids: [...new Set(ended.map((e) => e.userId))].sort((a, b) => a - b),
    },
  });
  return ended.map((e) => e.id);
}

/** After the change committed: every replica refuses the ended sessions' access tokens (store flags). */
export async function publishEnded(ctx: SsoDeps, sessionIds: string[]): Promise<void> {
  if (sessionIds.length) await publishRevocations(ctx, sessionIds);
}
