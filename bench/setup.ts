/** Data the bench scenarios need: a tenant, its admin, a token, and whatever later modules add. */
import type { FastifyInstance } from 'fastify';
import { createTenant } from '../src/modules/tenant-admin/index.js';

export const BENCH_PASSWORD = 'Bench-Password-2026!';

export async function setupBenchData(app: FastifyInstance) {
  const slug = `bench-${Date.now()}`;
  const { tenant, admin } = await createTenant(app.ctx, {
    slug,
    name: 'Bench',
    admin: { email: `admin@${slug}.test`, password: BENCH_PASSWORD, isSuperuser: true },
  });
  const login = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    headers: { 'x-tenant-id': String(tenant.id) },
    payload: { email: admin!.email, password: BENCH_PASSWORD },
  });
  const accessToken: string = login.json().access_token;
  const extra: Record<string, unknown> = {};
  // An API key for the API-key scenario, when the module is installed.
  const key = await app.inject({
    method: 'POST',
    url: '/api/v1/api-keys',
    headers: { authorization: `Bearer ${accessToken}` },
    payload: { name: 'bench', scopes: ['users:read'] },
  });
  if (key.statusCode === 201) extra.apiKey = key.json().raw_key;
  return {
    tenantId: tenant.id,
    userId: admin!.id,
    email: admin!.email,
    password: BENCH_PASSWORD,
    accessToken,
    ...extra,
  };
}
