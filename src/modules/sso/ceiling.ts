/**
 * The grant ceiling of an SSO connection (issue 18 item 3, API.md §17): whoever edits a connection chooses the
 * identity provider, so the connection can never give more than its LAST EDITOR could grant themselves (the rule
 * of role assignment, rbac's canGrant): not at JIT creation (default_role), not by linking an existing account,
 * not by signing in an account already linked. On top of that, an owner, a superuser or a platform operator is
 * only ever signed in through a connection whose last editor was one too (an admin can hold every tenant
 * permission, so the permission check alone would let them through).
 *
 * What is recorded (drizzle/0015_sso_grant_ceiling.sql): the editor (user id; for an API key, its id, and the
 * user it acts for or, tenant-owned, its role) and a snapshot of the editor's effective permissions and
 * privilege at the edit. At sign-in the ceiling is the snapshot AND what that editor holds now, so a demoted,
 * deactivated or deleted editor takes the connection's power down at once (fail closed), while a promotion after
 * the edit raises nothing nobody approved. An API key is never "privileged": a connection a key last edited never
 * signs in an owner. Rows older than the migration have no snapshot: bounded by their creator's current rights.
 */

import type { Executor } from '../../platform/db/client.js';
import {
  type Actor,
  canGrant,
  type GrantProfile,
  roleGrantProfile,
  roleIdByCode,
  userGrantProfile,
} from '../rbac/index.js';
import type { SsoDeps } from './deps.js';
import type { ConnectionRow, NewConnection } from './tables.js';

/** Who edits a connection: the RBAC actor, plus the role a tenant-owned API key acts with. */
export type SsoEditor = Actor & { roleId?: string | null };

/** An owner, a superuser or a platform operator: never linked or provisioned automatically. */
export const isPrivileged = (p: GrantProfile) => p.owner || p.superuser || p.platformOperator;

/** The editor columns written by every create and update, in the change's transaction. */
export async function editorRecord(
  ctx: SsoDeps,
  tx: Executor,
  editor: SsoEditor,
  now: Date,
): Promise<
  Pick<
    NewConnection,
    | 'lastEditorUserId'
    | 'lastEditorApiKeyId'
    | 'lastEditorRoleId'
    | 'grantCeiling'
    | 'grantCeilingPrivileged'
    | 'lastEditedAt'
  >
> {
  const isKey = editor.audit.actorType === 'api_key';
  const privileged =
    !isKey && editor.userId !== null
      ? isPrivileged(await userGrantProfile(ctx, tx, editor.tenantId, editor.userId))
      : false;
  return {
    lastEditorUserId: editor.userId,
    lastEditorApiKeyId: isKey && editor.audit.actorId ? Number(editor.audit.actorId) : null,
    lastEditorRoleId: isKey && editor.userId === null ? (editor.roleId ?? null) : null,
    grantCeiling: [...editor.permissions].sort(),
    grantCeilingPrivileged: privileged,
    lastEditedAt: now,
  };
}

export interface Ceiling {
  /** Whether the connection may hand out (or sign in someone holding) this code. */
  canGrant(code: string): boolean;
  /** Whether it may sign in or link an owner, a superuser or a platform operator. */
  privileged: boolean;
}

/** The connection's ceiling now: the snapshot of its last edit AND what that editor holds today. */
export async function ceilingOf(ctx: SsoDeps, tx: Executor, c: ConnectionRow): Promise<Ceiling> {
  let live: GrantProfile | null = null;
  let livePrivileged = false;
  if (c.lastEditorUserId !== null) {
    // A user, or the user an API key acts for (a key never holds more than its creator).
    live = await userGrantProfile(ctx, tx, c.tenantId, c.lastEditorUserId);
    livePrivileged = c.lastEditorApiKeyId === null && isPrivileged(live);
  } else if (c.lastEditorRoleId !== null) {
    live = await roleGrantProfile(tx, c.tenantId, c.lastEditorRoleId);
  }
  const snapshot = c.grantCeiling ? new Set(c.grantCeiling) : null;
  return {
    canGrant: (code) =>
      live !== null &&
      canGrant(live.permissions, code, live.isPlatform) &&
      (snapshot === null || canGrant(snapshot, code, live.isPlatform)),
    privileged: livePrivileged && (c.grantCeilingPrivileged ?? true),
  };
}

/** Why the connection may not sign in or link this account (null: it may). */
export function ceilingExceeded(
  ceiling: Ceiling,
  user: GrantProfile,
): { missing: string[]; privileged_account: boolean } | null {
  const missing = [...user.permissions].filter((p) => !ceiling.canGrant(p)).sort();
  const privileged = isPrivileged(user) && !ceiling.privileged;
  return missing.length > 0 || privileged ? { missing, privileged_account: privileged } : null;
}

/**
 * Why the connection may not give its default_role to a new account (null: it may). Read at each JIT creation:
 * the role's permissions may have been edited since the connection was saved.
 */
export async function defaultRoleExceeded(
  tx: Executor,
  tenantId: number,
  ceiling: Ceiling,
  code: string,
): Promise<{ default_role: string; missing: string[]; privileged_role: boolean } | null> {
  const roleId = await roleIdByCode(tx, tenantId, code);
  // An unknown role grants nothing (grantRoleByCode then gives none).
  if (!roleId) return null;
  const role = await roleGrantProfile(tx, tenantId, roleId);
  const missing = [...role.permissions].filter((p) => !ceiling.canGrant(p)).sort();
  const privileged = (role.owner || role.platformOperator) && !ceiling.privileged;
  return missing.length > 0 || privileged
    ? { default_role: code, missing, privileged_role: privileged }
    : null;
}
