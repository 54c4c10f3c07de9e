/** Helpers for RBAC tests: signed-in users with given system roles, a platform operator, a small HTTP client. */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { SystemRoleCode } from '../../src/modules/rbac/permissions.js';
import { createTenant } from '../../src/modules/tenant-admin/index.js';
import { bearer, login, newTenant, newUser, PASSWORD, type Tokens, uniq } from './factories.js';

export interface Caller {
  userId: number;
  tenantId: number;
  email: string;
  tokens: Tokens;
  call: (
    method: InjectOptions['method'],
    url: string,
    payload?: unknown,
    extra?: Partial<InjectOptions>,
  ) => Promise<LightMyRequestResponse>;
}

export function client(app: FastifyInstance, tokens: Tokens | string) {
  return (
    method: InjectOptions['method'],
    url: string,
    payload?: unknown,
    extra: Partial<InjectOptions> = {},
  ) =>
    app.inject({
      method,
      url,
      ...(payload !== undefined ? { payload: payload as never } : {}),
      ...extra,
      headers: { ...bearer(tokens), ...(extra.headers ?? {}) },
    });
}

async function caller(
  app: FastifyInstance,
  tenantId: number,
  userId: number,
  email: string,
  password = PASSWORD,
): Promise<Caller> {
  const tokens = await login(app, tenantId, email, password);
  return { userId, tenantId, email, tokens, call: client(app, tokens) };
}

/** A new tenant and its first admin (owner), signed in. */
export async function tenantOwner(app: FastifyInstance) {
  const t = await newTenant(app);
  return { ...t, owner: await caller(app, t.tenant.id, t.admin.id, t.admin.email) };
}

/** A user of `tenantId` holding exactly these system roles (none: no permission at all), signed in. */
export async function userWith(
  app: FastifyInstance,
  tenantId: number,
  roles: SystemRoleCode[] = [],
): Promise<Caller> {
  const u = await newUser(app, tenantId, { roles });
  return caller(app, tenantId, u.id, u.email);
}

/** A platform tenant (is_platform) and its owner, signed in: holds platform.* permissions. */
export async function platformOperator(app: FastifyInstance): Promise<Caller> {
  const slug = uniq('pf');
  const { tenant, admin } = await createTenant(app.ctx, {
    slug,
    name: `Platform ${slug}`,
    isPlatform: true,
    admin: { email: `ops@${slug}.test`, password: PASSWORD },
  });
  return caller(app, tenant.id, admin!.id, admin!.email);
}

/** Role id by code in a tenant, through the API. */
export async function roleId(c: Caller, code: string): Promise<string> {
  const res = await c.call('GET', '/api/v1/roles');
  if (res.statusCode !== 200) throw new Error(`GET /roles: ${res.statusCode} ${res.body}`);
  const role = (res.json().roles as { id: string; code: string }[]).find((r) => r.code === code);
  if (!role) throw new Error(`no role ${code}`);
  return role.id;
}
