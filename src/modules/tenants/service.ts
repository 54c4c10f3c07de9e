import { type AuditContext, SYSTEM_AUDIT_CONTEXT, writeAudit } from '../../platform/audit/writer.js';
import type { AppContext } from '../../platform/context.js';
import { type Executor, enterTenant } from '../../platform/db/client.js';
import { AppError, badRequest } from '../../platform/http/errors.js';
import { validatePassword } from '../auth/password-policy.js';
import { insertUser } from '../users/repository.js';
import type { UserRow } from '../users/tables.js';
import { findTenantById, findTenantBySlug, insertTenant } from './repository.js';
import { resolveSettings } from './settings.js';
import type { TenantRow } from './tables.js';

const SLUG = /^[a-z0-9][a-z0-9-]{1,62}$/;

/**
 * X-Tenant-ID before login: an integer id or a slug. Missing is 400 TENANT_REQUIRED, malformed 400
 * INVALID_TENANT; an unknown or suspended tenant is null, which callers turn into their usual failure
 * (401 on login) so tenant existence is not revealed.
 */
export async function resolveTenantHeader(
  ctx: AppContext,
  header: string | string[] | undefined,
): Promise<TenantRow | null> {
  const value = typeof header === 'string' ? header.trim() : '';
  if (!value) throw badRequest('TENANT_REQUIRED');
  let tenant: TenantRow | null;
  if (/^\d{1,9}$/.test(value) && Number(value) > 0) {
    const id = Number(value);
    tenant = await ctx.database.withTenant(id, (tx) => findTenantById(tx, id));
  } else if (SLUG.test(value.toLowerCase())) {
    tenant = await ctx.database.withSystem((tx) => findTenantBySlug(tx, value.toLowerCase()));
  } else {
    throw badRequest('INVALID_TENANT');
  }
  return tenant && tenant.status === 'active' ? tenant : null;
}

/**
 * X-Tenant-ID to a tenant id, without loading the tenant: an integer needs no query, a slug one system lookup.
 * Callers then load the tenant inside their own tenant transaction (one round trip fewer on login).
 */
export async function resolveTenantId(
  ctx: AppContext,
  header: string | string[] | undefined,
): Promise<number | null> {
  const value = typeof header === 'string' ? header.trim() : '';
  if (!value) throw badRequest('TENANT_REQUIRED');
  if (/^\d{1,9}$/.test(value) && Number(value) > 0) return Number(value);
  if (!SLUG.test(value.toLowerCase())) throw badRequest('INVALID_TENANT');
  const tenant = await ctx.database.withSystem((tx) => findTenantBySlug(tx, value.toLowerCase()));
  return tenant?.id ?? null;
}

export interface CreateTenantInput {
  slug: string;
  name: string;
  isPlatform?: boolean;
  settings?: Record<string, unknown>;
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
  ctx: AppContext,
  input: CreateTenantInput,
  audit: AuditContext = SYSTEM_AUDIT_CONTEXT,
  auditTenantId?: number,
): Promise<{ tenant: TenantRow; admin: UserRow | null }> {
  const slug = input.slug.toLowerCase();
  if (!SLUG.test(slug))
    throw badRequest('BAD_REQUEST', { field: 'slug' }, 'slug must be 2-63 of a-z, 0-9 and -');
  let passwordHash: string | null = null;
  if (input.admin) {
    if (!input.skipPolicy) {
      const reasons = validatePassword(
        input.admin.password,
        input.admin.email,
        resolveSettings(input.settings as never, ctx.config).password_policy,
      );
      if (reasons.length > 0) throw new AppError(422, 'PASSWORD_TOO_WEAK', { reasons });
    }
    passwordHash = await ctx.hasher.hash(input.admin.password);
  }
  return ctx.database.withSystem(async (tx) => {
    if (await findTenantBySlug(tx, slug)) throw new AppError(409, 'ALREADY_EXISTS', { field: 'slug' });
    const tenant = await insertTenant(tx, {
      slug,
      name: input.name,
      isPlatform: input.isPlatform,
      settings: input.settings,
    });
    await enterTenant(tx, tenant.id);
    let admin: UserRow | null = null;
    if (input.admin) {
      admin = await insertUser(tx, tenant.id, {
        email: input.admin.email.toLowerCase(),
        passwordHash,
        firstName: input.admin.firstName ?? null,
        lastName: input.admin.lastName ?? null,
        isSuperuser: input.admin.isSuperuser ?? false,
        isVerified: input.admin.isVerified ?? true,
      });
    }
    for (const hook of ctx.hooks.tenantCreated) await hook(tx, tenant.id, admin?.id ?? null);
    await writeAudit(tx, tenant.id, audit, {
      eventType: 'tenant.created',
      resourceType: 'tenant',
      resourceId: tenant.id,
      metadata: {
        slug,
        name: input.name,
        first_admin_id: admin?.id ?? null,
        created_from_tenant: auditTenantId ?? null,
      },
    });
    if (admin) {
      await writeAudit(tx, tenant.id, audit, {
        eventType: 'user.created',
        resourceType: 'user',
        resourceId: admin.id,
        metadata: { email: admin.email, first_admin: true },
      });
    }
    return { tenant, admin };
  });
}

export function tenantRead(ctx: AppContext, t: TenantRow) {
  return {
    id: t.id,
    slug: t.slug,
    name: t.name,
    created_at: t.createdAt.toISOString(),
    settings: resolveSettings(t.settings, ctx.config),
  };
}

/** The tenant's effective settings (stored values over the defaults), read in the caller's transaction. */
export async function readTenantSettings(ctx: AppContext, tx: Executor, tenantId: number) {
  return resolveSettings((await findTenantById(tx, tenantId))?.settings, ctx.config);
}

/** Whether the tenant is the platform operators' tenant (platform-wide actions such as the flag catalogue). */
export async function isPlatformTenant(tx: Executor, tenantId: number): Promise<boolean> {
  return (await findTenantById(tx, tenantId))?.isPlatform === true;
}
