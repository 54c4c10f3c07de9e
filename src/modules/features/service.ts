/**
 * Feature flags: the global catalogue (platform operators), per-tenant overrides (tenant, role, user) and the
 * evaluation for a caller. No cache across requests: one indexed query evaluates every flag, so a change is
 * visible on the next request on every replica. Within a request, request.flags memoises it.
 */
import { type AuditContext, writeAudit } from '../../platform/audit/writer.js';
import type { Principal } from '../../platform/context.js';
import { enterTenant, type Tx } from '../../platform/db/client.js';
import { notFound, validationError } from '../../platform/http/errors.js';
import { heldRoleIds, roleExists } from '../rbac/index.js';
import { isPlatformTenant } from '../tenants/index.js';
import { userExistsInTenant } from '../users/index.js';
import type { FeaturesDeps } from './deps.js';
import { featureExists, notPlatformOperator } from './errors.js';
import * as repo from './repository.js';
import { resolveFlag } from './resolution.js';
import type { CreateFlagBody, OverrideBody, UpdateFlagBody } from './schemas.js';
import type { FeatureFlagRow, FeatureOverrideRow } from './tables.js';

export const FLAG_KEY = /^[a-z0-9][a-z0-9_.-]{1,63}$/;
/** Path words under /features that a flag key would shadow. */
const RESERVED_KEYS = new Set(['catalogue', 'evaluate']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export type Scope = 'tenant' | 'role' | 'user';

/** The flags of a caller (or of nobody: catalogue defaults). */
export async function evaluateFlags(
  ctx: FeaturesDeps,
  principal: Principal | null,
): Promise<Record<string, boolean>> {
  if (!principal) {
    const facts = await ctx.database.withSystem((tx) => repo.loadCatalogueFacts(tx));
    return Object.fromEntries(facts.map((f) => [f.key, resolveFlag(f, null, null)]));
  }
  const { tenantId } = principal;
  const subject =
    principal.userId !== null
      ? String(principal.userId)
      : principal.apiKeyId !== null
        ? `key-${principal.apiKeyId}`
        : null;
  const facts = await ctx.database.withTenant(tenantId, async (tx) => {
    // The subject's roles come from RBAC (its tables are its own); then every flag in one statement.
    const roleIds = await heldRoleIds(tx, tenantId, {
      userId: principal.userId,
      roleId: principal.userId === null ? principal.roleId : null,
    });
    return repo.loadFlagFacts(tx, tenantId, principal.userId, roleIds);
  });
  return Object.fromEntries(facts.map((f) => [f.key, resolveFlag(f, tenantId, subject)]));
}

export function toFlagRead(f: FeatureFlagRow) {
  return {
    key: f.key,
    description: f.description,
    default_enabled: f.defaultEnabled,
    rollout_percent: f.rolloutPercent,
    created_at: f.createdAt.toISOString(),
    updated_at: f.updatedAt.toISOString(),
  };
}

export function toOverrideRead(o: FeatureOverrideRow) {
  return {
    key: o.flagKey,
    scope: o.scope,
    target_id: o.scope === 'tenant' ? null : o.targetId,
    enabled: o.enabled,
    created_at: o.createdAt.toISOString(),
    updated_at: o.updatedAt.toISOString(),
  };
}

/** GET /features: the catalogue with this tenant's overrides. */
export async function listWithOverrides(ctx: FeaturesDeps, tenantId: number) {
  const [flags, overrides] = await ctx.database.withTenant(
    tenantId,
    async (tx) => [await repo.listFlags(tx), await repo.listTenantOverrides(tx, tenantId)] as const,
  );
  const byKey = new Map<string, ReturnType<typeof toOverrideRead>[]>();
  for (const o of overrides) {
    const list = byKey.get(o.flagKey) ?? [];
    list.push(toOverrideRead(o));
    byKey.set(o.flagKey, list);
  }
  return { features: flags.map((f) => ({ ...toFlagRead(f), overrides: byKey.get(f.key) ?? [] })) };
}

/** target_id as stored: '' for the tenant, a canonical user id or role uuid; a malformed one is a 422. */
function normaliseTarget(
  tenantId: number,
  scope: Scope,
  target: string | number | null | undefined,
  field: string,
): string {
  const t = target === null || target === undefined ? '' : String(target).trim().toLowerCase();
  if (scope === 'tenant') {
    if (t !== '' && t !== String(tenantId))
      throw validationError(field, 'must be absent (or the caller\'s tenant id) for scope "tenant"');
    return '';
  }
  if (t === '') throw validationError(field, `required for scope "${scope}"`, 'required');
  if (scope === 'user') {
    if (!/^\d{1,10}$/.test(t) || Number(t) < 1 || Number(t) > 2_147_483_647)
      throw validationError(field, 'must be a user id', 'type');
    return String(Number(t));
  }
  if (!UUID.test(t)) throw validationError(field, 'must be a role id (uuid)', 'format');
  return t;
}

export type OverrideInput = OverrideBody;

export async function setOverride(
  ctx: FeaturesDeps,
  tenantId: number,
  key: string,
  input: OverrideInput,
  audit: AuditContext,
) {
  const targetId = normaliseTarget(tenantId, input.scope, input.target_id, 'body.target_id');
  return ctx.database.withTenant(tenantId, async (tx) => {
    if (!(await repo.findFlag(tx, key))) throw notFound('feature');
    // A well-formed target of another tenant is a 404 like any other object.
    if (input.scope === 'user' && !(await userExistsInTenant(tx, tenantId, Number(targetId))))
      throw notFound('user');
    if (input.scope === 'role' && !(await roleExists(tx, tenantId, targetId))) throw notFound('role');
    const row = await repo.upsertOverride(
      tx,
      tenantId,
      { flagKey: key, scope: input.scope, targetId },
      input.enabled,
    );
    await writeAudit(tx, tenantId, audit, {
      eventType: 'feature.override_set',
      resourceType: 'feature',
      resourceId: key,
      metadata: { scope: input.scope, target_id: targetId || null, enabled: input.enabled },
    });
    return toOverrideRead(row);
  });
}

export async function removeOverride(
  ctx: FeaturesDeps,
  tenantId: number,
  key: string,
  input: Pick<OverrideBody, 'scope' | 'target_id'>,
  audit: AuditContext,
  field: string,
) {
  const targetId = normaliseTarget(tenantId, input.scope, input.target_id, field);
  await ctx.database.withTenant(tenantId, async (tx) => {
    const removed = await repo.deleteOverride(tx, tenantId, { flagKey: key, scope: input.scope, targetId });
    if (!removed) throw notFound('feature_override');
    await writeAudit(tx, tenantId, audit, {
      eventType: 'feature.override_removed',
      resourceType: 'feature',
      resourceId: key,
      metadata: { scope: input.scope, target_id: targetId || null, previous: removed.enabled },
    });
  });
}

/**
 * Catalogue writes. The permission (`platform.features`) is platform-only in RBAC; the tenant flag is checked
 * again here because the catalogue is global: a superuser of an ordinary tenant must never edit it.
 * Runs as a system transaction (the app role may only read feature_flags); the audit record goes to the
 * operator's tenant chain, written after switching into that tenant like createTenant does.
 */
async function asPlatformOperator<T>(
  ctx: FeaturesDeps,
  tenantId: number,
  fn: (tx: Tx) => Promise<T>,
): Promise<T> {
  return ctx.database.withSystem(async (tx) => {
    if (!(await isPlatformTenant(tx, tenantId))) throw notPlatformOperator();
    return fn(tx);
  });
}

export type FlagInput = CreateFlagBody;

export async function createFlag(ctx: FeaturesDeps, tenantId: number, input: FlagInput, audit: AuditContext) {
  if (!FLAG_KEY.test(input.key) || RESERVED_KEYS.has(input.key))
    throw validationError(
      'body.key',
      'lower-case letters, digits, _ . - (2..64), not a reserved word',
      'pattern',
    );
  return asPlatformOperator(ctx, tenantId, async (tx) => {
    const row = await repo.insertFlag(tx, {
      key: input.key,
      description: input.description ?? '',
      defaultEnabled: input.default_enabled ?? false,
      rolloutPercent: input.rollout_percent ?? null,
    });
    if (!row) throw featureExists();
    await enterTenant(tx, tenantId);
    await writeAudit(tx, tenantId, audit, {
      eventType: 'feature.created',
      resourceType: 'feature',
      resourceId: row.key,
      metadata: toFlagRead(row),
    });
    return toFlagRead(row);
  });
}

export async function updateFlag(
  ctx: FeaturesDeps,
  tenantId: number,
  key: string,
  input: UpdateFlagBody,
  audit: AuditContext,
) {
  return asPlatformOperator(ctx, tenantId, async (tx) => {
    const patch: Parameters<typeof repo.updateFlag>[2] = {};
    if (input.description !== undefined) patch.description = input.description;
    if (input.default_enabled !== undefined) patch.defaultEnabled = input.default_enabled;
    if (input.rollout_percent !== undefined) patch.rolloutPercent = input.rollout_percent;
    const row = await repo.updateFlag(tx, key, patch);
    if (!row) throw notFound('feature');
    await enterTenant(tx, tenantId);
    await writeAudit(tx, tenantId, audit, {
      eventType: 'feature.updated',
      resourceType: 'feature',
      resourceId: key,
      metadata: { changes: input },
    });
    return toFlagRead(row);
  });
}

export async function deleteFlag(ctx: FeaturesDeps, tenantId: number, key: string, audit: AuditContext) {
  await asPlatformOperator(ctx, tenantId, async (tx) => {
    if (!(await repo.deleteFlag(tx, key))) throw notFound('feature');
    await enterTenant(tx, tenantId);
    await writeAudit(tx, tenantId, audit, {
      eventType: 'feature.deleted',
      resourceType: 'feature',
      resourceId: key,
    });
  });
}
