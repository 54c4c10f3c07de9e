/** Two app instances over one database and store behave as two replicas behind a load balancer. */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant } from '../helpers/factories.js';

let a: FastifyInstance;
let b: FastifyInstance;
beforeAll(async () => {
  a = await createTestApp();
  b = await createTestApp({}, a);
});
afterAll(async () => {
  await b.close();
  await a.close();
});

describe('replicas', () => {
  it('a logout on replica A is refused on replica B from the next request', async () => {
    const { tenant, admin } = await newTenant(a);
    const t = await login(a, tenant.id, admin.email);
    expect((await b.inject({ url: '/api/v1/auth/me', headers: bearer(t) })).statusCode).toBe(200);
    await a.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(t) });
    const res = await b.inject({ url: '/api/v1/auth/me', headers: bearer(t) });
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('SESSION_REVOKED');
  });

  it('a refresh token rotated on A is a replay on B', async () => {
    const { tenant, admin } = await newTenant(a);
    const t = await login(a, tenant.id, admin.email);
    expect(
      (
        await a.inject({
          method: 'POST',
          url: '/api/v1/auth/refresh',
          payload: { refresh_token: t.refresh_token },
        })
      ).statusCode,
    ).toBe(200);
    const replay = await b.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: t.refresh_token },
    });
    expect(replay.json().error).toBe('TOKEN_REPLAY');
  });
});
