/** Test data: every test makes its own tenant and users, never a global seed. */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { SystemRoleCode } from '../../src/modules/rbac/permissions.js';
import { grantSystemRole } from '../../src/modules/rbac/service.js';
import { createTenant } from '../../src/modules/tenant-admin/index.js';
import type { TenantRow } from '../../src/modules/tenants/index.js';
import { createUserInTx, prepareUser, type UserRow } from '../../src/modules/users/index.js';
import { SYSTEM_AUDIT_CONTEXT } from '../../src/platform/audit/writer.js';

export const PASSWORD = 'Correct-Horse-42-battery';

export function uniq(prefix = 't'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

export interface TestTenant {
  tenant: TenantRow;
  admin: UserRow;
  adminPassword: string;
}

/** A tenant with its first admin (owner once RBAC is installed). */
export async function newTenant(
  app: FastifyInstance,
  opts: { settings?: Record<string, unknown>; superuser?: boolean } = {},
): Promise<TestTenant> {
  const slug = uniq('tn');
  const { tenant, admin } = await createTenant(app.ctx, {
    slug,
    name: `Tenant ${slug}`,
    settings: opts.settings,
    admin: {
      email: `admin@${slug}.test`,
      password: PASSWORD,
      firstName: 'Ada',
      lastName: 'Admin',
      isSuperuser: opts.superuser ?? false,
    },
  });
  return { tenant, admin: admin!, adminPassword: PASSWORD };
}

export async function newUser(
  app: FastifyInstance,
  tenantId: number,
  opts: {
    email?: string;
    password?: string;
    isActive?: boolean;
    isSuperuser?: boolean;
    passwordHash?: string;
    roles?: SystemRoleCode[];
  } = {},
): Promise<UserRow & { password: string }> {
  const password = opts.password ?? PASSWORD;
  // The product's one creation path; no policy check, so tests may create users with any password.
  const prepared = await prepareUser(
    app.ctx,
    {
      email: opts.email ?? `${uniq('user')}@example.test`,
      ...(opts.passwordHash ? { passwordHash: opts.passwordHash } : { password }),
      firstName: 'Test',
      lastName: 'User',
      isActive: opts.isActive ?? true,
      isSuperuser: opts.isSuperuser ?? false,
      isVerified: true,
    },
    null,
  );
  const user = await app.ctx.database.withTenant(tenantId, async (tx) => {
    const u = await createUserInTx(app.ctx, tx, tenantId, prepared, {
      source: 'admin',
      audit: SYSTEM_AUDIT_CONTEXT,
    });
    for (const code of opts.roles ?? []) await grantSystemRole(tx, tenantId, u.id, code);
    return u;
  });
  return { ...user, password };
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
}

export async function login(
  app: FastifyInstance,
  tenantId: number,
  email: string,
  password = PASSWORD,
): Promise<Tokens> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    headers: { 'x-tenant-id': String(tenantId) },
    payload: { email, password },
  });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  const body = res.json();
  if (!body.access_token) throw new Error(`login did not return tokens: ${res.body}`);
  return body;
}

export const bearer = (t: Tokens | string) => ({
  authorization: `Bearer ${typeof t === 'string' ? t : t.access_token}`,
});
