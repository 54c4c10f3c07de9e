/**
 * Platform operators' tenant administration, and tenant creation with its first admin (operators, `massacorp
 * seed`, `massacorp tenant create`, tests). It sits above tenants, rbac, sessions and users, because creating a
 * tenant creates its first user and suspending or deleting one ends its sessions.
 */

import { writeAuditAlone } from '../../platform/audit/alone.js';
import { type AuditContext, SYSTEM_AUDIT_CONTEXT, writeAudit } from '../../platform/audit/writer.js';
import { enterTenant } from '../../platform/db/client.js';
import { keys } from '../../platform/store/keys.js';
import { publishRevocations, revokeTenantSessions } from '../sessions/index.js';
import {
  auditTenantAndOperator,
  bumpTenantVersion,
  deleteTenantTx,
  insertNewTenant,
  normaliseSlug,
  resolveSettings,
  type StoredTenantSettings,
  setTenantStatusTx,
  type TenantRow,
  tenantAdminRead,
  tenantToDelete,
} from '../tenants/index.js';
import { createUserInTx, prepareUser, toUserRead, type UserRow } from '../users/index.js';
import type { TenantAdminDeps } from './deps.js';
import { tenantAdminErrors } from './errors.js';
import './errors.js';
import type { TenantCreate } from './schemas.js';

export interface CreateTenantInput {
  slug: string;
  name: string;
  isPlatform?: boolean;
  settings?: StoredTenantSettings;
  admin?: {
    email: string;
    password: string;
    firstName?: string | null;
    lastName?: string | null;
    isSuperuser?: boolean;
    isVerified?: boolean;
  };
  /** Skip the password policy (CLI seeding with a generated password that already satisfies it). */
  skipPolicy?: boolean;
}

/** Creates a tenant, its first admin (who becomes `owner` via the tenantCreated hooks) and the audit records. */
export async function createTenant(
  ctx: TenantAdminDeps,
  input: CreateTenantInput,
  audit: AuditContext = SYSTEM_AUDIT_CONTEXT,
  auditTenantId?: number,
): Promise<{ tenant: TenantRow; admin: UserRow | null }> {
  const slug = normaliseSlug(input.slug);
  const policy = input.skipPolicy ? null : resolveSettings(input.settings, ctx.config).password_policy;
  const admin = input.admin
    ? await prepareUser(
        ctx,
        {
          email: input.admin.email,
          password: input.admin.password,
          firstName: input.admin.firstName ?? null,
          lastName: input.admin.lastName ?? null,
          isSuperuser: input.admin.isSuperuser ?? false,
          isVerified: input.admin.isVerified ?? true,
        },
        policy,
      )
    : null;
  return ctx.database.withSystem(async (tx) => {
    const tenant = await insertNewTenant(tx, {
      slug,
      name: input.name,
      isPlatform: input.isPlatform,
      settings: input.settings,
    });
    const created = admin
      ? await createUserInTx(ctx, tx, tenant.id, admin, {
          source: 'first_admin',
          audit,
          metadata: { first_admin: true },
        })
      : null;
    for (const hook of ctx.hooks.tenantCreated) await hook(tx, tenant.id, created?.id ?? null);
    await writeAudit(tx, tenant.id, audit, {
      eventType: 'tenant.created',
      resourceType: 'tenant',
      resourceId: tenant.id,
      metadata: {
        slug,
        name: input.name,
        first_admin_id: created?.id ?? null,
        created_from_tenant: auditTenantId ?? null,
      },
    });
    return { tenant, admin: created };
  });
}

export async function createTenantAsOperator(
  ctx: TenantAdminDeps,
  operatorTenantId: number,
  body: TenantCreate,
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
  // The operator's own chain: the new tenant's records were written in its creation transaction.
  await writeAuditAlone(ctx, operatorTenantId, audit, {
    eventType: 'platform.tenant_created',
    resourceType: 'tenant',
    resourceId: tenant.id,
    metadata: { after: { slug: tenant.slug, name: tenant.name, admin_email: admin?.email ?? null } },
  });
  return { tenant: tenantAdminRead(ctx, tenant), admin: admin ? toUserRead(admin) : null };
}

/** Suspension ends every session of the tenant and sets the flag the request guard reads. */
export async function setTenantStatus(
  ctx: TenantAdminDeps,
  operatorTenantId: number,
  id: number,
  status: 'active' | 'suspended',
  audit: AuditContext,
) {
  if (id === operatorTenantId && status === 'suspended')
    throw tenantAdminErrors.error('OWN_TENANT', undefined, { message: 'Cannot suspend your own tenant' });
  const { row, revoked } = await ctx.database.withSystem(async (tx) => {
    const { before, after } = await setTenantStatusTx(tx, id, status);
    const revoked = status === 'suspended' ? await revokeTenantSessions(tx, id, 'tenant_suspended') : [];
    await auditTenantAndOperator(
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
    return { row: after, revoked };
  });
  if (status === 'suspended') await ctx.store.set(keys.tenantSuspended(id), '1');
  else await ctx.store.del(keys.tenantSuspended(id));
  // Every replica's caches keyed by the tenant's version (settings, cached identities) are re-read.
  await bumpTenantVersion(ctx, id);
  await publishRevocations(ctx, revoked);
  return tenantAdminRead(ctx, row);
}

export async function deleteTenant(
  ctx: TenantAdminDeps,
  operatorTenantId: number,
  id: number,
  audit: AuditContext,
): Promise<void> {
  if (id === operatorTenantId)
    throw tenantAdminErrors.error('OWN_TENANT', undefined, { message: 'Cannot delete your own tenant' });
  const revoked = await ctx.database.withSystem(async (tx) => {
    const before = await tenantToDelete(tx, id);
    // Revoked before the rows go (sessions cascade), so their ids can be published to every replica.
    const revoked = await revokeTenantSessions(tx, id, 'tenant_deleted');
    await deleteTenantTx(tx, id);
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
  await bumpTenantVersion(ctx, id);
  await publishRevocations(ctx, revoked);
}
