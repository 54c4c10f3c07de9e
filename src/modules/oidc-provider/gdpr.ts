/**
 * The OpenID Provider's part of GDPR: the export lists what the user granted to the tenant's applications (which
 * client, when, until when; never a token); erasure and anonymisation delete every artefact of the user (grants,
 * tokens, provider sessions), as deactivation does.
 */
import type { AppContext } from '../../platform/context.js';
import type { Tx } from '../../platform/db/client.js';
import { deleteUserArtefacts, userGrants } from './repository.js';

export async function exportGrants(tx: Tx, tenantId: number, userId: number) {
  const rows = await userGrants(tx, tenantId, userId);
  return rows.map((r) => ({
    client_id: r.clientId,
    scopes: String((r.payload.openid as { scope?: string } | undefined)?.scope ?? '')
      .split(' ')
      .filter(Boolean),
    granted_at: r.createdAt.toISOString(),
    expires_at: r.expiresAt.toISOString(),
  }));
}

export function registerOidcProviderGdpr(ctx: AppContext): void {
  ctx.hooks.gdprExport.push({ name: 'oidc_grants', collect: exportGrants });
  ctx.hooks.gdprErase.push({
    name: 'oidc_grants',
    erase: async (tx, tenantId, userId) => {
      await deleteUserArtefacts(tx, tenantId, userId);
    },
  });
}
