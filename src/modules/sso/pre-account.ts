/**
 * Pre-account hijack (issue 18, finding 5): someone creates an account for an address they do not own and links
 * their own external identity to it; when the owner later takes the account over by password reset, the link
 * must not survive. The password-reset module calls ctx.hooks.unverifiedAccountReset in the reset's transaction
 * for an account whose address was not verified; this drops every external identity linked before it.
 */
import { type AuditContext, writeAudit } from '../../platform/audit/writer.js';
import type { Tx } from '../../platform/db/client.js';
import * as repo from './repository.js';

export async function dropIdentitiesOnReset(
  tx: Tx,
  tenantId: number,
  userId: number,
  audit: AuditContext,
): Promise<Record<string, unknown>> {
  const identities = await repo.identitiesOfUser(tx, tenantId, userId);
  if (identities.length === 0) return {};
  await repo.deleteIdentitiesOfUser(tx, tenantId, userId);
  await writeAudit(tx, tenantId, audit, {
    eventType: 'sso.identities_dropped',
    resourceType: 'user',
    resourceId: userId,
    metadata: {
      reason: 'password_reset_of_unverified_email',
      identities: identities.map((i) => ({
        id: i.id,
        connection_id: i.connectionId,
        provider: i.provider,
        issuer: i.issuer,
        subject: i.subject,
        linked_at: i.createdAt.toISOString(),
      })),
    },
  });
  return { external_identities_dropped: identities.length };
}
