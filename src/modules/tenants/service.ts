/**
 * Tenants: id and slug resolution, the tenant row and its settings. Creating a tenant with its first admin needs
 * the users module, so that lives in tenant-admin; this module only creates the row (insertNewTenant).
 */
import { type SQL, type SQLWrapper, sql } from 'drizzle-orm';
import { type AuditContext, writeAudit } from '../../platform/audit/writer.js';
import { type Database, type Executor, enterTenant, type Tx } from '../../platform/db/client.js';
import { notFound, platformErrors, validationError } from '../../platform/http/errors.js';
import { CidrSet } from '../../platform/http/network.js';
import { tenantsErrors } from './errors.js';
import './errors.js';
import type { TenantsDeps } from './deps.js';
import { bumpTenantVersion, isValidCidr } from './network.js';
import * as repo from './repository.js';
import type { TenantPatch, TenantStatusQuery } from './schemas.js';
import {
  checkSessionLimits,
  mergePlatformSettings,
  mergeSettings,
  type PlatformSettingsPatch,
  resolveSettings,
  type StoredTenantSettings,
  type TenantSettings,
} from './settings.js';
import type { TenantRow } from './tables.js';

const SLUG = /^[a-z0-9][a-z0-9-]{1,62}$/;

/** X-Tenant-ID as given: an integer id or a slug. Missing is 400 TENANT_REQUIRED, malformed 400 INVALID_TENANT. */
function parseTenantHeader(header: string | string[] | undefined): { id: number } | { slug: string } {
  const value = typeof header === 'string' ? header.trim() : '';
  if (!value) throw tenantsErrors.error('TENANT_REQUIRED');
  if (/^\d{1,9}$/.test(value) && Number(value) > 0) return { id: Number(value) };
  const slug = value.toLowerCase();
  if (!SLUG.test(slug)) throw tenantsErrors.error('INVALID_TENANT');
  return { slug };
}

/**
 * X-Tenant-ID before login (parseTenantHeader). An unknown or suspended tenant is null, which callers turn into
 * their usual failure (401 on login) so tenant existence is not revealed.
 */
export async function resolveTenantHeader(
  ctx: TenantsDeps,
  header: string | string[] | undefined,
): Promise<TenantRow | null> {
  const given = parseTenantHeader(header);
  const tenant =
    'id' in given
      ? await ctx.database.withTenant(given.id, (tx) => repo.findTenantById(tx, given.id))
      : await ctx.database.withSystem((tx) => repo.findTenantBySlug(tx, given.slug));
  return tenant && tenant.status === 'active' ? tenant : null;
}

/**
 * X-Tenant-ID to a tenant id, without loading the tenant: an integer needs no query, a slug one system lookup.
 * Callers then load the tenant inside their own tenant transaction (one round trip fewer on login).
 */
export async function resolveTenantId(
  ctx: TenantsDeps,
  header: string | string[] | undefined,
): Promise<number | null> {
  const given = parseTenantHeader(header);
  if ('id' in given) return given.id;
  const tenant = await ctx.database.withSystem((tx) => repo.findTenantBySlug(tx, given.slug));
  return tenant?.id ?? null;
}

/** A tenant slug, lower-cased; 400 unless it is 2-63 of a-z, 0-9 and -. */
export function normaliseSlug(input: string): string {
  const slug = input.toLowerCase();
  if (!SLUG.test(slug))
    throw platformErrors.error(
      'BAD_REQUEST',
      { field: 'slug' },
      { message: 'slug must be 2-63 of a-z, 0-9 and -' },
    );
  return slug;
}

/**
 * Inserts a tenant row inside the creator's system transaction (409 when the slug is taken) and enters the new
 * tenant, so what the creator writes next (first admin, roles) passes RLS. The `tenant.created` record is the
 * caller's, once it knows the first admin.
 */
export async function insertNewTenant(
  tx: Tx,
  input: { slug: string; name: string; isPlatform?: boolean; settings?: StoredTenantSettings },
): Promise<TenantRow> {
  const slug = normaliseSlug(input.slug);
  if (await repo.findTenantBySlug(tx, slug)) throw platformErrors.error('ALREADY_EXISTS', { field: 'slug' });
  const tenant = await repo.insertTenant(tx, { ...input, slug });
  await enterTenant(tx, tenant.id);
  return tenant;
}

/** Whether any tenant exists yet (`massacorp seed` runs only on an empty database). */
export async function hasTenants(ctx: TenantsDeps): Promise<boolean> {
  return (await ctx.database.withSystem((tx) => repo.countTenants(tx))) > 0;
}

export function tenantRead(ctx: TenantsDeps, t: TenantRow) {
  return {
    id: t.id,
    slug: t.slug,
    name: t.name,
    created_at: t.createdAt.toISOString(),
    settings: resolveSettings(t.settings, ctx.config),
  };
}

/** The tenant's settings, defaults and bounds applied (a fresh read, in its own transaction). */
export async function tenantSettings(ctx: TenantsDeps, tenantId: number): Promise<TenantSettings> {
  const t = await ctx.database.withTenant(tenantId, (tx) => repo.findTenantById(tx, tenantId));
  return resolveSettings(t?.settings, ctx.config);
}

/** Whether the tenant is the platform tenant (its users may hold platform.* permissions). */
export async function isPlatformTenant(tx: Executor, tenantId: number): Promise<boolean> {
  return (await repo.findTenantById(tx, tenantId))?.isPlatform === true;
}

// ---- the caller's own tenant ----

export async function getCurrentTenant(ctx: TenantsDeps, tenantId: number) {
  const t = await ctx.database.withTenant(tenantId, (tx) => repo.findTenantById(tx, tenantId));
  if (!t) throw notFound('tenant');
  return tenantRead(ctx, t);
}

function checkSettings(s: TenantSettings, callerIp: string) {
  s.allowed_ip_ranges.forEach((r, i) => {
    if (!isValidCidr(r))
      throw validationError(`body.settings.allowed_ip_ranges.${i}`, 'not a CIDR range or IP address', 'cidr');
  });
  // Refuse to lock the administrator out with the very request that sets the ranges.
  if (s.allowed_ip_ranges.length > 0 && !new CidrSet(s.allowed_ip_ranges).contains(callerIp)) {
    throw validationError(
      'body.settings.allowed_ip_ranges',
      `would lock out the caller's own address ${callerIp}`,
      'lockout',
    );
  }
  const t = s.session;
  if (t.refresh_ttl < t.access_ttl)
    throw validationError('body.settings.session.refresh_ttl', 'must be at least access_ttl');
  if (t.absolute_ttl < t.refresh_ttl)
    throw validationError('body.settings.session.absolute_ttl', 'must be at least refresh_ttl');
}

export async function updateCurrentTenant(
  ctx: TenantsDeps,
  tenantId: number,
  body: TenantPatch,
  callerIp: string,
  audit: AuditContext,
) {
  checkSessionLimits(body.settings?.session, ctx.config);
  const row = await ctx.database.withTenant(tenantId, async (tx) => {
    const current = await repo.findTenantForUpdate(tx, tenantId);
    if (!current) throw notFound('tenant');
    const stored = body.settings ? mergeSettings(current.settings ?? {}, body.settings) : current.settings;
    const resolved = resolveSettings(stored, ctx.config);
    checkSettings(resolved, callerIp);
    const updated = (await repo.updateTenant(tx, tenantId, {
      name: body.name ?? current.name,
      settings: stored,
    }))!;
    await writeAudit(tx, tenantId, audit, {
      eventType: 'tenant.updated',
      resourceType: 'tenant',
      resourceId: tenantId,
      metadata: {
        before: { name: current.name, settings: resolveSettings(current.settings, ctx.config) },
        after: { name: updated.name, settings: resolved },
      },
    });
    return updated;
  });
  await bumpTenantVersion(ctx, tenantId);
  return tenantRead(ctx, row);
}

// ---- platform operators (routes in tenant-admin) ----

export function tenantAdminRead(ctx: TenantsDeps, t: TenantRow) {
  return {
    ...tenantRead(ctx, t),
    status: t.status,
    is_platform: t.isPlatform,
    updated_at: t.updatedAt.toISOString(),
    suspended_at: t.suspendedAt?.toISOString() ?? null,
  };
}

export async function listTenants(ctx: TenantsDeps, q: TenantStatusQuery) {
  const { rows, total } = await ctx.database.withSystem((tx) =>
    repo.listTenantsPage(tx, { skip: q.skip ?? 0, limit: q.limit ?? 20, status: q.status }),
  );
  return { tenants: rows.map((t) => tenantAdminRead(ctx, t)), total };
}

export async function getTenantAsOperator(ctx: TenantsDeps, id: number) {
  const t = await ctx.database.withSystem((tx) => repo.findTenantById(tx, id));
  if (!t) throw notFound('tenant');
  return tenantAdminRead(ctx, t);
}

/** Writes the same record in the target tenant's chain and in the operator's, inside the open transaction. */
export async function auditTenantAndOperator(
  tx: Tx,
  targetId: number,
  operatorTenantId: number,
  audit: AuditContext,
  eventType: string,
  metadata: Record<string, unknown>,
) {
  await enterTenant(tx, targetId);
  await writeAudit(tx, targetId, audit, {
    eventType,
    resourceType: 'tenant',
    resourceId: targetId,
    metadata,
  });
  if (operatorTenantId !== targetId) {
    await enterTenant(tx, operatorTenantId);
    await writeAudit(tx, operatorTenantId, audit, {
      eventType: `platform.${eventType}`,
      resourceType: 'tenant',
      resourceId: targetId,
      metadata,
    });
  }
}

export async function updateTenantAsOperator(
  ctx: TenantsDeps,
  operatorTenantId: number,
  id: number,
  body: { settings?: PlatformSettingsPatch },
  audit: AuditContext,
) {
  const row = await ctx.database.withSystem(async (tx) => {
    const current = await repo.findTenantForUpdate(tx, id);
    if (!current) throw notFound('tenant');
    const stored = mergePlatformSettings(current.settings ?? {}, body.settings);
    const updated = (await repo.updateTenant(tx, id, { settings: stored }))!;
    await auditTenantAndOperator(tx, id, operatorTenantId, audit, 'tenant.updated', {
      before: { settings: { wireguard: resolveSettings(current.settings, ctx.config).wireguard } },
      after: { settings: { wireguard: resolveSettings(stored, ctx.config).wireguard } },
      by_platform: true,
    });
    return updated;
  });
  await bumpTenantVersion(ctx, id);
  return tenantAdminRead(ctx, row);
}

/**
 * Suspends or reactivates a tenant inside the caller's system transaction (the caller ends its sessions and
 * audits there); returns the row before and after. 404 for an unknown tenant.
 */
export async function setTenantStatusTx(
  tx: Tx,
  id: number,
  status: 'active' | 'suspended',
): Promise<{ before: TenantRow; after: TenantRow }> {
  const before = await repo.findTenantById(tx, id);
  if (!before) throw notFound('tenant');
  const after = (await repo.updateTenant(tx, id, {
    status,
    suspendedAt: status === 'suspended' ? new Date() : null,
  }))!;
  return { before, after };
}

/** The tenant a platform operator is about to delete (404 unknown, 400 for the platform tenant), in their transaction. */
export async function tenantToDelete(tx: Tx, id: number): Promise<TenantRow> {
  const before = await repo.findTenantById(tx, id);
  if (!before) throw notFound('tenant');
  if (before.isPlatform)
    throw platformErrors.error(
      'BAD_REQUEST',
      { reason: 'platform_tenant' },
      { message: 'The platform tenant cannot be deleted' },
    );
  return before;
}

/** Deletes the tenant row (its data cascades; audit records stay) inside the caller's system transaction. */
export async function deleteTenantTx(tx: Tx, id: number): Promise<void> {
  await repo.deleteTenantRow(tx, id);
}

// --- used by auth, mfa and password-reset (through index.ts) ---
/** The tenant's row, read in the caller's transaction (null when unknown). */
export function getTenant(tx: Executor, tenantId: number): Promise<TenantRow | null> {
  return repo.findTenantById(tx, tenantId);
}

/**
 * "Does the tenant require MFA?" as a SQL boolean (null for an unknown tenant), for a module that composes it
 * into its own one-round-trip query (MFA status runs on every login, refresh and /auth/me). The tenants table
 * stays this module's: callers get the question, not the table.
 */
export function tenantRequiresMfaSql(tenantId: number | SQLWrapper): SQL {
  return sql`(select settings->'mfa_required' = 'true'::jsonb from tenants where id = ${tenantId})`;
}

/** The tenant's effective settings (stored values over the defaults), read in the caller's transaction. */
export async function readTenantSettings(ctx: Pick<TenantsDeps, 'config'>, tx: Executor, tenantId: number) {
  return resolveSettings((await repo.findTenantById(tx, tenantId))?.settings, ctx.config);
}

/**
 * The retention provider's answer: tenants whose settings set audit_retention_days, with that number
 * (cross-tenant by nature: system). The audit CLI prunes their trails (platform/audit/retention.ts).
 */
export async function tenantsWithRetention(
  database: Database,
): Promise<{ tenantId: number; days: number }[]> {
  return database.withSystem(async (tx) => {
    const r = await tx.execute<{ id: number; days: string }>(sql`
      select id, settings->>'audit_retention_days' as days from tenants
      where jsonb_typeof(settings->'audit_retention_days') = 'number' order by id`);
    return r.rows.map((x) => ({ tenantId: Number(x.id), days: Number(x.days) })).filter((x) => x.days > 0);
  });
}
