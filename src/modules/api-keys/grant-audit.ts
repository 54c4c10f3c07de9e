/**
 * `massacorp keys audit` (issue 18, finding 2): tenant-owned keys whose role gives more than their creator could
 * grant today. Keys minted before creation checked the role (or whose creator has since lost permissions, left,
 * or been deactivated) are reported, never silently kept nor silently revoked: revoking a provisioning key stops
 * an identity provider, so the operator decides. Read-only.
 *
 * "What the creator could grant" is role assignment's rule (rbac's roleGrantExcess, the report form of
 * assertCanGrantRole) applied to the creator's current effective permissions. A creator who is gone (deleted,
 * so created_by_user_id was set to null) or inactive holds nothing: nobody vouches for the key any more, so every
 * permission of its role is in excess and the key is reported with that reason.
 */

import { resolveUserPermissions, roleById, roleGrantExcess } from '../rbac/index.js';
import { userById } from '../users/index.js';
import type { ApiKeysDeps } from './deps.js';
import * as repo from './repository.js';

export type KeyGrantFinding = {
  tenant_id: number;
  key_id: number;
  name: string;
  role_id: string;
  role_code: string | null;
  created_by_user_id: number | null;
  /** exceeds_creator: the creator holds less than the role; creator_gone / creator_inactive: nobody vouches. */
  reason: 'exceeds_creator' | 'creator_gone' | 'creator_inactive';
  /** Catalogue permissions the role gives that the creator could not grant (sorted). */
  excess: string[];
};

export async function auditTenantKeyGrants(
  ctx: ApiKeysDeps,
  opts: { tenantId?: number } = {},
): Promise<KeyGrantFinding[]> {
  const keys = await ctx.database.withSystem((tx) => repo.listLiveTenantKeys(tx, opts.tenantId));
  const findings: KeyGrantFinding[] = [];
  for (const k of keys) {
    if (!k.roleId) continue; // the table's CHECK makes this impossible for a tenant-owned key
    const roleId = k.roleId;
    const creatorId = k.createdByUserId;
    const creator =
      creatorId === null
        ? null
        : await ctx.database.withTenant(k.tenantId, (tx) => userById(tx, k.tenantId, creatorId));
    // Resolved fresh (no cached set of an earlier version): an inactive user resolves to nothing.
    const held = creator ? await resolveUserPermissions(ctx, k.tenantId, creator.id) : new Set<string>();
    const { excess, role } = await ctx.database.withTenant(k.tenantId, async (tx) => ({
      role: await roleById(tx, k.tenantId, roleId),
      excess: await roleGrantExcess(tx, k.tenantId, held, roleId),
    }));
    if (excess.length === 0) continue;
    findings.push({
      tenant_id: k.tenantId,
      key_id: k.id,
      name: k.name,
      role_id: roleId,
      role_code: role?.code ?? null,
      created_by_user_id: creatorId,
      reason: !creator ? 'creator_gone' : !creator.isActive ? 'creator_inactive' : 'exceeds_creator',
      excess,
    });
  }
  return findings;
}
