/** SQL only for feature flags. Overrides are tenant rows (tenant_id in every WHERE, RLS behind it). */
import { asc, eq, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { firstOrNull, one } from '../../platform/db/rows.js';
import { tenantRows } from '../../platform/db/tenant-rows.js';
import type { FlagFacts } from './resolution.js';
import { type FeatureFlagRow, type FeatureOverrideRow, featureFlags, featureOverrides } from './tables.js';

const flagColumns = {
  key: featureFlags.key,
  description: featureFlags.description,
  defaultEnabled: featureFlags.defaultEnabled,
  rolloutPercent: featureFlags.rolloutPercent,
  createdAt: featureFlags.createdAt,
  updatedAt: featureFlags.updatedAt,
};

const overrideColumns = {
  id: featureOverrides.id,
  tenantId: featureOverrides.tenantId,
  flagKey: featureOverrides.flagKey,
  scope: featureOverrides.scope,
  targetId: featureOverrides.targetId,
  enabled: featureOverrides.enabled,
  createdAt: featureOverrides.createdAt,
  updatedAt: featureOverrides.updatedAt,
};
const overrideRows = tenantRows(featureOverrides, overrideColumns);

export async function listFlags(tx: Executor): Promise<FeatureFlagRow[]> {
  return tx.select(flagColumns).from(featureFlags).orderBy(asc(featureFlags.key)).limit(1000);
}

export async function findFlag(tx: Executor, key: string): Promise<FeatureFlagRow | null> {
  return one(tx.select(flagColumns).from(featureFlags).where(eq(featureFlags.key, key)));
}

export async function insertFlag(
  tx: Executor,
  f: { key: string; description: string; defaultEnabled: boolean; rolloutPercent: number | null },
): Promise<FeatureFlagRow | null> {
  return firstOrNull(await tx.insert(featureFlags).values(f).onConflictDoNothing().returning(flagColumns));
}

export async function updateFlag(
  tx: Executor,
  key: string,
  patch: Partial<{ description: string; defaultEnabled: boolean; rolloutPercent: number | null }>,
): Promise<FeatureFlagRow | null> {
  const rows = await tx
    .update(featureFlags)
    .set({ ...patch, updatedAt: new Date() })
    .where(eq(featureFlags.key, key))
    .returning(flagColumns);
  return firstOrNull(rows);
}

export async function deleteFlag(tx: Executor, key: string): Promise<boolean> {
  const rows = await tx
    .delete(featureFlags)
    .where(eq(featureFlags.key, key))
    .returning({ key: featureFlags.key });
  return rows.length > 0;
}

export async function listTenantOverrides(tx: Executor, tenantId: number): Promise<FeatureOverrideRow[]> {
  return overrideRows.list(tx, tenantId, {
    orderBy: [asc(featureOverrides.flagKey), asc(featureOverrides.scope), asc(featureOverrides.targetId)],
    limit: 10_000,
  });
}

export interface OverrideKey {
  flagKey: string;
  scope: 'tenant' | 'role' | 'user';
  targetId: string;
}

/** Insert or update in one statement: concurrent PUTs of one override cannot collide on the unique key. */
export async function upsertOverride(
  tx: Executor,
  tenantId: number,
  k: OverrideKey,
  enabled: boolean,
): Promise<FeatureOverrideRow> {
  const now = new Date();
  const rows = await tx
    .insert(featureOverrides)
    .values({ tenantId, ...k, enabled })
    .onConflictDoUpdate({
      target: [
        featureOverrides.tenantId,
        featureOverrides.flagKey,
        featureOverrides.scope,
        featureOverrides.targetId,
      ],
      set: { enabled, updatedAt: now },
    })
    .returning(overrideColumns);
  return rows[0]!;
}

export async function deleteOverride(
  tx: Executor,
  tenantId: number,
  k: OverrideKey,
): Promise<FeatureOverrideRow | null> {
  const rows = await overrideRows.deleteReturning(
    tx,
    tenantId,
    eq(featureOverrides.flagKey, k.flagKey),
    eq(featureOverrides.scope, k.scope),
    eq(featureOverrides.targetId, k.targetId),
  );
  return firstOrNull(rows);
}

/**
 * Every flag with the overrides that apply to the subject, in one statement. `roleIds` are the roles the subject
 * holds now with every parent they inherit (the RBAC module's heldRoleIds): a child role holds its parent's
 * permissions, so it holds the parent's flag overrides too.
 */
export async function loadFlagFacts(
  tx: Executor,
  tenantId: number,
  userId: number | null,
  roleIds: string[],
): Promise<FlagFacts[]> {
  const userTarget = userId !== null ? String(userId) : null;
  const roleTargets = sql`(select jsonb_array_elements_text(${JSON.stringify(roleIds)}::jsonb))`;
  const r = await tx.execute<{
    key: string;
    default_enabled: boolean;
    rollout_percent: number | null;
    t: boolean | null;
    r: boolean | null;
    u: boolean | null;
  }>(sql`
    select f.key, f.default_enabled, f.rollout_percent,
           bool_or(o.enabled) filter (where o.scope = 'tenant') as t,
           bool_or(o.enabled) filter (where o.scope = 'role') as r,
           bool_or(o.enabled) filter (where o.scope = 'user') as u
      from feature_flags f
      left join feature_overrides o on o.tenant_id = ${tenantId} and o.flag_key = f.key and (
             o.scope = 'tenant'
          or (o.scope = 'user' and o.target_id = ${userTarget}::text)
          or (o.scope = 'role' and o.target_id in ${roleTargets}))
     group by f.key, f.default_enabled, f.rollout_percent
     order by f.key`);
  return r.rows.map((row) => ({
    key: row.key,
    defaultEnabled: row.default_enabled,
    rolloutPercent: row.rollout_percent === null ? null : Number(row.rollout_percent),
    tenant: row.t,
    roles: row.r === null ? [] : [row.r],
    user: row.u,
  }));
}

/** The catalogue alone (no caller, no tenant). */
export async function loadCatalogueFacts(tx: Executor): Promise<FlagFacts[]> {
  return (await listFlags(tx)).map((f) => ({
    key: f.key,
    defaultEnabled: f.defaultEnabled,
    rolloutPercent: f.rolloutPercent,
    tenant: null,
    roles: [],
    user: null,
  }));
}
