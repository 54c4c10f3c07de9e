/**
 * Issue 12: each replica caches the caller's identity (GET /auth/me) keyed by the user's, the tenant's permission
 * and the tenant's settings store versions, read in the guard's one mget. A warm /auth/me does no PostgreSQL round
 * trip; every change of the user, their roles, MFA factors or tenant is seen by the OTHER replica on its next
 * request. Replica A makes each change, replica B (warm) answers.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SystemRoleCode } from '../../src/modules/rbac/permissions.js';
import { keys } from '../../src/platform/store/keys.js';
import { createTestApp } from '../helpers/app.js';
import { MovableClock } from '../helpers/clock.js';
import { bearer, login, newTenant, newUser, PASSWORD, type Tokens } from '../helpers/factories.js';
import { platformOperator } from '../helpers/rbac.js';
import { enrolTotp, safeTotpMoment, totpCode } from '../helpers/totp.js';
import { SoftAuthenticator } from '../helpers/webauthn.js';

let a: FastifyInstance;
let b: FastifyInstance;
beforeAll(async () => {
  a = await createTestApp();
  b = await createTestApp({}, a);
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

type Fn = (...args: unknown[]) => unknown;

/**
 * Counts calls into the database driver both replicas share (pg: pool.connect and pool.query, each at least one
 * network round trip; PGlite: query, exec, transaction). Restored by `stop`.
 */
function countDatabaseCalls(app: FastifyInstance) {
  const client = (app.ctx.database.db as unknown as { $client: Record<string, Fn> }).$client;
  const names =
    app.ctx.database.kind === 'postgres' ? ['connect', 'query'] : ['query', 'exec', 'transaction'];
  const originals = names.map((n) => [n, client[n]!] as const);
  let calls = 0;
  for (const [name, fn] of originals)
    client[name] = function (this: unknown, ...args: unknown[]) {
      calls++;
      return fn.apply(this, args);
    };
  return {
    get calls() {
      return calls;
    },
    stop() {
      for (const [name, fn] of originals) client[name] = fn;
    },
  };
}

/** Database calls made by one request (the requests run one at a time here). */
async function databaseCallsOf<T>(app: FastifyInstance, run: () => Promise<T>): Promise<[T, number]> {
  const counter = countDatabaseCalls(app);
  try {
    const result = await run();
    return [result, counter.calls];
  } finally {
    counter.stop();
  }
}

const me = (app: FastifyInstance, headers: Record<string, string>) =>
  app.inject({ url: '/api/v1/auth/me', headers });

/** B's /auth/me twice: the second answer must come from B's cache (no database call). */
async function warm(headers: Record<string, string>) {
  expect((await me(b, headers)).statusCode).toBe(200);
  const [res, calls] = await databaseCallsOf(b, () => me(b, headers));
  expect(res.statusCode, res.body).toBe(200);
  expect(calls).toBe(0);
  return res.json();
}

/** B's next /auth/me re-reads the database (its cached identity is stale), and the one after is warm again. */
async function expectReread(headers: Record<string, string>) {
  const [res, calls] = await databaseCallsOf(b, () => me(b, headers));
  expect(res.statusCode, res.body).toBe(200);
  expect(calls).toBeGreaterThan(0);
  return warm(headers);
}

async function signedInUser(tenantId: number, roles: SystemRoleCode[] = []) {
  const u = await newUser(a, tenantId, { roles });
  const tokens = await login(a, tenantId, u.email);
  return { user: u, tokens, h: bearer(tokens) };
}

async function ownerOf() {
  const t = await newTenant(a);
  const tokens = await login(a, t.tenant.id, t.admin.email);
  return { ...t, tokens, h: bearer(tokens) };
}

const call = (
  app: FastifyInstance,
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  url: string,
  headers: Record<string, string>,
  payload?: unknown,
) => app.inject({ method, url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });

async function userVersion(tenantId: number, userId: number) {
  return a.ctx.store.get(keys.userVersion(tenantId, userId));
}

describe('issue 12 identity cache: warm /auth/me', () => {
  it('needs no PostgreSQL round trip once warm, on each replica', async () => {
    const { tenant, admin } = await newTenant(a);
    const t = await login(a, tenant.id, admin.email);
    for (const app of [a, b]) {
      expect((await me(app, bearer(t))).statusCode).toBe(200);
      const [res, calls] = await databaseCallsOf(app, () => me(app, bearer(t)));
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ user_id: admin.id, tenant_id: tenant.id, email: admin.email });
      expect(calls).toBe(0);
    }
  });

  it('the counter sees a cold read (the zero above can fail)', async () => {
    const { tenant, admin } = await newTenant(a);
    const t = await login(a, tenant.id, admin.email);
    const [res, calls] = await databaseCallsOf(b, () => me(b, bearer(t)));
    expect(res.statusCode).toBe(200);
    expect(calls).toBeGreaterThan(0);
  });

  it('an API key with profile.read is warm too, and its owner deactivated is refused on the other replica', async () => {
    const o = await ownerOf();
    const { user, h } = await signedInUser(o.tenant.id, ['admin']);
    const created = await call(a, 'POST', '/api/v1/api-keys', h, { name: 'k', scopes: ['profile.read'] });
    expect(created.statusCode, created.body).toBe(201);
    const kh = { 'x-api-key': created.json().raw_key as string };
    const body = await warm(kh);
    expect(body.user_id).toBe(user.id);
    expect((await call(a, 'POST', `/api/v1/users/${user.id}/deactivate`, o.h)).statusCode).toBe(200);
    expect((await me(b, kh)).statusCode).toBe(403);
  });
});

describe('issue 12 identity cache: changes of the user, seen by the other replica on its next request', () => {
  it('email change by an administrator', async () => {
    const o = await ownerOf();
    const { user, h } = await signedInUser(o.tenant.id);
    expect((await warm(h)).email).toBe(user.email);
    const email = `new-${user.email}`;
    const res = await call(a, 'PUT', `/api/v1/users/${user.id}`, o.h, { email });
    expect(res.statusCode, res.body).toBe(200);
    expect((await me(b, h)).json().email).toBe(email);
  });

  it('profile update by the user (PATCH /users/me)', async () => {
    const o = await ownerOf();
    const { user, h } = await signedInUser(o.tenant.id);
    await warm(h);
    const before = await userVersion(o.tenant.id, user.id);
    const res = await call(a, 'PUT', '/api/v1/users/me', h, { first_name: 'Grace' });
    expect(res.statusCode, res.body).toBe(200);
    expect(await userVersion(o.tenant.id, user.id)).not.toBe(before);
    await expectReread(h);
  });

  it('verification by an administrator', async () => {
    const o = await ownerOf();
    const { user, h } = await signedInUser(o.tenant.id);
    await warm(h);
    expect((await call(a, 'POST', `/api/v1/users/${user.id}/verify`, o.h)).statusCode).toBe(200);
    await expectReread(h);
  });

  it('password change: other sessions end, the current one re-reads its identity', async () => {
    const o = await ownerOf();
    const { user, h } = await signedInUser(o.tenant.id);
    const other = bearer(await login(a, o.tenant.id, user.email));
    await warm(h);
    await warm(other);
    const res = await call(a, 'POST', '/api/v1/auth/change-password', h, {
      current_password: PASSWORD,
      new_password: 'Another-Horse-43-staple',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect((await me(b, other)).statusCode).toBe(401);
    await expectReread(h);
  });

  it('password reset by mail link', async () => {
    const o = await ownerOf();
    const { user, h } = await signedInUser(o.tenant.id);
    await warm(h);
    const sent: string[] = [];
    const original = a.ctx.mailer.send;
    a.ctx.mailer.send = async (m) => {
      sent.push(m.text);
    };
    try {
      const req = await a.inject({
        method: 'POST',
        url: '/api/v1/password-reset/request',
        headers: { 'x-tenant-id': String(o.tenant.id) },
        payload: { email: user.email },
      });
      expect(req.statusCode, req.body).toBeLessThan(300);
      for (let i = 0; i < 100 && !sent.some((t) => t.includes('?token=')); i++)
        await new Promise((r) => setTimeout(r, 20));
    } finally {
      a.ctx.mailer.send = original;
    }
    const token = /\?token=(\S+)/.exec(sent.find((t) => t.includes('?token=')) ?? '')?.[1];
    expect(token).toBeTruthy();
    const v = await userVersion(o.tenant.id, user.id);
    const res = await a.inject({
      method: 'POST',
      url: '/api/v1/password-reset/confirm',
      payload: { token, new_password: 'Another-Horse-43-staple' },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(await userVersion(o.tenant.id, user.id)).not.toBe(v);
    expect((await me(b, h)).statusCode).toBe(401);
  });

  it('deactivation (401 on B at once), then activation', async () => {
    const o = await ownerOf();
    const { user, h } = await signedInUser(o.tenant.id);
    await warm(h);
    expect((await call(a, 'POST', `/api/v1/users/${user.id}/deactivate`, o.h)).statusCode).toBe(200);
    expect((await me(b, h)).statusCode).toBe(401);
    const v = await userVersion(o.tenant.id, user.id);
    expect((await call(a, 'POST', `/api/v1/users/${user.id}/activate`, o.h)).statusCode).toBe(200);
    expect(await userVersion(o.tenant.id, user.id)).not.toBe(v);
    await warm(bearer(await login(a, o.tenant.id, user.email)));
  });

  it('deactivation through PATCH is_active=false', async () => {
    const o = await ownerOf();
    const { user, h } = await signedInUser(o.tenant.id);
    await warm(h);
    const res = await call(a, 'PUT', `/api/v1/users/${user.id}`, o.h, { is_active: false });
    expect(res.statusCode, res.body).toBe(200);
    expect((await me(b, h)).statusCode).toBe(401);
  });

  it('deletion', async () => {
    const o = await ownerOf();
    const { user, h } = await signedInUser(o.tenant.id);
    await warm(h);
    expect((await call(a, 'DELETE', `/api/v1/users/${user.id}`, o.h)).statusCode).toBe(204);
    expect((await me(b, h)).statusCode).toBe(401);
  });

  for (const mode of ['delete', 'anonymize'] as const) {
    it(`GDPR ${mode}`, async () => {
      const o = await ownerOf();
      const { user, h } = await signedInUser(o.tenant.id);
      await warm(h);
      const v = await userVersion(o.tenant.id, user.id);
      const res = await call(a, mode === 'delete' ? 'DELETE' : 'POST', `/api/v1/gdpr/${mode}`, o.h, {
        user_id: user.id,
        reason: 'Art. 17 request received by mail',
        ...(mode === 'delete' ? { confirm: true } : {}),
      });
      expect(res.statusCode, res.body).toBe(200);
      expect((await me(b, h)).statusCode).toBe(401);
      expect(await userVersion(o.tenant.id, user.id)).not.toBe(v);
    });
  }
});

describe('issue 12 identity cache: roles, MFA and tenant, seen by the other replica on its next request', () => {
  async function mfaRole(o: Awaited<ReturnType<typeof ownerOf>>, mfaRequired: boolean) {
    const res = await call(a, 'POST', '/api/v1/roles', o.h, {
      code: `r${Date.now() % 1e9}${Math.floor(Math.random() * 1e4)}`,
      name: 'Role',
      permissions: ['users.read'],
      mfa_required: mfaRequired,
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id as string;
  }

  it('role assignment and removal (a role requiring MFA)', async () => {
    const o = await ownerOf();
    const { user, h } = await signedInUser(o.tenant.id);
    const role = await mfaRole(o, true);
    expect((await warm(h)).mfa_required).toBe(false);
    const add = await call(a, 'POST', `/api/v1/users/${user.id}/roles`, o.h, { role_id: role });
    expect(add.statusCode, add.body).toBe(201);
    expect((await me(b, h)).json().mfa_required).toBe(true);
    await warm(h);
    const del = await call(a, 'DELETE', `/api/v1/users/${user.id}/roles/${role}`, o.h);
    expect(del.statusCode, del.body).toBeLessThan(300);
    expect((await me(b, h)).json().mfa_required).toBe(false);
  });

  it('role edit: a held role starts requiring MFA', async () => {
    const o = await ownerOf();
    const { user, h } = await signedInUser(o.tenant.id);
    const role = await mfaRole(o, false);
    expect((await call(a, 'POST', `/api/v1/users/${user.id}/roles`, o.h, { role_id: role })).statusCode).toBe(
      201,
    );
    expect((await warm(h)).mfa_required).toBe(false);
    const upd = await call(a, 'PUT', `/api/v1/roles/${role}`, o.h, { mfa_required: true });
    expect(upd.statusCode, upd.body).toBe(200);
    expect((await me(b, h)).json().mfa_required).toBe(true);
  });

  it('role deletion: a held role requiring MFA goes away', async () => {
    const o = await ownerOf();
    const { user, h } = await signedInUser(o.tenant.id);
    const role = await mfaRole(o, true);
    expect((await call(a, 'POST', `/api/v1/users/${user.id}/roles`, o.h, { role_id: role })).statusCode).toBe(
      201,
    );
    expect((await warm(h)).mfa_required).toBe(true);
    const del = await call(a, 'DELETE', `/api/v1/roles/${role}`, o.h);
    expect(del.statusCode, del.body).toBeLessThan(300);
    expect((await me(b, h)).json().mfa_required).toBe(false);
  });

  it('an expiring assignment ends the cached entry with it (no write at all)', async () => {
    const o = await ownerOf();
    const { user, h } = await signedInUser(o.tenant.id);
    const role = await mfaRole(o, true);
    const expires = new Date(Date.now() + 2_000).toISOString();
    const add = await call(a, 'POST', `/api/v1/users/${user.id}/roles`, o.h, {
      role_id: role,
      expires_at: expires,
    });
    expect(add.statusCode, add.body).toBe(201);
    expect((await warm(h)).mfa_required).toBe(true);
    await new Promise((r) => setTimeout(r, Date.parse(expires) - Date.now() + 300));
    expect((await me(b, h)).json().mfa_required).toBe(false);
  });

  it('TOTP enabled, then disabled', async () => {
    const { tenant } = await newTenant(a);
    const u = await newUser(a, tenant.id);
    const first = bearer(await login(a, tenant.id, u.email));
    expect((await warm(first)).mfa_enabled).toBe(false);
    const { secret, tokens } = await enrolTotp(a, tenant.id, u.email);
    expect((await me(b, first)).json().mfa_enabled).toBe(true);
    await warm(bearer(tokens));
    await safeTotpMoment();
    const off = await call(a, 'POST', '/api/v1/mfa/disable', bearer(tokens), { code: totpCode(secret, 1) });
    expect(off.statusCode, off.body).toBe(200);
    expect((await me(b, bearer(tokens))).json().mfa_enabled).toBe(false);
  });

  it('a security key registered, then removed', async () => {
    const { tenant } = await newTenant(a);
    const u = await newUser(a, tenant.id);
    const t: Tokens = await login(a, tenant.id, u.email);
    expect((await warm(bearer(t))).mfa_enabled).toBe(false);
    const key = new SoftAuthenticator(a.ctx.config.webauthnRpId, a.ctx.config.webauthnOrigin);
    const opts = await call(a, 'POST', '/api/v1/mfa/webauthn/register/options', bearer(t));
    expect(opts.statusCode, opts.body).toBe(200);
    const reg = await call(a, 'POST', '/api/v1/mfa/webauthn/register/verify', bearer(t), {
      response: key.register(opts.json().challenge),
      name: 'YubiKey',
    });
    expect(reg.statusCode, reg.body).toBeLessThan(300);
    expect((await me(b, bearer(t))).json().mfa_enabled).toBe(true);
    await warm(bearer(t));
    // Removal needs a recent second-factor proof in this session (recorded as /mfa/webauthn/verify would).
    const session = JSON.parse(Buffer.from(t.access_token.split('.')[1]!, 'base64url').toString()).session_id;
    await a.ctx.store.set(keys.stepUp(tenant.id, u.id, session), 'webauthn', 300);
    const del = await call(a, 'DELETE', `/api/v1/mfa/webauthn/credentials/${reg.json().id}`, bearer(t));
    expect(del.statusCode, del.body).toBe(200);
    expect((await me(b, bearer(t))).json().mfa_enabled).toBe(false);
  });

  it('tenant settings: mfa_required turned on', async () => {
    const o = await ownerOf();
    const { h } = await signedInUser(o.tenant.id);
    expect((await warm(h)).mfa_required).toBe(false);
    const res = await call(a, 'PATCH', '/api/v1/tenants/current', o.h, { settings: { mfa_required: true } });
    expect(res.statusCode, res.body).toBe(200);
    expect((await me(b, h)).json().mfa_required).toBe(true);
  });

  it('tenant suspension (401 on B at once), then reactivation', async () => {
    const ops = await platformOperator(a);
    const o = await ownerOf();
    const { h } = await signedInUser(o.tenant.id);
    await warm(h);
    const v = await a.ctx.store.get(keys.tenantVersion(o.tenant.id));
    expect(
      (await call(a, 'POST', `/api/v1/tenants/${o.tenant.id}/suspend`, bearer(ops.tokens))).statusCode,
    ).toBe(200);
    expect((await me(b, h)).statusCode).toBe(401);
    expect(
      (await call(a, 'POST', `/api/v1/tenants/${o.tenant.id}/reactivate`, bearer(ops.tokens))).statusCode,
    ).toBe(200);
    expect(await a.ctx.store.get(keys.tenantVersion(o.tenant.id))).not.toBe(v);
  });

  it('tenant deletion (401 on B at once)', async () => {
    const ops = await platformOperator(a);
    const o = await ownerOf();
    const { h } = await signedInUser(o.tenant.id);
    await warm(h);
    const v = await a.ctx.store.get(keys.tenantVersion(o.tenant.id));
    const del = await call(a, 'DELETE', `/api/v1/tenants/${o.tenant.id}`, bearer(ops.tokens), {
      confirm: true,
    });
    expect(del.statusCode, del.body).toBeLessThan(300);
    expect((await me(b, h)).statusCode).toBe(401);
    expect(await a.ctx.store.get(keys.tenantVersion(o.tenant.id))).not.toBe(v);
  });
});

describe('issue 12 verified-token cache', () => {
  it('a token verified (and remembered) earlier is refused once it expires by the app clock', async () => {
    const clock = new MovableClock();
    const app = await createTestApp({}, undefined, { clock });
    try {
      const { tenant, admin } = await newTenant(app);
      const t = await login(app, tenant.id, admin.email);
      expect((await me(app, bearer(t))).statusCode).toBe(200);
      expect((await me(app, bearer(t))).statusCode).toBe(200);
      clock.advance(app.ctx.config.accessTokenLifetime + 1);
      const res = await me(app, bearer(t));
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toBe('TOKEN_EXPIRED');
    } finally {
      await app.close();
    }
  });

  it('a tampered copy of a remembered token is not taken for it', async () => {
    const { tenant, admin } = await newTenant(a);
    const t = await login(a, tenant.id, admin.email);
    expect((await me(a, bearer(t))).statusCode).toBe(200);
    const [h, p, sig] = t.access_token.split('.');
    const flipped = `${sig!.slice(0, -2)}${sig!.endsWith('AA') ? 'BB' : 'AA'}`;
    const res = await me(a, bearer(`${h}.${p}.${flipped}`));
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('TOKEN_INVALID');
  });
});
