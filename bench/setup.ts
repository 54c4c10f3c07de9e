/** Data the bench scenarios need: a tenant, its admin, a token, and whatever later modules add. */
import type { FastifyInstance, InjectOptions } from 'fastify';
import { createTenant } from '../src/modules/tenant-admin/index.js';

export const BENCH_PASSWORD = 'Bench-Password-2026!';

/**
 * app.inject, again while the app sheds load (503): the event-loop delay sampled while it booted (migrations,
 * argon2 on a busy machine) can exceed the load-shedding threshold until the next sample.
 */
async function inject(app: FastifyInstance, options: InjectOptions) {
  for (let attempt = 0; ; attempt++) {
    const res = await app.inject(options);
    if (res.statusCode !== 503 || attempt >= 50) return res;
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function setupBenchData(app: FastifyInstance) {
  const slug = `bench-${Date.now()}`;
  const { tenant, admin } = await createTenant(app.ctx, {
    slug,
    name: 'Bench',
    admin: { email: `admin@${slug}.test`, password: BENCH_PASSWORD, isSuperuser: true },
  });
  const login = await inject(app, {
    method: 'POST',
    url: '/api/v1/auth/login',
    headers: { 'x-tenant-id': String(tenant.id) },
    payload: { email: admin!.email, password: BENCH_PASSWORD },
  });
  if (login.statusCode !== 200)
    throw new Error(`bench setup: login answered ${login.statusCode} ${login.body}`);
  const accessToken: string = login.json().access_token;
  const extra: Record<string, unknown> = {};
  // An API key for the API-key scenario, when the module is installed.
  const key = await inject(app, {
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
