/**
 * Tenant administration: the tenant's own settings (PATCH /tenants/current) and the platform operators' routes
 * (list, create with a first admin, suspend, reactivate, delete). Suspension and deletion end every session of
 * the tenant and set the store flag the request guard reads, so live tokens fail on their next request.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import { type AuditContext, writeAudit } from '../../platform/audit/writer.js';
import type { AppContext } from '../../platform/context.js';
import { enterTenant, type Tx } from '../../platform/db/client.js';
import { badRequest, notFound, validationError } from '../../platform/http/errors.js';
import { CidrSet } from '../../platform/http/network.js';
import { keys } from '../../platform/store/keys.js';
import * as sessionsRepo from '../sessions/repository.js';
import { publishRevocations } from '../sessions/service.js';
import { toUserRead } from '../users/serialize.js';
import { bumpTenantVersion, isValidCidr } from './network.js';
import { findTenantById } from './repository.js';
import { createTenant, tenantRead } from './service.js';
import { resolveSettings, sessionLimits, type TenantSettings } from './settings.js';
import { type TenantRow, tenants } from './tables.js';

export interface SettingsPatch {
  self_registration?: boolean;
  mfa_required?: boolean;
  password_policy?: Partial<TenantSettings['password_policy']>;
  session?: Partial<TenantSettings['session']>;
  allowed_ip_ranges?: string[];
  audit_retention_days?: number | null;
}

/** Merges a patch over the stored (partial) settings; nested objects merge key by key. */
export function mergeSettings(
  stored: Partial<TenantSettings>,
  patch: SettingsPatch,
): Partial<TenantSettings> {
  const out: Partial<TenantSettings> = { ...stored };
  if (patch.self_registration !== undefined) out.self_registration = patch.self_registration;
  if (patch.mfa_required !== undefined) out.mfa_required = patch.mfa_required;
  if (patch.audit_retention_days !== undefined) out.audit_retention_days = patch.audit_retention_days;
  if (patch.allowed_ip_ranges !== undefined) out.allowed_ip_ranges = patch.allowed_ip_ranges;
  if (patch.password_policy)
    out.password_policy = {
      ...(stored.password_policy ?? {}),
      ...patch.password_policy,
    } as TenantSettings['password_policy'];
  if (patch.session)
    out.session = { ...(stored.session ?? {}), ...patch.session } as TenantSettings['session'];
  return out;
}

/** Tenants may only shorten the server's lifetimes (a longer access token would outlive its revocation). */
function checkSessionLimits(patch: SettingsPatch['session'], config: AppContext['config']) {
  const limits = sessionLimits(config);
  for (const field of ['access_ttl', 'refresh_ttl', 'absolute_ttl', 'idle_ttl'] as const) {
    const value = patch?.[field];
    if (typeof value === 'number' && value > limits[field])
      throw validationError(
        `body.settings.session.${field}`,
        `must be at most ${limits[field]} (the server's limit)`,
        'maximum',
      );
  }
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
  ctx: AppContext,
  tenantId: number,
  body: { name?: string; settings?: SettingsPatch },
  callerIp: string,
  audit: AuditContext,
) {
  checkSessionLimits(body.settings?.session, ctx.config);
  const row = await ctx.database.withTenant(tenantId, async (tx) => {
    const before = await tx.select().from(tenants).where(eq(tenants.id, tenantId)).for('update').limit(1);
    const current = before[0];
    if (!current) throw notFound('tenant');
    const stored = body.settings ? mergeSettings(current.settings ?? {}, body.settings) : current.settings;
    const resolved = resolveSettings(stored, ctx.config);
    checkSettings(resolved, callerIp);
    const [updated] = await tx
      .update(tenants)
      .set({ name: body.name ?? current.name, settings: stored, updatedAt: new Date() })
      .where(eq(tenants.id, tenantId))
      .returning();
    await writeAudit(tx, tenantId, audit, {
      eventType: 'tenant.updated',
      resourceType: 'tenant',
      resourceId: tenantId,
      metadata: {
        before: { name: current.name, settings: resolveSettings(current.settings, ctx.config) },
        after: { name: updated!.name, settings: resolved },
      },
    });
    return updated!;
  });
  await bumpTenantVersion(ctx, tenantId);
  return tenantRead(ctx, row);
}

// ---- platform operators ----

export function tenantAdminRead(ctx: AppContext, t: TenantRow) {
  return {
    ...tenantRead(ctx, t),
    status: t.status,
    is_platform: t.isPlatform,
    updated_at: t.updatedAt.toISOString(),
    suspended_at: t.suspendedAt?.toISOString() ?? null,
  };
}

export async function listTenants(
  ctx: AppContext,
  q: { skip?: number; limit?: number; status?: 'active' | 'suspended' },
) {
  return ctx.database.withSystem(async (tx) => {
    const where = q.status ? eq(tenants.status, q.status) : undefined;
    const rows = await tx
      .select()
      .from(tenants)
      .where(where)
      .orderBy(asc(tenants.id))
      .offset(q.skip ?? 0)
      .limit(q.limit ?? 20);
    const count = await tx.select({ n: sql<string>`count(*)::text` }).from(tenants).where(where);
    return { tenants: rows.map((t) => tenantAdminRead(ctx, t)), total: Number(count[0]!.n) };
  });
}

export async function getTenant(ctx: AppContext, id: number) {
  const t = await ctx.database.withSystem((tx) => findTenantById(tx, id));
  if (!t) throw notFound('tenant');
  return tenantAdminRead(ctx, t);
}

export async function createTenantAsOperator(
  ctx: AppContext,
  operatorTenantId: number,
  body: { slug: string; name: string; admin_email: string; admin_password: string },
  audit: AuditContext,
) {
  const { tenant, admin } = await createTenant(
    ctx,
    {
      slug: body.slug,
      name: body.name,
      admin: { email: body.admin_email, password: body.admin_password, isVerified: true },
    },
    audit,
    operatorTenantId,
  );
  await ctx.database.withTenant(operatorTenantId, (tx) =>
    writeAudit(tx, operatorTenantId, audit, {
      eventType: 'platform.tenant_created',
      resourceType: 'tenant',
      resourceId: tenant.id,
      metadata: { after: { slug: tenant.slug, name: tenant.name, admin_email: admin?.email ?? null } },
    }),
  );
  return { tenant: tenantAdminRead(ctx, tenant), admin: admin ? toUserRead(admin) : null };
}

/** Writes the same record in the target tenant's chain and in the operator's, inside the open transaction. */
async function auditBoth(
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

export async function setTenantStatus(
  ctx: AppContext,
  operatorTenantId: number,
  id: number,
  status: 'active' | 'suspended',
  audit: AuditContext,
) {
  if (id === operatorTenantId && status === 'suspended')
    throw badRequest('OWN_TENANT', undefined, 'Cannot suspend your own tenant');
  const { row, revoked } = await ctx.database.withSystem(async (tx) => {
    const before = await findTenantById(tx, id);
    if (!before) throw notFound('tenant');
    const [row] = await tx
      .update(tenants)
      .set({ status, suspendedAt: status === 'suspended' ? new Date() : null, updatedAt: new Date() })
      .where(and(eq(tenants.id, id)))
      .returning();
    const revoked =
      status === 'suspended' ? await sessionsRepo.revokeAllTenantSessions(tx, id, 'tenant_suspended') : [];
    await auditBoth(
      tx,
      id,
      operatorTenantId,
      audit,
      status === 'suspended' ? 'tenant.suspended' : 'tenant.reactivated',
      {
        before: { status: before.status },
        after: { status },
        sessions_ended: revoked.length,
      },
    );
    return { row: row!, revoked };
  });
  if (status === 'suspended') await ctx.store.set(keys.tenantSuspended(id), '1');
  else await ctx.store.del(keys.tenantSuspended(id));
  await publishRevocations(ctx, revoked);
  return tenantAdminRead(ctx, row);
}

/** What only platform operators set on a tenant (PATCH /tenants/{id}); null returns to the server default. */
export interface PlatformSettingsPatch {
  wireguard?: { max_peers?: number | null };
}

export async function updateTenantAsOperator(
  ctx: AppContext,
  operatorTenantId: number,
  id: number,
  body: { settings?: PlatformSettingsPatch },
  audit: AuditContext,
) {
  const row = await ctx.database.withSystem(async (tx) => {
    const before = await tx.select().from(tenants).where(eq(tenants.id, id)).for('update').limit(1);
    const current = before[0];
    if (!current) throw notFound('tenant');
    const stored: Partial<TenantSettings> = { ...(current.settings ?? {}) };
    const maxPeers = body.settings?.wireguard?.max_peers;
    if (maxPeers === null) delete stored.wireguard;
    else if (maxPeers !== undefined) stored.wireguard = { ...stored.wireguard, max_peers: maxPeers };
    const [updated] = await tx
      .update(tenants)
      .set({ settings: stored, updatedAt: new Date() })
      .where(eq(tenants.id, id))
      .returning();
    await auditBoth(tx, id, operatorTenantId, audit, 'tenant.updated', {
      before: { settings: { wireguard: resolveSettings(current.settings, ctx.config).wireguard } },
      after: { settings: { wireguard: resolveSettings(stored, ctx.config).wireguard } },
      by_platform: true,
    });
    return updated!;
  });
  await bumpTenantVersion(ctx, id);
  return tenantAdminRead(ctx, row);
}

export async function deleteTenant(
  ctx: AppContext,
  operatorTenantId: number,
  id: number,
  audit: AuditContext,
): Promise<void> {
  if (id === operatorTenantId) throw badRequest('OWN_TENANT', undefined, 'Cannot delete your own tenant');
  const revoked = await ctx.database.withSystem(async (tx) => {
    const before = await findTenantById(tx, id);
    if (!before) throw notFound('tenant');
    if (before.isPlatform)
      throw badRequest('BAD_REQUEST', { reason: 'platform_tenant' }, 'The platform tenant cannot be deleted');
    const revoked = await sessionsRepo.revokeAllTenantSessions(tx, id, 'tenant_deleted');
    await tx.delete(tenants).where(eq(tenants.id, id));
    // The deleted tenant's audit records stay (no foreign key); the operator's chain records the deletion.
    await enterTenant(tx, operatorTenantId);
    await writeAudit(tx, operatorTenantId, audit, {
      eventType: 'platform.tenant_deleted',
      resourceType: 'tenant',
      resourceId: id,
      metadata: {
        before: { slug: before.slug, name: before.name, status: before.status },
        sessions_ended: revoked.length,
      },
    });
    return revoked;
  });
  // Tokens of a deleted tenant must die too; the flag outlives any access token.
  await ctx.store.set(keys.tenantSuspended(id), 'deleted', ctx.config.accessTokenLifetime * 4 + 86_400);
  await publishRevocations(ctx, revoked);
}
