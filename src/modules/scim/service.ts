/**
 * SCIM 2.0 provisioning (API.md §17.5, §20): users on top of the users module's own services, so a SCIM change is
 * the same change (same checks, same audit record, same revocations) as through /api/v1; directory groups of
 * their own, whose membership grants the roles a tenant administrator mapped them to, through the RBAC service.
 * The actor is the API key: records name it, and it acts with its owner's (or its role's) permissions.
 *
 * Lenient about what Okta and Entra ID send: op names in any case, "True"/"False" strings, PATCH without a path
 * (an object of attributes, dotted names included), both member-removal styles. PATCH bodies are applied by
 * `scim-patch` to the current representation, and the result is read back like a PUT body.
 */

import { sql } from 'drizzle-orm';
import { type ScimPatchOperation, scimPatch } from 'scim-patch';
import { writeAudit } from '../../platform/audit/writer.js';
import { validatePassword } from '../../platform/crypto/password-policy.js';
import type { Executor, Tx } from '../../platform/db/client.js';
import { AppError, notFound } from '../../platform/http/errors.js';
import {
  type Actor,
  assertCanGrantRole,
  auditRefusals,
  bumpPermissionVersion,
  grants,
  roleById,
  setGroupGrantInTx,
} from '../rbac/index.js';
import { tenantSettings } from '../tenants/index.js';
import {
  createUserInTx,
  deleteUser,
  prepareUser,
  setUserPassword,
  type UserRow,
  updateUser,
  userById,
} from '../users/index.js';
import type { ScimDeps } from './deps.js';
import { invalidSyntax, invalidValue, ScimError, scimNotFound } from './errors.js';
import {
  ENTERPRISE_SCHEMA,
  GROUP_ATTRS,
  groupFilterSql,
  sortSql,
  USER_ATTRS,
  userFilterSql,
} from './filter.js';
import { type Projection, project, wants } from './projection.js';
import * as repo from './repository.js';
import {
  DEFAULT_COUNT,
  ENTERPRISE_ATTRIBUTES,
  GROUP_SCHEMA,
  groupVersion,
  listResponse,
  MAX_COUNT,
  type Member,
  type ScimGroup,
  type ScimUser,
  STORED_NAME_ATTRIBUTES,
  STRING_USER_ATTRIBUTES,
  toScimGroup,
  toScimUser,
  USER_SCHEMA,
  userVersion,
} from './resources.js';
import type { DirectoryGroupRow } from './tables.js';

export type ScimActor = Actor;

/** What a list or search asks: RFC 7644 §3.4.2 query parameters (or a SearchRequest's fields). */
export interface ListQuery {
  filter?: string;
  startIndex?: string;
  count?: string;
  sortBy?: string;
  sortOrder?: string;
  attributes?: string;
  excludedAttributes?: string;
}

/** The key's owner (or role) must hold the permission the change needs. */
function need(actor: ScimActor, permission: string) {
  if (!grants(actor.permissions, permission))
    throw new ScimError(403, `the API key does not hold the permission ${permission}`);
}

/** If-Match (RFC 7644 §3.14): `*` or one of the listed (weak) ETags, else 412. */
export function checkIfMatch(ifMatch: string | undefined, current: string) {
  if (ifMatch === undefined || ifMatch.trim() === '' || ifMatch.trim() === '*') return;
  const tags = ifMatch.split(',').map((t) => t.trim().replace(/^W\//, ''));
  if (!tags.includes(current.replace(/^W\//, '')))
    throw new ScimError(412, 'the resource changed since that version (If-Match)');
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

/** A multi-valued attribute of {value, type?, primary?, display?} (emails, phoneNumbers). */
function multiValued(v: unknown, field: string, check?: (value: string) => boolean) {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw invalidValue(`${field} must be an array`);
  if (v.length > 20) throw invalidValue(`${field} has more than 20 values`);
  const out = v.map((e, i) => {
    if (!isObject(e)) throw invalidValue(`${field}[${i}] must be an object`);
    const value = optString(pick(e, 'value'), `${field}[${i}].value`, 254);
    if (!value) throw invalidValue(`${field}[${i}].value is required`);
    if (check && !check(value)) throw invalidValue(`${field}[${i}].value is not valid`);
    const type = optString(pick(e, 'type'), `${field}[${i}].type`, 50);
    const display = optString(pick(e, 'display'), `${field}[${i}].display`, 254);
    const primaryRaw = pick(e, 'primary');
    const primary =
      primaryRaw === undefined || primaryRaw === null
        ? undefined
        : toBool(primaryRaw, `${field}[${i}].primary`);
    return {
      value,
      ...(type ? { type } : {}),
      ...(display ? { display } : {}),
      ...(primary !== undefined ? { primary } : {}),
    };
  });
  if (out.filter((e) => e.primary === true).length > 1)
    throw invalidValue(`${field} has more than one primary value`);
  return out.length > 0 ? out : undefined;
}

interface UserInput {
  userName: string;
  email: string;
  givenName: string | null | undefined;
  familyName: string | null | undefined;
  active: boolean | undefined;
  externalId: string | null | undefined;
  password: string | undefined;
  /** The readWrite attributes stored as written. */
  attributes: Record<string, unknown>;
}

/**
 * A full User resource (POST, PUT, or a PATCH's result) read into what this service stores. The sign-in email is
 * the primary email, else the first `work` one, else userName when it is an address; neither is a 400.
 */
function readUser(body: unknown): UserInput {
  if (!isObject(body)) throw invalidSyntax('the body must be a JSON object');
  const userName = optString(pick(body, 'userName'), 'userName', 255);
  if (!userName) throw invalidValue('userName is required');
  const emails = multiValued(pick(body, 'emails'), 'emails', (v) => EMAIL.test(v.toLowerCase()));
  const chosen =
    emails?.find((e) => e.primary === true) ?? emails?.find((e) => e.type?.toLowerCase() === 'work');
  const email = (chosen?.value ?? (EMAIL.test(userName) ? userName : '')).toLowerCase();
  if (!email)
    throw invalidValue(
      'no sign-in email: send emails (a primary or a work address) or an email address as userName',
    );
  const name = pick(body, 'name');
  if (name !== undefined && name !== null && !isObject(name)) throw invalidValue('name must be an object');
  const n = isObject(name) ? name : {};
  const activeRaw = pick(body, 'active');
  const password = pick(body, 'password');
  if (password !== undefined && password !== null && (typeof password !== 'string' || password.length > 1024))
    throw invalidValue('password must be a string');

  const attributes: Record<string, unknown> = {};
  const storedName: Record<string, unknown> = {};
  for (const k of STORED_NAME_ATTRIBUTES) {
    const v = optString(pick(n, k), `name.${k}`, 255);
    if (v) storedName[k] = v;
  }
  if (Object.keys(storedName).length > 0) attributes.name = storedName;
  for (const k of STRING_USER_ATTRIBUTES) {
    const v = optString(pick(body, k), k, 255);
    if (v) attributes[k] = v;
  }
  const phones = multiValued(pick(body, 'phoneNumbers'), 'phoneNumbers');
  if (phones) attributes.phoneNumbers = phones;
  if (emails) attributes.emails = emails;
  const enterprise = readEnterprise(body);
  if (enterprise) attributes[ENTERPRISE_SCHEMA] = enterprise;
  return {
    userName,
    email,
    givenName: name === null ? null : optString(pick(n, 'givenName'), 'name.givenName', 100),
    familyName: name === null ? null : optString(pick(n, 'familyName'), 'name.familyName', 100),
    active: activeRaw === undefined || activeRaw === null ? undefined : toBool(activeRaw, 'active'),
    externalId: optString(pick(body, 'externalId'), 'externalId', 255),
    password: typeof password === 'string' ? password : undefined,
    attributes,
  };
}

/** The enterprise extension: under its URN, or as `urn:…:User:attribute` keys (a PATCH without path). */
function readEnterprise(body: Record<string, unknown>): Record<string, unknown> | null {
  const raw = pick(body, ENTERPRISE_SCHEMA);
  if (raw !== undefined && raw !== null && !isObject(raw))
    throw invalidValue(`${ENTERPRISE_SCHEMA} must be an object`);
  const src: Record<string, unknown> = { ...(isObject(raw) ? raw : {}) };
  const prefix = `${ENTERPRISE_SCHEMA.toLowerCase()}:`;
  for (const [k, v] of Object.entries(body))
    if (k.toLowerCase().startsWith(prefix)) src[k.slice(prefix.length)] = v;
  const out: Record<string, unknown> = {};
  for (const k of ENTERPRISE_ATTRIBUTES) {
    const v = pick(src, k);
    if (k === 'manager') {
      if (v === undefined || v === null || v === '') continue;
      const m = isObject(v) ? v : { value: v };
      const value = optString(pick(m, 'value'), 'manager.value', 255);
      if (!value) continue;
      const ref = optString(pick(m, '$ref'), 'manager.$ref', 1000);
      out.manager = { value, ...(ref ? { $ref: ref } : {}) };
      continue;
    }
    const s = optString(v, k, 255);
    if (s) out[k] = s;
  }
  return Object.keys(out).length > 0 ? out : null;
}

/** 400 invalidValue naming every rule of the tenant's password policy the password breaks. */
async function checkPassword(ctx: ScimDeps, tenantId: number, password: string, email: string) {
  const policy = (await tenantSettings(ctx, tenantId)).password_policy;
  const reasons = validatePassword(password, email, policy);
  if (reasons.length > 0)
    throw invalidValue(`password does not satisfy the tenant's password policy: ${reasons.join(', ')}`);
  return policy;
}

/** Users and keys have integer ids; anything else names no user (404, as RFC 7644 wants, not 422). */
function userIdOf(id: string): number {
  if (!/^\d{1,10}$/.test(id) || Number(id) < 1 || Number(id) > 2_147_483_647) throw scimNotFound('User');
  return Number(id);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
function groupIdOf(id: string): string {
  if (!UUID.test(id)) throw scimNotFound('Group');
  return id.toLowerCase();
}

/** startIndex (1-based, below 1 is 1) and count (0..MAX_COUNT, default DEFAULT_COUNT), RFC 7644 §3.4.2.4. */
export function pageOf(q: { startIndex?: string; count?: string }): { startIndex: number; count: number } {
  const int = (v: string | undefined, field: string) => {
    if (v === undefined || v === '') return undefined;
    if (!/^-?\d{1,9}$/.test(String(v).trim())) throw invalidValue(`${field} must be an integer`);
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
  return toScimUser(base, u, await repo.profileOf(tx, u.tenantId, u.id));
}

async function assertUnique(tx: Executor, tenantId: number, input: UserInput, userId: number | null) {
  if (input.externalId) {
    const holder = await repo.userIdByExternalId(tx, tenantId, input.externalId);
    if (holder !== null && holder !== userId)
      throw new ScimError(409, 'externalId is already used by another user', 'uniqueness');
  }
  const named = await repo.userIdByUserName(tx, tenantId, input.userName);
  if (named !== null && named !== userId)
    throw new ScimError(409, 'userName is already used by another user', 'uniqueness');
}

export async function createScimUser(ctx: ScimDeps, actor: ScimActor, base: string, body: unknown) {
  need(actor, 'users.write');
  const input = readUser(body);
  const { tenantId } = actor;
  const policy = input.password ? await checkPassword(ctx, tenantId, input.password, input.email) : null;
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
    await assertUnique(tx, tenantId, input, null);
    const user = await createUserInTx(ctx, tx, tenantId, prepared, {
      source: 'scim',
      audit: actor.audit,
      metadata: { external_id: input.externalId ?? null, password_set: input.password !== undefined },
    });
    await repo.saveProfile(tx, tenantId, user.id, {
      externalId: input.externalId ?? null,
      userName: input.userName,
      attributes: input.attributes,
    });
    return scimUserOf(tx, base, user);
  });
}

export async function getScimUser(ctx: ScimDeps, actor: ScimActor, base: string, id: string) {
  need(actor, 'users.read');
  const userId = userIdOf(id);
  return ctx.database.withTenant(actor.tenantId, async (tx) => {
    const u = await userById(tx, actor.tenantId, userId);
    if (!u) throw scimNotFound('User');
    return scimUserOf(tx, base, u);
  });
}

export async function listScimUsers(
  ctx: ScimDeps,
  actor: ScimActor,
  base: string,
  q: ListQuery,
  projection: Projection,
) {
  need(actor, 'users.read');
  const { startIndex, count } = pageOf(q);
  const where = q.filter?.trim() ? userFilterSql(q.filter) : null;
  const order = sortSql(q.sortBy, q.sortOrder, USER_ATTRS, [USER_SCHEMA, ENTERPRISE_SCHEMA], sql`u.id`);
  const { tenantId } = actor;
  return ctx.database.withTenant(tenantId, async (tx) => {
    const { ids, total } = await repo.filterUserIds(tx, tenantId, {
      where,
      orderBy: order,
      offset: startIndex - 1,
      limit: count,
    });
    const profiles = await repo.profilesOf(tx, tenantId, ids);
    const out = [];
    for (const uid of ids) {
      const u = await userById(tx, tenantId, uid);
      if (u) out.push(project(toScimUser(base, u, profiles.get(uid) ?? null), projection));
    }
    return listResponse(out, total, startIndex);
  });
}

/** A PUT or a PATCH of one resource, as the route hands it over (RFC 7644 §3.5; If-Match, §3.14). */
export interface ScimChange {
  actor: ScimActor;
  /** The SCIM base URL, for the resource's meta.location. */
  base: string;
  id: string;
  body: unknown;
  ifMatch?: string;
}

/** Applies a full new state (PUT, or a PATCH's result) through the users module's update. */
async function applyUser(
  ctx: ScimDeps,
  actor: ScimActor,
  base: string,
  current: UserRow,
  profile: repo.ScimProfile | null,
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
    mode === 'put' && input.externalId === undefined
      ? (profile?.externalId ?? null)
      : (input.externalId ?? null);
  const next = { externalId, userName: input.userName, attributes: input.attributes };
  const profileChanged =
    !profile ||
    next.externalId !== profile.externalId ||
    next.userName !== profile.userName ||
    JSON.stringify(next.attributes) !== JSON.stringify(profile.attributes);
  let passwordHash: string | null = null;
  if (input.password) {
    await checkPassword(ctx, tenantId, input.password, input.email);
    passwordHash = await ctx.hasher.hash(input.password);
  }
  if (Object.keys(body).length > 0 || profileChanged || passwordHash) {
    await updateUser(ctx, actor, current.id, body, {
      inTx: async (tx, before) => {
        // If-Match was checked against this state: a change committed since is a 412, not a lost update.
        if (before.updatedAt.getTime() !== current.updatedAt.getTime())
          throw new ScimError(412, 'the resource changed while being updated');
        await assertUnique(tx, tenantId, { ...input, externalId }, current.id);
        if (profileChanged) await repo.saveProfile(tx, tenantId, current.id, next);
        if (passwordHash) await setUserPassword(tx, tenantId, current.id, passwordHash);
        return {
          via: 'scim',
          ...(externalId !== (profile?.externalId ?? null)
            ? { external_id: { before: profile?.externalId ?? null, after: externalId } }
            : {}),
          ...(profileChanged ? { scim_attributes_changed: true } : {}),
          ...(passwordHash ? { password_set: true } : {}),
        };
      },
    });
  }
  return ctx.database.withTenant(tenantId, async (tx) => {
    const u = await userById(tx, tenantId, current.id);
    if (!u) throw scimNotFound('User');
    return scimUserOf(tx, base, u);
  });
}

async function loadUser(ctx: ScimDeps, tenantId: number, id: string) {
  const userId = userIdOf(id);
  return ctx.database.withTenant(tenantId, async (tx) => {
    const u = await userById(tx, tenantId, userId);
    if (!u) throw scimNotFound('User');
    return { user: u, profile: await repo.profileOf(tx, tenantId, u.id) };
  });
}

export async function replaceScimUser(ctx: ScimDeps, { actor, base, id, body, ifMatch }: ScimChange) {
  need(actor, 'users.write');
  const { user, profile } = await loadUser(ctx, actor.tenantId, id);
  checkIfMatch(ifMatch, userVersion(user, profile));
  return applyUser(ctx, actor, base, user, profile, readUser(body), 'put');
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

export async function patchScimUser(ctx: ScimDeps, { actor, base, id, body, ifMatch }: ScimChange) {
  need(actor, 'users.write');
  const ops = patchOperations(body);
  const { user, profile } = await loadUser(ctx, actor.tenantId, id);
  checkIfMatch(ifMatch, userVersion(user, profile));
  const current = toScimUser(base, user, profile) as unknown as Record<string, unknown>;
  // Without stored emails, the answer's single email is derived from the account: a PATCH of emails edits it.
  const patched = applyPatch(current as { schemas: string[] }, ops) as unknown as Record<string, unknown>;
  // `active` cannot be removed: removing it would leave the account as it is (RFC 7644 §3.5.2.2 mutability).
  if (pick(patched, 'active') === undefined)
    throw new ScimError(400, 'active cannot be removed: replace it with false to deactivate', 'mutability');
  if (pick(patched, 'password') === undefined) {
    // scim-patch may store a path-less password under its own key: read it from the ops.
    for (const op of ops)
      if (op.op !== 'remove' && typeof op.path === 'string' && op.path.toLowerCase() === 'password')
        patched.password = op.value;
  }
  return applyUser(ctx, actor, base, user, profile, readUser(patched), 'patch');
}

export async function deleteScimUser(ctx: ScimDeps, actor: ScimActor, id: string, ifMatch?: string) {
  need(actor, 'users.delete');
  const { user, profile } = await loadUser(ctx, actor.tenantId, id);
  checkIfMatch(ifMatch, userVersion(user, profile));
  // Leaving the user's groups first takes away what they granted (audited) before the user goes.
  await ctx.database.withTenant(actor.tenantId, async (tx) => {
    const groups = await tx.execute<{ group_id: string }>(
      sql`select group_id from directory_group_members where tenant_id = ${actor.tenantId} and user_id = ${user.id}`,
    );
    for (const g of groups.rows) await changeMembersInTx(ctx, tx, actor, String(g.group_id), [], [user.id]);
  });
  await deleteUser(ctx, actor, user.id);
}

// ---------- directory groups ----------

async function membersOf(tx: Executor, tenantId: number, groupId: string): Promise<Member[]> {
  const ids = await repo.groupMemberIds(tx, tenantId, groupId);
  const names = await repo.userNamesOf(tx, tenantId, ids);
  return ids.map((uid) => ({ value: String(uid), ...(names.has(uid) ? { display: names.get(uid)! } : {}) }));
}

async function groupResource(
  tx: Executor,
  tenantId: number,
  base: string,
  g: DirectoryGroupRow,
  withMembers: boolean,
): Promise<ScimGroup> {
  return toScimGroup(base, g, withMembers ? await membersOf(tx, tenantId, g.id) : null);
}

async function loadGroup(ctx: ScimDeps, tenantId: number, id: string): Promise<DirectoryGroupRow> {
  const groupId = groupIdOf(id);
  const g = await ctx.database.withTenant(tenantId, (tx) => repo.groupById(tx, tenantId, groupId));
  if (!g) throw scimNotFound('Group');
  return g;
}

export async function getScimGroup(
  ctx: ScimDeps,
  actor: ScimActor,
  base: string,
  id: string,
  projection: Projection,
) {
  need(actor, 'directory.read');
  const g = await loadGroup(ctx, actor.tenantId, id);
  return ctx.database.withTenant(actor.tenantId, async (tx) =>
    project(await groupResource(tx, actor.tenantId, base, g, wants(projection, 'members')), projection),
  );
}

export async function listScimGroups(
  ctx: ScimDeps,
  actor: ScimActor,
  base: string,
  q: ListQuery,
  projection: Projection,
) {
  need(actor, 'directory.read');
  const { startIndex, count } = pageOf(q);
  const where = q.filter?.trim() ? groupFilterSql(q.filter) : null;
  const order = sortSql(q.sortBy, q.sortOrder, GROUP_ATTRS, [GROUP_SCHEMA], sql`g.created_at, g.id`);
  const { tenantId } = actor;
  const withMembers = wants(projection, 'members');
  return ctx.database.withTenant(tenantId, async (tx) => {
    const { ids, total } = await repo.filterGroupIds(tx, tenantId, {
      where,
      orderBy: order,
      offset: startIndex - 1,
      limit: count,
    });
    const out = [];
    for (const gid of ids) {
      const g = await repo.groupById(tx, tenantId, gid);
      if (g) out.push(project(await groupResource(tx, tenantId, base, g, withMembers), projection));
    }
    return listResponse(out, total, startIndex);
  });
}

function memberIds(members: unknown, field: string): number[] {
  if (members === undefined || members === null) return [];
  if (!Array.isArray(members)) throw invalidValue(`${field} must be an array`);
  if (members.length > 10_000) throw new ScimError(400, 'too many members in one request', 'tooMany');
  return [
    ...new Set(
      members.map((m, i) => {
        const v = isObject(m) ? pick(m, 'value') : undefined;
        const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : '';
        if (!/^\d{1,10}$/.test(s) || Number(s) < 1 || Number(s) > 2_147_483_647)
          throw invalidValue(`${field}[${i}].value must be a user id`);
        return Number(s);
      }),
    ),
  ];
}

/**
 * RFC 7644 has no "forbidden" scimType; the contract is 403 `mutability`: the group's membership cannot be changed
 * by this credential. Only the grant rule's refusal is turned into it (a missing permission stays a plain 403).
 */
function grantRefusal(err: unknown, what: string): ScimError | null {
  if (!(err instanceof AppError) || err.statusCode !== 403 || err.code !== 'PERMISSION_DENIED') return null;
  const perms = (err.details?.permissions as string[] | undefined) ?? [];
  return new ScimError(
    403,
    `the API key cannot grant ${what}: it does not hold ${perms.join(', ') || 'what the role grants'}`,
    'mutability',
  );
}

/**
 * Adds and removes members of a group, and gives or takes the group's mapped roles accordingly through the RBAC
 * service: a role goes only when no other group of the user grants it and it was not assigned directly. Before any
 * change, the actor must be able to grant each mapped role (the rule of role assignment).
 */
async function changeMembersInTx(
  ctx: ScimDeps,
  tx: Tx,
  actor: ScimActor,
  groupId: string,
  add: number[],
  remove: number[],
): Promise<boolean> {
  const { tenantId } = actor;
  const g = await repo.lockGroup(tx, tenantId, groupId);
  if (!g) throw scimNotFound('Group');
  const current = new Set(await repo.groupMemberIds(tx, tenantId, groupId));
  const toAdd = add.filter((u) => !current.has(u));
  const toRemove = remove.filter((u) => current.has(u));
  if (toAdd.length === 0 && toRemove.length === 0) return false;
  const known = await repo.userNamesOf(tx, tenantId, toAdd);
  for (const uid of toAdd)
    if (!known.has(uid)) throw invalidValue(`member ${uid} is not a user of this tenant`);
  const roleIds = await repo.groupRoleIds(tx, tenantId, groupId);
  if (roleIds.length > 0) {
    need(actor, 'roles.assign');
    for (const r of roleIds) await assertCanGrantRole(tx, actor, r);
  }
  await repo.addGroupMembers(tx, tenantId, groupId, toAdd);
  await repo.removeGroupMembers(tx, tenantId, groupId, toRemove);
  await repo.touchGroup(tx, tenantId, groupId, {});
  await resyncGrants(ctx, tx, actor, [...toAdd, ...toRemove], roleIds, g);
  await writeAudit(tx, tenantId, actor.audit, {
    eventType: 'directory.group_members_changed',
    resourceType: 'directory_group',
    resourceId: groupId,
    metadata: { added: toAdd, removed: toRemove, role_ids: roleIds },
  });
  return roleIds.length > 0;
}

/** Recomputes, for each user and role, whether one of the user's groups still grants it. */
async function resyncGrants(
  ctx: ScimDeps,
  tx: Tx,
  actor: ScimActor,
  userIds: number[],
  roleIds: string[],
  g: DirectoryGroupRow,
) {
  if (roleIds.length === 0) return;
  for (const uid of userIds) {
    const held = await repo.rolesFromGroups(tx, actor.tenantId, uid, roleIds);
    for (const r of roleIds)
      await setGroupGrantInTx(ctx, tx, actor, uid, r, held.has(r), { id: g.id, display_name: g.displayName });
  }
}

/** One push in one transaction, refusals audited (access.change_refused) and turned into SCIM errors. */
async function push<T>(
  ctx: ScimDeps,
  actor: ScimActor,
  fn: (tx: Tx) => Promise<{ out: T; grants: boolean }>,
) {
  try {
    const { out, grants: changed } = await auditRefusals(ctx, actor, 'scim.group_push', () =>
      ctx.database.withTenant(actor.tenantId, fn),
    );
    if (changed) await bumpPermissionVersion(ctx, actor.tenantId);
    return out;
  } catch (err) {
    throw grantRefusal(err, "the group's roles") ?? err;
  }
}

function readGroup(body: unknown) {
  if (!isObject(body)) throw invalidSyntax('the body must be a JSON object');
  const displayName = optString(pick(body, 'displayName'), 'displayName', 255);
  if (!displayName) throw invalidValue('displayName is required');
  return {
    displayName,
    externalId: optString(pick(body, 'externalId'), 'externalId', 255),
    members: pick(body, 'members'),
  };
}

async function assertNameFree(tx: Executor, tenantId: number, displayName: string, groupId: string | null) {
  const holder = await repo.groupIdByName(tx, tenantId, displayName);
  if (holder !== null && holder !== groupId)
    throw new ScimError(409, 'a group with this displayName already exists', 'uniqueness');
}

/** POST /Groups: a new directory group (mapped to no role until a tenant administrator maps it). */
export async function createScimGroup(ctx: ScimDeps, actor: ScimActor, base: string, body: unknown) {
  need(actor, 'directory.write');
  const input = readGroup(body);
  const ids = memberIds(input.members, 'members');
  const { tenantId } = actor;
  return push(ctx, actor, async (tx) => {
    await assertNameFree(tx, tenantId, input.displayName, null);
    const g = await repo.insertGroup(tx, tenantId, {
      displayName: input.displayName,
      externalId: input.externalId ?? null,
    });
    await writeAudit(tx, tenantId, actor.audit, {
      eventType: 'directory.group_created',
      resourceType: 'directory_group',
      resourceId: g.id,
      metadata: { display_name: g.displayName, external_id: g.externalId, via: 'scim' },
    });
    await changeMembersInTx(ctx, tx, actor, g.id, ids, []);
    const now = (await repo.groupById(tx, tenantId, g.id))!;
    return { out: await groupResource(tx, tenantId, base, now, true), grants: false };
  });
}

/** Renames or changes the externalId of a locked group, audited; a taken displayName is a 409. */
async function renameInTx(
  tx: Tx,
  actor: ScimActor,
  g: DirectoryGroupRow,
  displayName: string,
  externalId: string | null,
) {
  if (displayName === g.displayName && externalId === g.externalId) return;
  await assertNameFree(tx, actor.tenantId, displayName, g.id);
  await repo.touchGroup(tx, actor.tenantId, g.id, { displayName, externalId });
  await writeAudit(tx, actor.tenantId, actor.audit, {
    eventType: 'directory.group_updated',
    resourceType: 'directory_group',
    resourceId: g.id,
    metadata: {
      before: { display_name: g.displayName, external_id: g.externalId },
      after: { display_name: displayName, external_id: externalId },
      via: 'scim',
    },
  });
}

export async function replaceScimGroup(ctx: ScimDeps, { actor, base, id, body, ifMatch }: ScimChange) {
  need(actor, 'directory.write');
  const groupId = groupIdOf(id);
  const input = readGroup(body);
  // The member list is checked before anything is locked: a malformed PUT is a 400 whatever the group.
  memberIds(input.members, 'members');
  return push(ctx, actor, async (tx) => {
    const g = await lockForChange(tx, actor.tenantId, groupId, ifMatch);
    return saveGroup(ctx, tx, actor, base, g, input, await repo.groupMemberIds(tx, actor.tenantId, groupId));
  });
}

/** The group, locked for a change, once the caller's If-Match holds (404 when there is no such group). */
async function lockForChange(tx: Tx, tenantId: number, groupId: string, ifMatch: string | undefined) {
  const g = await repo.lockGroup(tx, tenantId, groupId);
  if (!g) throw scimNotFound('Group');
  checkIfMatch(ifMatch, groupVersion(g));
  return g;
}

/**
 * Saves a PUT or a PATCH the same way: the name, then exactly the members `input` lists (`current` are the
 * members before), answered with the group as it now is.
 */
async function saveGroup(
  ctx: ScimDeps,
  tx: Tx,
  actor: ScimActor,
  base: string,
  g: DirectoryGroupRow,
  input: ReturnType<typeof readGroup>,
  current: number[],
) {
  await renameInTx(tx, actor, g, input.displayName, input.externalId ?? null);
  const ids = memberIds(input.members, 'members');
  const grants = await changeMembersInTx(
    ctx,
    tx,
    actor,
    g.id,
    ids,
    current.filter((u) => !ids.includes(u)),
  );
  const now = (await repo.groupById(tx, actor.tenantId, g.id))!;
  return { out: await groupResource(tx, actor.tenantId, base, now, true), grants };
}

/**
 * PATCH /Groups/{id}: applied to the group's representation (members with ids only), then saved like a PUT.
 * Removing a member who is not one is a no-op (IdPs retry). Answers the group (200), or 204 when the caller
 * asked for no attributes back... RFC 7644 §3.5.2 allows either: the group is returned.
 */
export async function patchScimGroup(ctx: ScimDeps, { actor, base, id, body, ifMatch }: ScimChange) {
  need(actor, 'directory.write');
  const groupId = groupIdOf(id);
  const ops = patchOperations(body);
  const { tenantId } = actor;
  return push(ctx, actor, async (tx) => {
    const g = await lockForChange(tx, tenantId, groupId, ifMatch);
    const current = await repo.groupMemberIds(tx, tenantId, groupId);
    const resource = {
      schemas: [GROUP_SCHEMA],
      id: g.id,
      displayName: g.displayName,
      ...(g.externalId ? { externalId: g.externalId } : {}),
      members: current.map((u) => ({ value: String(u) })),
    };
    let patched: Record<string, unknown> = resource;
    for (const op of ops) {
      const memberTarget = op.op === 'remove' && typeof op.path === 'string' && /^members\b/i.test(op.path);
      try {
        patched = applyPatch(patched as typeof resource, [op]) as Record<string, unknown>;
      } catch (err) {
        if (!memberTarget) throw err;
      }
    }
    return saveGroup(ctx, tx, actor, base, g, readGroup(patched), current);
  });
}

/** DELETE /Groups/{id}: the group goes (then 404); its members lose what it alone granted them. */
export async function deleteScimGroup(ctx: ScimDeps, actor: ScimActor, id: string, ifMatch?: string) {
  need(actor, 'directory.write');
  const groupId = groupIdOf(id);
  const { tenantId } = actor;
  await push(ctx, actor, async (tx) => {
    const g = await lockForChange(tx, tenantId, groupId, ifMatch);
    const members = await repo.groupMemberIds(tx, tenantId, groupId);
    const roleIds = await repo.groupRoleIds(tx, tenantId, groupId);
    if (roleIds.length > 0 && members.length > 0) {
      need(actor, 'roles.assign');
      for (const r of roleIds) await assertCanGrantRole(tx, actor, r);
    }
    await repo.deleteGroup(tx, tenantId, groupId);
    await resyncGrants(ctx, tx, actor, members, roleIds, g);
    await writeAudit(tx, tenantId, actor.audit, {
      eventType: 'directory.group_deleted',
      resourceType: 'directory_group',
      resourceId: groupId,
      metadata: { display_name: g.displayName, members: members.length, role_ids: roleIds, via: 'scim' },
    });
    return { out: undefined, grants: roleIds.length > 0 && members.length > 0 };
  });
}

// ---------- /api/v1/directory (tenant administrators) ----------

function groupRead<E extends Record<string, unknown>>(g: DirectoryGroupRow, extra: E) {
  return {
    id: g.id,
    display_name: g.displayName,
    external_id: g.externalId,
    created_at: g.createdAt.toISOString(),
    updated_at: g.updatedAt.toISOString(),
    ...extra,
  };
}

export async function listDirectoryGroups(
  ctx: ScimDeps,
  tenantId: number,
  q: { search?: string; cursor?: string; limit?: number },
) {
  const limit = q.limit ?? 50;
  return ctx.database.withTenant(tenantId, async (tx) => {
    const rows = await repo.listGroups(tx, tenantId, {
      search: q.search,
      cursor: q.cursor,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const counts = await repo.memberCounts(
      tx,
      tenantId,
      page.map((g) => g.id),
    );
    const groups = [];
    for (const g of page)
      groups.push(
        groupRead(g, {
          member_count: counts.get(g.id) ?? 0,
          role_ids: await repo.groupRoleIds(tx, tenantId, g.id),
        }),
      );
    return { groups, next_cursor: rows.length > limit ? page[page.length - 1]!.id : null };
  });
}

async function directoryGroupFull(tx: Executor, tenantId: number, g: DirectoryGroupRow) {
  const ids = await repo.groupMemberIds(tx, tenantId, g.id);
  const names = await repo.userNamesOf(tx, tenantId, ids);
  const roles = [];
  for (const rid of await repo.groupRoleIds(tx, tenantId, g.id)) {
    const r = await roleById(tx, tenantId, rid);
    if (r) roles.push({ id: r.id, code: r.code, name: r.name });
  }
  return groupRead(g, {
    members: ids.map((uid) => ({ user_id: uid, user_name: names.get(uid) ?? null })),
    roles,
  });
}

export async function getDirectoryGroup(ctx: ScimDeps, tenantId: number, id: string) {
  return ctx.database.withTenant(tenantId, async (tx) => {
    const g = await repo.groupById(tx, tenantId, id);
    if (!g) throw notFound('directory_group');
    return directoryGroupFull(tx, tenantId, g);
  });
}

/**
 * PUT /directory/groups/{id}/roles: the roles the group's membership grants. The caller must be able to grant
 * each role added or removed (the rule of role assignment); members gain and lose them at once (audited).
 */
export async function setDirectoryGroupRoles(ctx: ScimDeps, actor: Actor, id: string, roleIds: string[]) {
  const { tenantId } = actor;
  const wanted = [...new Set(roleIds.map((r) => r.toLowerCase()))];
  const out = await auditRefusals(ctx, actor, 'directory.group_roles', () =>
    ctx.database.withTenant(tenantId, async (tx) => {
      const g = await repo.lockGroup(tx, tenantId, id);
      if (!g) throw notFound('directory_group');
      for (const r of wanted)
        if (!(await roleById(tx, tenantId, r)))
          throw new AppError(422, 'VALIDATION_ERROR', {
            errors: [{ field: 'body.role_ids', message: `unknown role ${r}` }],
          });
      const before = await repo.groupRoleIds(tx, tenantId, id);
      const changed = [
        ...wanted.filter((r) => !before.includes(r)),
        ...before.filter((r) => !wanted.includes(r)),
      ];
      for (const r of changed) await assertCanGrantRole(tx, actor, r);
      if (changed.length > 0) {
        await repo.setGroupRoleIds(tx, tenantId, id, wanted);
        await repo.touchGroup(tx, tenantId, id, {});
        const members = await repo.groupMemberIds(tx, tenantId, id);
        await resyncGrants(ctx, tx, actor, members, changed, g);
        await writeAudit(tx, tenantId, actor.audit, {
          eventType: 'directory.group_roles_changed',
          resourceType: 'directory_group',
          resourceId: id,
          metadata: { before: before, after: wanted, members: members.length },
        });
      }
      const now = (await repo.groupById(tx, tenantId, id))!;
      return { group: await directoryGroupFull(tx, tenantId, now), changed: changed.length > 0 };
    }),
  );
  if (out.changed) await bumpPermissionVersion(ctx, tenantId);
  return out.group;
}
