/**
 * API keys: creation (raw key shown once, SHA-256 stored), listing, revocation, and the authenticator that
 * turns `mc_sk_…` into a Principal on every request.
 *
 * Hot path: one indexed query by hash (system transaction, since the key does not reveal its tenant), cached in
 * process for CACHE_TTL_MS. A revocation must still hold on the next request on every replica, so revoking also
 * sets `apikey:rev:<id>` in the shared store, which the request guard reads in the same mget as the tenant
 * suspension flag (no extra round trip).
 */

import { randomBytes } from 'node:crypto';
import type { Static } from '@sinclair/typebox';
import { LRUCache } from 'lru-cache';
import { type AuditContext, SYSTEM_AUDIT_CONTEXT, writeAudit } from '../../platform/audit/writer.js';
import type { AfterCommit, ApiKeyAuthenticator, Principal } from '../../platform/context.js';
import { sha256Hex } from '../../platform/crypto/tokens.js';
import type { Executor, Tx } from '../../platform/db/client.js';
import { notFound, platformErrors, validationError } from '../../platform/http/errors.js';
import { keys } from '../../platform/store/keys.js';
import { assertCanGrantRole, grants, roleExists } from '../rbac/index.js';
import { isUserActive } from '../users/index.js';
import type { ApiKeysDeps } from './deps.js';
import { apiKeyMessage, apiKeysErrors } from './errors.js';
import * as repo from './repository.js';
import type { CreateApiKeyBody, ListQuery } from './schemas.js';
import { isOwnerDataScope, isValidScope, scopesAsPermissions, scopesNotHeld } from './scopes.js';
import type { ApiKeyRow } from './tables.js';

export const RAW_KEY_PREFIX = 'mc_sk_';
const RAW_KEY = /^mc_sk_[0-9a-f]{64}$/;
/** Shown in listings so people can tell keys apart: `mc_sk_` + 6 hex (24 bits, useless to an attacker). */
const PREFIX_LENGTH = 12;
/** How long a replica trusts its cached key row; revocations do not wait for it (store flag). */
export const CACHE_TTL_MS = 30_000;
const CACHE_MAX = 10_000;
/** Must outlive CACHE_TTL_MS by far: after it expires the replicas' caches have re-read the revoked row. */
const REVOCATION_FLAG_TTL_SECONDS = 3600;
const LAST_USED_INTERVAL_SECONDS = 60;

export function generateRawKey(): string {
  return `${RAW_KEY_PREFIX}${randomBytes(32).toString('hex')}`;
}

export function isExpired(k: Pick<ApiKeyRow, 'expiresAt'>, now = Date.now()): boolean {
  return k.expiresAt !== null && k.expiresAt.getTime() <= now;
}

/** APIKeyRead of API.md §9 (never the hash). */
export function toApiKeyRead(k: ApiKeyRow) {
  return {
    id: k.id,
    name: k.name,
    tenant_id: k.tenantId,
    key_prefix: k.keyPrefix,
    scopes: k.scopes,
    owner: k.owner,
    role_id: k.roleId,
    is_revoked: k.revokedAt !== null,
    is_expired: isExpired(k),
    expires_at: k.expiresAt?.toISOString() ?? null,
    last_used_at: k.lastUsedAt?.toISOString() ?? null,
    created_at: k.createdAt.toISOString(),
    updated_at: k.updatedAt.toISOString(),
    created_by_user_id: k.createdByUserId,
  };
}

export type CreateInput = Static<typeof CreateApiKeyBody>;

/** Who creates a key: the caller, their effective permissions (resolved by the request guard) and audit context. */
export interface KeyCreator {
  principal: Principal & { userId: number };
  permissions: ReadonlySet<string>;
  audit: AuditContext;
}

/**
 * Creates a key for the caller. The caller may only put scopes on it that they hold themselves (their
 * effective set: for a key creating a key, that is the key's own scopes ∩ its user's permissions).
 */
export async function createApiKey(ctx: ApiKeysDeps, creator: KeyCreator, input: CreateInput) {
  const { principal, permissions: held } = creator;
  const { tenantId } = principal;
  const scopes = input.scopes ?? [];
  const unknown = scopes.filter((s) => !isValidScope(s));
  if (unknown.length > 0)
    throw validationError('body.scopes', `unknown scope(s): ${unknown.join(', ')}`, 'enum');
  const expiresAt = input.expires_at ? new Date(input.expires_at) : null;
  if (expiresAt && expiresAt.getTime() <= Date.now())
    throw validationError('body.expires_at', 'must be in the future');
  const owner = input.owner ?? 'user';
  if (owner === 'tenant' && !input.role_id)
    throw validationError('body.role_id', 'required when owner is "tenant"', 'required');
  if (owner === 'user' && input.role_id)
    throw validationError('body.role_id', 'only for owner "tenant"', 'not');
  // Self scopes open the owner's own data: a tenant-owned key has no owner to act as (`scim` is no such scope).
  const selfScopes = scopes.filter(isOwnerDataScope);
  if (owner === 'tenant' && selfScopes.length > 0)
    throw validationError('body.scopes', `only for owner "user": ${selfScopes.join(', ')}`, 'not');

  // A user holds the self scopes of their own key; a key minting a key passes on only those it holds.
  const notHeld = scopesNotHeld(
    scopes,
    held,
    principal.kind === 'api_key' ? (principal.scopes ?? []) : 'all',
  );
  if (notHeld.length > 0)
    throw platformErrors.error('PERMISSION_DENIED', { reason: 'scopes_not_held', scopes: notHeld });
  // A key that outlives its creator acts with a role: only who may hand out roles may mint one.
  if (owner === 'tenant' && !grants(held, 'roles.assign') && !grants(held, 'tenants.manage')) {
    throw platformErrors.error('PERMISSION_DENIED', { permission: 'roles.assign' });
  }

  const raw = generateRawKey();
  const row = await ctx.database.withTenant(tenantId, async (tx) => {
    if (owner === 'tenant') {
      if (!(await roleExists(tx, tenantId, input.role_id!))) throw notFound('role');
      // A tenant-owned key acts with its role (in full through SCIM) and outlives its creator: minting one is
      // handing the role over, so it takes what assigning the role takes (the very same check).
      await assertCanGrantRole(
        tx,
        { tenantId, userId: principal.userId, permissions: held, audit: creator.audit },
        input.role_id!,
      );
    }
    const k = await repo.insertApiKey(tx, tenantId, {
      name: input.name,
      keyHash: sha256Hex(raw),
      keyPrefix: raw.slice(0, PREFIX_LENGTH),
      scopes,
      owner,
      userId: owner === 'user' ? principal.userId : null,
      roleId: owner === 'tenant' ? input.role_id! : null,
      createdByUserId: principal.userId,
      expiresAt,
    });
    await writeAudit(tx, tenantId, creator.audit, {
      eventType: 'api_key.created',
      resourceType: 'api_key',
      resourceId: k.id,
      metadata: {
        name: k.name,
        key_prefix: k.keyPrefix,
        scopes,
        owner,
        role_id: k.roleId,
        expires_at: k.expiresAt?.toISOString() ?? null,
      },
    });
    return k;
  });
  return {
    id: row.id,
    name: row.name,
    raw_key: raw,
    key_prefix: row.keyPrefix,
    scopes: row.scopes,
    owner: row.owner,
    role_id: row.roleId,
    expires_at: row.expiresAt?.toISOString() ?? null,
  };
}

/** GET /api-keys: the tenant's keys, newest first, with the totals. */
export async function listApiKeys(ctx: ApiKeysDeps, tenantId: number, q: Static<typeof ListQuery>) {
  const { rows, total, activeCount } = await ctx.database.withTenant(tenantId, (tx) =>
    repo.listApiKeys(tx, tenantId, {
      includeRevoked: q.include_revoked ?? false,
      skip: q.skip ?? 0,
      limit: q.limit ?? 20,
    }),
  );
  return { keys: rows.map(toApiKeyRead), total, active_count: activeCount };
}

/** The tenant's keys by ids or exact name, `{id, name}` only (the audit log's actor names), in the caller's transaction. */
export function apiKeyNames(
  tx: Executor,
  tenantId: number,
  by: { ids: number[] } | { name: string },
): Promise<{ id: number; name: string }[]> {
  return repo.keyNames(tx, tenantId, by);
}

export async function getApiKey(ctx: ApiKeysDeps, tenantId: number, id: number) {
  const k = await ctx.database.withTenant(tenantId, (tx) => repo.findApiKey(tx, tenantId, id));
  if (!k) throw notFound('api_key');
  return toApiKeyRead(k);
}

export async function revokeApiKey(ctx: ApiKeysDeps, tenantId: number, id: number, audit: AuditContext) {
  await ctx.database.withTenant(tenantId, async (tx) => {
    const existing = await repo.findApiKey(tx, tenantId, id);
    if (!existing) throw notFound('api_key');
    // The conditional UPDATE decides races: of two concurrent revocations exactly one wins, the other is a 400.
    const revoked = await repo.revokeApiKey(tx, tenantId, id, 'revoked');
    if (!revoked)
      throw platformErrors.error(
        'BAD_REQUEST',
        { reason: 'api_key_already_revoked' },
        // A generic code with its own text: the envelope's language is the default one (no request here).
        { message: apiKeyMessage('api_keys.already_revoked', ctx.config.defaultLocale) },
      );
    await writeAudit(tx, tenantId, audit, {
      eventType: 'api_key.revoked',
      resourceType: 'api_key',
      resourceId: id,
      metadata: { name: revoked.name, key_prefix: revoked.keyPrefix },
    });
  });
  await publishKeyRevocations(ctx, [id]);
}

/** After the revoking transaction commits: every replica's guard refuses the key from the next request on. */
export async function publishKeyRevocations(ctx: ApiKeysDeps, ids: number[]) {
  await Promise.all(
    ids.map((id) => ctx.store.set(keys.apiKeyRevoked(id), 'revoked', REVOCATION_FLAG_TTL_SECONDS)),
  );
  for (const id of ids) keyCaches.get(ctx)?.evictId(id);
}

/** In-process cache of key rows by hash; short-lived, revocation goes through the store flag. */
type CachedKey = ApiKeyRow & { ownerActive: boolean };

class KeyCache {
  /** Concurrent first uses of one key share one read; an unknown hash is not remembered. */
  private readonly byHash: LRUCache<string, CachedKey>;
  constructor(ctx: ApiKeysDeps) {
    this.byHash = new LRUCache<string, CachedKey>({
      max: CACHE_MAX,
      ttl: CACHE_TTL_MS,
      // A revocation evicting the key while it loads must not fail the request waiting for it.
      ignoreFetchAbort: true,
      fetchMethod: async (hash) =>
        (await ctx.database.withSystem(async (tx) => {
          const k = await repo.findByHash(tx, hash);
          if (!k) return null;
          // A user-owned key stops when its user is deactivated; tenant-owned keys have no user. The users table
          // is the users module's: it answers, in the same system transaction.
          const ownerActive = k.userId === null || (await isUserActive(tx, k.tenantId, k.userId));
          return { ...k, ownerActive };
        })) ?? undefined,
    });
  }
  async get(hash: string): Promise<CachedKey | null> {
    return (await this.byHash.fetch(hash)) ?? null;
  }
  evictId(id: number) {
    for (const [h, row] of this.byHash.entries()) if (row.id === id) this.byHash.delete(h);
  }
}
/** One cache per app (replicas in one test process must not share it). */
const keyCaches = new WeakMap<ApiKeysDeps, KeyCache>();

export function createApiKeyAuthenticator(ctx: ApiKeysDeps): ApiKeyAuthenticator {
  const cache = new KeyCache(ctx);
  keyCaches.set(ctx, cache);
  // When this process last wrote last_used_at of a key, to skip even the store round trip most of the time.
  const touched = new Map<number, number>();

  async function recordUse(row: ApiKeyRow) {
    const now = Date.now();
    if ((touched.get(row.id) ?? 0) > now - LAST_USED_INTERVAL_SECONDS * 1000) return;
    touched.set(row.id, now);
    if (touched.size > CACHE_MAX) touched.delete(touched.keys().next().value!);
    // The store guard makes it at most one write a minute per key across all replicas.
    if (!(await ctx.store.setIfAbsent(keys.apiKeyLastUsed(row.id), '1', LAST_USED_INTERVAL_SECONDS))) return;
    await ctx.database.withTenant(row.tenantId, (tx) =>
      repo.touchLastUsed(tx, row.tenantId, row.id, new Date(now)),
    );
  }

  return async (rawKey) => {
    if (!RAW_KEY.test(rawKey)) throw apiKeysErrors.error('INVALID_API_KEY');
    const hash = sha256Hex(rawKey);
    const row = await cache.get(hash);
    if (!row) throw apiKeysErrors.error('INVALID_API_KEY');
    if (row.revokedAt) throw apiKeysErrors.error('API_KEY_REVOKED');
    if (isExpired(row)) throw apiKeysErrors.error('API_KEY_EXPIRED');
    // Permissioned routes see a deactivation at once (RBAC's version bump); `self` routes within CACHE_TTL_MS.
    if (!row.ownerActive) throw platformErrors.error('ACCOUNT_INACTIVE');
    await recordUse(row).catch((err) =>
      ctx.log.warn({ err, apiKeyId: row.id }, 'could not record API key use'),
    );
    return {
      kind: 'api_key',
      tenantId: row.tenantId,
      userId: row.userId,
      sessionId: null,
      email: null,
      apiKeyId: row.id,
      // The scopes as permission codes, so the guard can tell a missing scope from a permission the user lost;
      // self scopes (profile.read, ...) stay as they are for the guard's keyScope check on `self` routes.
      scopes: [...scopesAsPermissions(row.scopes)],
      roleId: row.roleId,
      mfaEnrolmentPending: false,
      permissionVersion: '0',
      identityVersion: '0',
    } satisfies Principal;
  };
}

/** GDPR export: the user's keys (metadata only: never the hash). */
export async function exportUserKeys(tx: Tx, tenantId: number, userId: number) {
  return (await repo.listUserKeys(tx, tenantId, userId)).map(toApiKeyRead);
}

/** GDPR erasure: the user's own keys stop working (tenant-owned keys they created outlive them by design). */
export async function eraseUserKeys(
  ctx: ApiKeysDeps,
  tx: Tx,
  tenantId: number,
  userId: number,
  afterCommit: (fn: AfterCommit) => void,
): Promise<void> {
  const ids = await repo.revokeUserKeys(tx, tenantId, userId, 'gdpr_erasure');
  if (ids.length > 0) {
    await writeAudit(tx, tenantId, SYSTEM_AUDIT_CONTEXT, {
      eventType: 'api_key.revoked',
      resourceType: 'user',
      resourceId: userId,
      metadata: { api_key_ids: ids, reason: 'gdpr_erasure' },
    });
  }
  // Published only once the erasure has committed: a rolled-back erasure leaves the keys working.
  afterCommit(() => publishKeyRevocations(ctx, ids));
}
