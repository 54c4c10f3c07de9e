/**
 * SCIM 2.0 provisioning (API.md §17): users and groups-as-roles, on top of the users and RBAC modules' own
 * services, so a SCIM change is the same change (same checks, same audit record, same revocations) as through
 * /api/v1. The actor is the API key: records name it, and it acts with its owner's (or its role's) permissions.
 *
 * Lenient about what Okta and Entra ID send: op names in any case, "True"/"False" strings, PATCH without a path
 * (an object of attributes, dotted names included), both member-removal styles. PATCH bodies are applied by
 * `scim-patch` to the current representation, and the result is read back like a PUT body.
 */
import { type ScimPatchOperation, scimPatch } from 'scim-patch';
import type { AppContext } from '../../platform/context.js';
import type { Executor } from '../../platform/db/client.js';
import { AppError } from '../../platform/http/errors.js';
import {
  type Actor,
  assertCanGrantRole,
  assignRoleInTx,
  auditRefusals,
  bumpPermissionVersion,
  grants,
  type RoleRow,
  removeRoleInTx,
  roleByCode,
  roleById,
  roleHolderIds,
  tenantRoles,
} from '../rbac/index.js';
import { tenantSettings } from '../tenants/index.js';
import {
  createUserInTx,
  deleteUser,
  prepareUser,
  type UserRow,
  updateUser,
  userByEmail,
  userById,
  userRowsPage,
} from '../users/index.js';
import { invalidSyntax, invalidValue, ScimError, scimNotFound } from './errors.js';
import { parseGroupFilter, parseUserFilter } from './filter.js';
import * as repo from './repository.js';
import {
  DEFAULT_COUNT,
  listResponse,
  MAX_COUNT,
  type Member,
  type ScimUser,
  toScimGroup,
  toScimUser,
  USER_SCHEMA,
} from './resources.js';

export type ScimActor = Actor;

/** The key's owner (or role) must hold the permission the change needs. */
function need(actor: ScimActor, permission: string) {
  if (!grants(actor.permissions, permission))
    throw new ScimError(403, `the API key does not hold the permission ${permission}`);
}

// ---------- values ----------

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing NUL and other control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f]/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Case-insensitive attribute lookup (RFC 7643 §2.1: attribute names are case-insensitive). */
function pick(o: Record<string, unknown>, name: string): unknown {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(o)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function optString(v: unknown, field: string, max: number): string | null | undefined {
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (typeof v !== 'string') throw invalidValue(`${field} must be a string`);
  const s = v.trim();
  if (CONTROL.test(s)) throw invalidValue(`${field} contains control characters`);
  if (s.length > max) throw invalidValue(`${field} is longer than ${max} characters`);
  return s === '' ? null : s;
}

/** true/false, or the strings "True"/"False" in any case (Entra ID sends them). */
export function toBool(v: unknown, field: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v.trim())) return v.trim().toLowerCase() === 'true';
  throw invalidValue(`${field} must be a boolean`);
}

interface UserInput {
  email: string;
  givenName: string | null | undefined;
  familyName: string | null | undefined;
  active: boolean | undefined;
  externalId: string | null | undefined;
  password: string | undefined;
}

/** A full User resource (POST, PUT, or a PATCH's result) read into what this service stores. */
function readUser(body: unknown): UserInput {
  if (!isObject(body)) throw invalidSyntax('the body must be a JSON object');
  const userName = optString(pick(body, 'userName'), 'userName', 254);
  if (!userName) throw invalidValue('userName is required');
  const email = userName.toLowerCase();
  if (!EMAIL.test(email)) throw invalidValue('userName must be an email address');
  const name = pick(body, 'name');
  if (name !== undefined && name !== null && !isObject(name)) throw invalidValue('name must be an object');
  const n = isObject(name) ? name : {};
  const activeRaw = pick(body, 'active');
  const password = pick(body, 'password');
  if (password !== undefined && (typeof password !== 'string' || password.length > 1024))
    throw invalidValue('password must be a string');
  return {
    email,
    givenName: name === null ? null : optString(pick(n, 'givenName'), 'name.givenName', 100),
    familyName: name === null ? null : optString(pick(n, 'familyName'), 'name.familyName', 100),
    active: activeRaw === undefined || activeRaw === null ? undefined : toBool(activeRaw, 'active'),
    externalId: optString(pick(body, 'externalId'), 'externalId', 255),
    password: password as string | undefined,
  };
}

/** Users and keys have integer ids; anything else names no user (404, as RFC 7644 wants, not 422). */
function userIdOf(id: string): number {
  if (!/^\d{1,10}$/.test(id) || Number(id) < 1 || Number(id) > 2_147_483_647) throw scimNotFound('User');
  return Number(id);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
function roleIdOf(id: string): string {
  if (!UUID.test(id)) throw scimNotFound('Group');
  return id.toLowerCase();
}

/** startIndex (1-based, below 1 is 1) and count (0..MAX_COUNT, default DEFAULT_COUNT), RFC 7644 §3.4.2.4. */
export function pageOf(q: { startIndex?: string; count?: string }): { startIndex: number; count: number } {
  const int = (v: string | undefined, field: string) => {
    if (v === undefined || v === '') return undefined;
    if (!/^-?\d{1,9}$/.test(v.trim())) throw invalidValue(`${field} must be an integer`);
    return Number(v);
  };
  const s = int(q.startIndex, 'startIndex');
  const c = int(q.count, 'count');
  return {
    startIndex: s === undefined || s < 1 ? 1 : s,
    count: c === undefined ? DEFAULT_COUNT : Math.min(Math.max(c, 0), MAX_COUNT),
  };
}

// ---------- users ----------

async function scimUserOf(tx: Executor, base: string, u: UserRow): Promise<ScimUser> {
  return toScimUser(base, u, await repo.externalIdOf(tx, u.tenantId, u.id));
}

async function assertExternalIdFree(
  tx: Executor,
  tenantId: number,
  externalId: string,
  userId: number | null,
) {
  const holder = await repo.userIdByExternalId(tx, tenantId, externalId);
  if (holder !== null && holder !== userId)
    throw new ScimError(409, 'externalId is already used by another user', 'uniqueness');
}

export async function createScimUser(ctx: AppContext, actor: ScimActor, base: string, body: unknown) {
  need(actor, 'users.write');
  const input = readUser(body);
  const { tenantId } = actor;
  const policy = input.password ? (await tenantSettings(ctx, tenantId)).password_policy : null;
  const prepared = await prepareUser(
    ctx,
    {
      email: input.email,
      password: input.password ?? null,
      firstName: input.givenName ?? null,
      lastName: input.familyName ?? null,
      isActive: input.active ?? true,
      // The tenant's own directory vouches for the address (see docs/api-decisions.md, SCIM).
      isVerified: true,
      isSuperuser: false,
    },
    policy,
  );
  return ctx.database.withTenant(tenantId, async (tx) => {
    if (input.externalId) await assertExternalIdFree(tx, tenantId, input.externalId, null);
    const user = await createUserInTx(ctx, tx, tenantId, prepared, {
      source: 'scim',
      audit: actor.audit,
      metadata: { external_id: input.externalId ?? null },
    });
    if (input.externalId) await repo.setExternalId(tx, tenantId, user.id, input.externalId);
    return toScimUser(base, user, input.externalId ?? null);
  });
}

export async function getScimUser(ctx: AppContext, actor: ScimActor, base: string, id: string) {
  need(actor, 'users.read');
  const userId = userIdOf(id);
  return ctx.database.withTenant(actor.tenantId, async (tx) => {
    const u = await userById(tx, actor.tenantId, userId);
    if (!u) throw scimNotFound('User');
    return scimUserOf(tx, base, u);
  });
}

export async function listScimUsers(
  ctx: AppContext,
  actor: ScimActor,
  base: string,
  q: { filter?: string; startIndex?: string; count?: string },
) {
  need(actor, 'users.read');
  const { startIndex, count } = pageOf(q);
  const filter = q.filter?.trim() ? parseUserFilter(q.filter) : null;
  const { tenantId } = actor;
  return ctx.database.withTenant(tenantId, async (tx) => {
    if (filter) {
      let u: UserRow | null = null;
      if (filter.attr === 'username') u = await userByEmail(tx, tenantId, filter.value.trim().toLowerCase());
      else if (filter.attr === 'id')
        u = /^\d{1,9}$/.test(filter.value) ? await userById(tx, tenantId, Number(filter.value)) : null;
      else {
        const uid = await repo.userIdByExternalId(tx, tenantId, filter.value);
        u = uid === null ? null : await userById(tx, tenantId, uid);
      }
      const all = u ? [await scimUserOf(tx, base, u)] : [];
      return listResponse(all.slice(startIndex - 1, startIndex - 1 + count), all.length, startIndex);
    }
    const { rows, total } = await userRowsPage(tx, tenantId, { skip: startIndex - 1, limit: count });
    const ext = await repo.externalIdsOf(
      tx,
      tenantId,
      rows.map((r) => r.id),
    );
    return listResponse(
      rows.map((r) => toScimUser(base, r, ext.get(r.id) ?? null)),
      total,
      startIndex,
    );
  });
}

/** Applies a full new state (PUT, or a PATCH's result) through the users module's update. */
async function applyUser(
  ctx: AppContext,
  actor: ScimActor,
  base: string,
  current: UserRow,
  currentExternalId: string | null,
  input: UserInput,
  mode: 'put' | 'patch',
) {
  const { tenantId } = actor;
  const body: Parameters<typeof updateUser>[3] = {};
  if (input.email !== current.email) body.email = input.email;
  // PUT replaces: an absent name part clears it. A PATCH result carries every attribute it did not remove.
  const given = input.givenName ?? null;
  const family = input.familyName ?? null;
  if (given !== current.firstName) body.first_name = given;
  if (family !== current.lastName) body.last_name = family;
  // A deactivation is always carried out (again), so it never silently leaves a session or peer behind.
  if (input.active !== undefined && (input.active !== current.isActive || input.active === false))
    body.is_active = input.active;
  const externalId =
    mode === 'put' && input.externalId === undefined ? currentExternalId : (input.externalId ?? null);
  const externalChanged = externalId !== currentExternalId;
  if (Object.keys(body).length === 0 && !externalChanged) {
    return ctx.database.withTenant(tenantId, (tx) => scimUserOf(tx, base, current));
  }
  await updateUser(ctx, actor, current.id, body, {
    inTx: async (tx) => {
      if (!externalChanged) return undefined;
      if (externalId) await assertExternalIdFree(tx, tenantId, externalId, current.id);
      await repo.setExternalId(tx, tenantId, current.id, externalId);
      return { external_id: { before: currentExternalId, after: externalId }, via: 'scim' };
    },
  });
  return ctx.database.withTenant(tenantId, async (tx) => {
    const u = await userById(tx, tenantId, current.id);
    if (!u) throw scimNotFound('User');
    return scimUserOf(tx, base, u);
  });
}

async function loadUser(ctx: AppContext, tenantId: number, id: string) {
  const userId = userIdOf(id);
  return ctx.database.withTenant(tenantId, async (tx) => {
    const u = await userById(tx, tenantId, userId);
    if (!u) throw scimNotFound('User');
    return { user: u, externalId: await repo.externalIdOf(tx, tenantId, u.id) };
  });
}

export async function replaceScimUser(
  ctx: AppContext,
  actor: ScimActor,
  base: string,
  id: string,
  body: unknown,
) {
  need(actor, 'users.write');
  const { user, externalId } = await loadUser(ctx, actor.tenantId, id);
  return applyUser(ctx, actor, base, user, externalId, readUser(body), 'put');
}

/** The Operations of a PatchOp body, checked and with their op names lower-cased. */
export function patchOperations(body: unknown): ScimPatchOperation[] {
  if (!isObject(body)) throw invalidSyntax('the body must be a PatchOp object');
  const ops = pick(body, 'Operations');
  if (!Array.isArray(ops) || ops.length === 0) throw invalidSyntax('Operations must be a non-empty array');
  if (ops.length > 1000) throw new ScimError(400, 'too many operations', 'tooMany');
  return ops.map((o, i) => {
    if (!isObject(o)) throw invalidSyntax(`Operations[${i}] must be an object`);
    const op = pick(o, 'op');
    if (typeof op !== 'string' || !['add', 'remove', 'replace'].includes(op.toLowerCase()))
      throw invalidSyntax(`Operations[${i}].op must be add, remove or replace`);
    const path = pick(o, 'path');
    if (path !== undefined && (typeof path !== 'string' || path.length > 1000))
      throw new ScimError(400, `Operations[${i}].path must be a string`, 'invalidPath');
    const value = pick(o, 'value');
    const kind = op.toLowerCase();
    if (kind !== 'remove' && value === undefined) throw invalidValue(`Operations[${i}] needs a value`);
    if (kind === 'remove' && !path && value === undefined)
      throw new ScimError(400, `Operations[${i}]: remove needs a path`, 'noTarget');
    if (!path && kind !== 'remove' && !isObject(value))
      throw invalidValue(`Operations[${i}]: without a path, value must be an object of attributes`);
    return {
      op: kind,
      ...(path ? { path: path.trim() } : {}),
      ...(value !== undefined ? { value } : {}),
    } as ScimPatchOperation;
  });
}

/** Applies the operations with scim-patch; its refusals become SCIM 400s. */
function applyPatch<T extends { schemas: string[] }>(resource: T, ops: ScimPatchOperation[]): T {
  try {
    return scimPatch(resource as never, ops, { mutateDocument: false, treatMissingAsAdd: true }) as T;
  } catch (err) {
    const e = err as { scimCode?: string; message?: string };
    const scimType = e.scimCode === 'invalidPath' || e.scimCode === 'noTarget' ? e.scimCode : 'invalidValue';
    throw new ScimError(400, `PATCH refused: ${e.message ?? 'invalid operation'}`, scimType);
  }
}

export async function patchScimUser(
  ctx: AppContext,
  actor: ScimActor,
  base: string,
  id: string,
  body: unknown,
) {
  need(actor, 'users.write');
  const ops = patchOperations(body);
  const { user, externalId } = await loadUser(ctx, actor.tenantId, id);
  const current = toScimUser(base, user, externalId);
  const patched = applyPatch(current, ops) as unknown as Record<string, unknown>;
  // Changing the primary email is changing userName (userName is the email address here).
  const emails = pick(patched, 'emails');
  if (Array.isArray(emails) && pick(patched, 'userName') === current.userName) {
    const primary = emails.find((e) => isObject(e) && e.primary === true) ?? emails[0];
    const value = isObject(primary) ? primary.value : undefined;
    if (typeof value === 'string' && value.trim().toLowerCase() !== current.userName)
      patched.userName = value;
  }
  return applyUser(
    ctx,
    actor,
    base,
    user,
    externalId,
    readUser({ ...patched, schemas: [USER_SCHEMA] }),
    'patch',
  );
}

export async function deleteScimUser(ctx: AppContext, actor: ScimActor, id: string) {
  need(actor, 'users.delete');
  const userId = userIdOf(id);
  await deleteUser(ctx, actor, userId);
}

// ---------- groups (roles) ----------

async function membersOf(tx: Executor, tenantId: number, roleId: string): Promise<Member[]> {
  const ids = await roleHolderIds(tx, tenantId, roleId);
  const out: Member[] = [];
  for (const uid of ids.sort((a, b) => a - b)) {
    const u = await userById(tx, tenantId, uid);
    if (u) out.push({ value: String(uid), display: u.email });
  }
  return out;
}

async function loadRole(ctx: AppContext, tenantId: number, id: string): Promise<RoleRow> {
  const roleId = roleIdOf(id);
  const role = await ctx.database.withTenant(tenantId, (tx) => roleById(tx, tenantId, roleId));
  if (!role) throw scimNotFound('Group');
  return role;
}

export async function getScimGroup(
  ctx: AppContext,
  actor: ScimActor,
  base: string,
  id: string,
  withMembers: boolean,
) {
  need(actor, 'roles.read');
  const role = await loadRole(ctx, actor.tenantId, id);
  const members = withMembers
    ? await ctx.database.withTenant(actor.tenantId, (tx) => membersOf(tx, actor.tenantId, role.id))
    : null;
  return toScimGroup(base, role, members);
}

export async function listScimGroups(
  ctx: AppContext,
  actor: ScimActor,
  base: string,
  q: { filter?: string; startIndex?: string; count?: string },
  withMembers: boolean,
) {
  need(actor, 'roles.read');
  const { startIndex, count } = pageOf(q);
  const filter = q.filter?.trim() ? parseGroupFilter(q.filter) : null;
  const { tenantId } = actor;
  return ctx.database.withTenant(tenantId, async (tx) => {
    let roles: RoleRow[];
    if (!filter) roles = await tenantRoles(tx, tenantId);
    else if (filter.attr === 'id') {
      const r = UUID.test(filter.value) ? await roleById(tx, tenantId, filter.value.toLowerCase()) : null;
      roles = r ? [r] : [];
    } else {
      // displayName and externalId both name a role code (codes are lower-case).
      const r = await roleByCode(tx, tenantId, filter.value.trim().toLowerCase());
      roles = r ? [r] : [];
    }
    const page = roles.slice(startIndex - 1, startIndex - 1 + count);
    const out = [];
    for (const r of page)
      out.push(toScimGroup(base, r, withMembers ? await membersOf(tx, tenantId, r.id) : null));
    return listResponse(out, roles.length, startIndex);
  });
}

function memberIds(members: unknown, field: string): number[] {
  if (members === undefined || members === null) return [];
  if (!Array.isArray(members)) throw invalidValue(`${field} must be an array`);
  return members.map((m, i) => {
    const v = isObject(m) ? m.value : undefined;
    const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : '';
    if (!/^\d{1,10}$/.test(s) || Number(s) < 1 || Number(s) > 2_147_483_647)
      throw invalidValue(`${field}[${i}].value must be a user id`);
    return Number(s);
  });
}

/** Grants the role to `add` and takes it from `remove` through the RBAC service (each change audited), all or nothing. */
async function changeMembers(ctx: AppContext, actor: ScimActor, role: RoleRow, target: number[]) {
  need(actor, 'roles.assign');
  const { tenantId } = actor;
  const wanted = new Set(target);
  const current = new Set(
    await ctx.database.withTenant(tenantId, (tx) => roleHolderIds(tx, tenantId, role.id)),
  );
  const add = [...wanted].filter((u) => !current.has(u));
  const remove = [...current].filter((u) => !wanted.has(u));
  if (add.length === 0 && remove.length === 0) return;
  // One transaction for the whole push: a foreign member id (400) or a refused grant leaves nothing half-applied.
  // Assigning and removing apply role assignment's own rule (assertCanGrantRole) with the key's permissions, and
  // it is checked before any member changes: a push never grants a role the key's role (or owner) could not.
  try {
    await auditRefusals(ctx, actor, 'scim.group_push', () =>
      ctx.database.withTenant(tenantId, async (tx) => {
        await assertCanGrantRole(tx, actor, role.id);
        for (const uid of add)
          if (!(await userById(tx, tenantId, uid)))
            throw invalidValue(`member ${uid} is not a user of this tenant`);
        for (const uid of add) await assignRoleInTx(ctx, tx, actor, uid, { role_id: role.id });
        for (const uid of remove) await removeRoleInTx(ctx, tx, actor, uid, role.id);
      }),
    );
  } catch (err) {
    throw grantRefusal(err, role) ?? err;
  }
  await bumpPermissionVersion(ctx, tenantId);
}

/**
 * RFC 7644 has no "forbidden" scimType; the contract is 403 `mutability`: the group's membership cannot be
 * changed by this credential. Only the grant rule's refusal is turned into it (a missing permission stays a plain 403).
 */
function grantRefusal(err: unknown, role: RoleRow): ScimError | null {
  if (!(err instanceof AppError) || err.statusCode !== 403 || err.code !== 'PERMISSION_DENIED') return null;
  const perms = (err.details?.permissions as string[] | undefined) ?? [];
  return new ScimError(
    403,
    `the API key cannot grant the role ${role.code}: it does not hold ${perms.join(', ') || 'what the role grants'}`,
    'mutability',
  );
}

function assertSameDisplayName(role: RoleRow, displayName: unknown) {
  if (displayName === undefined) return;
  if (typeof displayName !== 'string' || displayName.trim().toLowerCase() !== role.code)
    throw new ScimError(400, 'displayName names the role and cannot change', 'mutability');
}

/**
 * POST /Groups: groups are the tenant's roles, so a group is never created: an existing role named by displayName
 * (or else externalId) is adopted (201, members applied); an unknown role code is a 400 invalidValue.
 */
export async function createScimGroup(ctx: AppContext, actor: ScimActor, base: string, body: unknown) {
  need(actor, 'roles.read');
  if (!isObject(body)) throw invalidSyntax('the body must be a JSON object');
  const names = [pick(body, 'displayName'), pick(body, 'externalId')].filter(
    (v): v is string => typeof v === 'string' && v.trim() !== '',
  );
  if (names.length === 0) throw invalidValue('displayName is required');
  const { tenantId } = actor;
  const role = await ctx.database.withTenant(tenantId, async (tx) => {
    for (const n of names) {
      if (n.length > 100) continue;
      const r = await roleByCode(tx, tenantId, n.trim().toLowerCase());
      if (r) return r;
    }
    return null;
  });
  if (!role)
    throw invalidValue(
      `no role with the code ${JSON.stringify(names[0])}: create the role in MassaCorp first`,
    );
  const members = pick(body, 'members');
  if (members !== undefined) {
    const ids = memberIds(members, 'members');
    // Adopting keeps the current holders; the members sent are added.
    const current = await ctx.database.withTenant(tenantId, (tx) => roleHolderIds(tx, tenantId, role.id));
    if (ids.some((u) => !current.includes(u)))
      await changeMembers(ctx, actor, role, [...new Set([...current, ...ids])]);
  }
  return getScimGroup(ctx, actor, base, role.id, true);
}

export async function replaceScimGroup(
  ctx: AppContext,
  actor: ScimActor,
  base: string,
  id: string,
  body: unknown,
) {
  need(actor, 'roles.assign');
  // The answer is the group as it now stands: refused up front, not after the change is saved.
  need(actor, 'roles.read');
  if (!isObject(body)) throw invalidSyntax('the body must be a JSON object');
  const role = await loadRole(ctx, actor.tenantId, id);
  assertSameDisplayName(role, pick(body, 'displayName'));
  await changeMembers(ctx, actor, role, memberIds(pick(body, 'members'), 'members'));
  return getScimGroup(ctx, actor, base, role.id, true);
}

export async function patchScimGroup(ctx: AppContext, actor: ScimActor, id: string, body: unknown) {
  need(actor, 'roles.assign');
  const ops = patchOperations(body);
  const role = await loadRole(ctx, actor.tenantId, id);
  const current = await ctx.database.withTenant(actor.tenantId, (tx) =>
    roleHolderIds(tx, actor.tenantId, role.id),
  );
  const resource = {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
    id: role.id,
    displayName: role.code,
    members: current.map((u) => ({ value: String(u) })),
  };
  // Removing a member who is not one is a no-op (IdPs retry): such an operation is skipped, not refused.
  let patched: Record<string, unknown> = resource;
  for (const op of ops) {
    const memberTarget = op.op === 'remove' && typeof op.path === 'string' && /^members\b/i.test(op.path);
    try {
      patched = applyPatch(patched as typeof resource, [op]) as Record<string, unknown>;
    } catch (err) {
      if (!memberTarget) throw err;
    }
  }
  assertSameDisplayName(role, pick(patched, 'displayName'));
  await changeMembers(ctx, actor, role, memberIds(pick(patched, 'members') ?? [], 'members'));
}

/** DELETE /Groups/{id}: the IdP stopped pushing the group: every member loses the role; the role stays. */
export async function deleteScimGroup(ctx: AppContext, actor: ScimActor, id: string) {
  need(actor, 'roles.assign');
  const role = await loadRole(ctx, actor.tenantId, id);
  await changeMembers(ctx, actor, role, []);
}
