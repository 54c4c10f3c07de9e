/**
 * `massacorp seed`: on an empty database, creates tenant 1 (`massacorp`, the platform tenant) and its admin
 * `admin@massacorp.dev` (superuser, verified). The password is SEED_ADMIN_PASSWORD or generated and returned
 * once, for the caller to print; it is never logged.
 */

import { randomBytes } from 'node:crypto';
import { hasTenants } from '../tenants/index.js';
import type { TenantAdminDeps } from './deps.js';
import { createTenant } from './service.js';

export const SEED_ADMIN_EMAIL = 'admin@massacorp.dev';

export function generatePassword(): string {
  // 20 random characters plus one of each class, so any tenant policy accepts it.
  return `${randomBytes(15).toString('base64url')}Aa1!`;
}

export async function seedIfEmpty(
  ctx: TenantAdminDeps,
): Promise<
  | { created: false }
  | { created: true; tenantId: number; email: string; password: string; generated: boolean }
> {
  if (await hasTenants(ctx)) return { created: false };
  const password = ctx.config.seedAdminPassword ?? generatePassword();
  const { tenant } = await createTenant(ctx, {
    slug: 'massacorp',
    name: 'MassaCorp',
    isPlatform: true,
    admin: {
      email: SEED_ADMIN_EMAIL,
      password,
      firstName: 'Platform',
      lastName: 'Admin',
      isSuperuser: true,
      isVerified: true,
    },
    skipPolicy: ctx.config.seedAdminPassword === null,
  });
  return {
    created: true,
    tenantId: tenant.id,
    email: SEED_ADMIN_EMAIL,
    password,
    generated: ctx.config.seedAdminPassword === null,
  };
}
