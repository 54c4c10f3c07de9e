/**
 * The OIDC client registry (API.md §22, first step of issue 21), on both backends: CRUD, the secret shown once
 * and stored as its hash, rotation, every registration rule (redirect URIs, client type, grant types, scopes,
 * keys), the grant bound on permissions, the permissions of the routes, tenant isolation, the audit trail, and
 * hostile bodies.
 */
import { generateKeyPairSync } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSecretHashes } from '../../src/modules/oidc-clients/repository.js';
import { hashClientSecret } from '../../src/modules/oidc-clients/service.js';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant, newUser, type Tokens } from '../helpers/factories.js';

let app: FastifyInstance;

beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app?.close();
});

const URL_BASE = '/api/v1/oidc/clients';

async function adminOf() {
  const t = await newTenant(app);
  return { ...t, tokens: await login(app, t.tenant.id, t.admin.email) };
}

type Client = {
  id: string;
  client_id: string;
  client_secret: string | null;
  type: string;
  token_endpoint_auth_method: string;
  require_pkce: boolean;
  has_secret: boolean;
  previous_secret_expires_at: string | null;
  [k: string]: unknown;
};

const webApp = {
  name: 'Wiki',
  type: 'confidential',
  redirect_uris: ['https://wiki.example.test/oauth/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  allowed_scopes: ['openid', 'profile', 'email', 'offline_access'],
};

function post(tokens: Tokens, payload: unknown, target = app) {
  return target.inject({
    method: 'POST',
    url: URL_BASE,
    headers: bearer(tokens),
    payload: payload as object,
  });
}

async function create(tokens: Tokens, payload: Record<string, unknown>): Promise<Client> {
  const res = await post(tokens, payload);
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function secretHashes(tenantId: number, id: string) {
  return app.ctx.database.withTenant(tenantId, (tx) => clientSecretHashes(tx, tenantId, id));
}

async function auditOf(tokens: Tokens) {
  const res = await app.inject({
    method: 'GET',
    url: '/api/v1/audit/logs?resource_type=oidc_client&limit=50',
    headers: bearer(tokens),
  });
  expect(res.statusCode, res.body).toBe(200);
  return res;
}

describe('OIDC client registry', () => {
  it('registers, lists, reads, changes and deletes a client; the secret is shown once and stored hashed; audited', async () => {
    const { tenant, tokens } = await adminOf();
    const c = await create(tokens, webApp);
    expect(c.client_id).toMatch(/^mc_[A-Za-z0-9_-]{22}$/);
    expect(c.client_secret).toMatch(/^mcs_[A-Za-z0-9_-]{43}$/);
    expect(c).toMatchObject({
      type: 'confidential',
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
      require_pkce: false,
      has_secret: true,
      first_party: false,
      enabled: true,
      permissions: [],
    });
    // Stored as its SHA-256, never in clear.
    const stored = await secretHashes(tenant.id, c.id);
    expect(stored?.secretHash).toBe(hashClientSecret(c.client_secret!));
    const raw = await app.ctx.database.withTenant(tenant.id, (tx) =>
      tx.execute(sql`select row_to_json(c)::text as j from oidc_clients c where id = ${c.id}`),
    );
    expect(JSON.stringify(raw.rows)).not.toContain(c.client_secret);

    const list = await app.inject({ method: 'GET', url: URL_BASE, headers: bearer(tokens) });
    expect(list.statusCode).toBe(200);
    expect(list.json().clients.map((x: Client) => x.id)).toEqual([c.id]);
    expect(list.json().next_cursor).toBeNull();
    expect(list.headers['cache-control']).toContain('no-store');
    const one = await app.inject({ method: 'GET', url: `${URL_BASE}/${c.id}`, headers: bearer(tokens) });
    expect(one.statusCode).toBe(200);
    for (const body of [list.body, one.body]) {
      expect(body).not.toContain(c.client_secret);
      expect(body).not.toContain(stored!.secretHash!);
      expect(body).not.toContain('client_secret"');
    }
    expect(one.json()).not.toHaveProperty('client_secret');

    const patched = await app.inject({
      method: 'PATCH',
      url: `${URL_BASE}/${c.id}`,
      headers: bearer(tokens),
      payload: {
        name: 'Team wiki',
        first_party: true,
        token_endpoint_auth_method: 'client_secret_post',
        id_token_signed_response_alg: 'EdDSA',
        post_logout_redirect_uris: ['https://wiki.example.test/'],
        enabled: false,
      },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({
      name: 'Team wiki',
      first_party: true,
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'EdDSA',
      enabled: false,
      redirect_uris: webApp.redirect_uris,
    });
    expect(patched.body).not.toContain(c.client_secret);

    const del = await app.inject({ method: 'DELETE', url: `${URL_BASE}/${c.id}`, headers: bearer(tokens) });
    expect(del.statusCode, del.body).toBe(200);
    expect(del.json().success).toBe(true);
    const gone = await app.inject({ method: 'GET', url: `${URL_BASE}/${c.id}`, headers: bearer(tokens) });
    expect(gone.statusCode).toBe(404);

    const audit = await auditOf(tokens);
    const items = audit.json().items as { event_type: string; resource_id: string }[];
    expect(items.filter((i) => i.resource_id === c.id).map((i) => i.event_type)).toEqual(
      expect.arrayContaining(['oidc_client.created', 'oidc_client.updated', 'oidc_client.deleted']),
    );
    expect(audit.body).not.toContain(c.client_secret);
    expect(audit.body).not.toContain(stored!.secretHash!);
  });

  it('a public client has no secret, authenticates with none and requires PKCE', async () => {
    const { tokens } = await adminOf();
    const c = await create(tokens, {
      name: 'Mobile app',
      type: 'public',
      redirect_uris: ['http://127.0.0.1:8765/callback', 'http://localhost/cb', 'http://[::1]:9000/cb'],
      grant_types: ['authorization_code', 'refresh_token'],
    });
    expect(c).toMatchObject({
      client_secret: null,
      token_endpoint_auth_method: 'none',
      require_pkce: true,
      has_secret: false,
      allowed_scopes: ['openid', 'profile', 'email'],
    });
    const rotate = await app.inject({
      method: 'POST',
      url: `${URL_BASE}/${c.id}/secret`,
      headers: bearer(tokens),
    });
    expect(rotate.statusCode, rotate.body).toBe(409);
    expect(rotate.json().error).toBe('OIDC_CLIENT_NO_SECRET');
  });

  it('rotation: the new secret is shown once, the old hash is replaced (or kept until an overlap ends); audited', async () => {
    const { tenant, tokens } = await adminOf();
    const c = await create(tokens, webApp);
    const rotated = await app.inject({
      method: 'POST',
      url: `${URL_BASE}/${c.id}/secret`,
      headers: bearer(tokens),
    });
    expect(rotated.statusCode, rotated.body).toBe(200);
    const s2 = rotated.json().client_secret as string;
    expect(s2).toMatch(/^mcs_/);
    expect(s2).not.toBe(c.client_secret);
    expect(rotated.json().previous_secret_expires_at).toBeNull();
    let h = await secretHashes(tenant.id, c.id);
    expect(h).toMatchObject({ secretHash: hashClientSecret(s2), previousSecretHash: null });

    // With an overlap the previous hash is kept, until the time given.
    const overlap = await app.inject({
      method: 'POST',
      url: `${URL_BASE}/${c.id}/secret`,
      headers: bearer(tokens),
      payload: { previous_secret_expires_in: 3600 },
    });
    expect(overlap.statusCode, overlap.body).toBe(200);
    const s3 = overlap.json().client_secret as string;
    h = await secretHashes(tenant.id, c.id);
    expect(h).toMatchObject({ secretHash: hashClientSecret(s3), previousSecretHash: hashClientSecret(s2) });
    const until = Date.parse(overlap.json().previous_secret_expires_at);
    expect(until - Date.now()).toBeGreaterThan(3500_000);
    expect(until - Date.now()).toBeLessThanOrEqual(3600_000);
    // Never read back.
    const read = await app.inject({ method: 'GET', url: `${URL_BASE}/${c.id}`, headers: bearer(tokens) });
    expect(read.body).not.toContain(s3);
    expect(read.json().previous_secret_expires_at).toBe(overlap.json().previous_secret_expires_at);

    for (const payload of [
      { previous_secret_expires_in: -1 },
      { previous_secret_expires_in: 8 * 86400 },
      { x: 1 },
    ]) {
      const bad = await app.inject({
        method: 'POST',
        url: `${URL_BASE}/${c.id}/secret`,
        headers: bearer(tokens),
        payload,
      });
      expect(bad.statusCode, JSON.stringify(payload)).toBe(422);
    }
    const audit = await auditOf(tokens);
    const rotations = (audit.json().items as { event_type: string }[]).filter(
      (i) => i.event_type === 'oidc_client.secret_rotated',
    );
    expect(rotations).toHaveLength(2);
    expect(audit.body).not.toContain(s2);
    expect(audit.body).not.toContain(s3);
  });

  it('machine clients: client_credentials with permissions the caller holds; private_key_jwt with a JWK Set or a jwks_uri', async () => {
    const { tokens } = await adminOf();
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const m = await create(tokens, {
      name: 'CI',
      type: 'confidential',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ ...jwk, kid: 'k1', use: 'sig' }] },
      permissions: ['users.read', 'audit.read'],
      allowed_scopes: [],
    });
    expect(m).toMatchObject({
      client_secret: null,
      has_secret: false,
      permissions: ['users.read', 'audit.read'],
    });
    expect((m.jwks as { keys: { kid: string }[] }).keys[0]!.kid).toBe('k1');
    const u = await create(tokens, {
      name: 'Deploy bot',
      type: 'confidential',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: 'https://bot.example.test/jwks.json',
      permissions: ['users.*'],
    });
    expect(u).toMatchObject({ jwks_uri: 'https://bot.example.test/jwks.json', jwks: null });
    // From inline keys to a URL: the keys not given are cleared.
    const switched = await app.inject({
      method: 'PATCH',
      url: `${URL_BASE}/${m.id}`,
      headers: bearer(tokens),
      payload: { jwks_uri: 'https://ci.example.test/jwks' },
    });
    expect(switched.statusCode, switched.body).toBe(200);
    expect(switched.json()).toMatchObject({ jwks: null, jwks_uri: 'https://ci.example.test/jwks' });
  });

  it('refuses (422 naming the field) every client the rules forbid, and writes nothing', async () => {
    const { tokens } = await adminOf();
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const privateJwk = privateKey.export({ format: 'jwk' });
    const conf = (extra: Record<string, unknown>) => ({ ...webApp, ...extra });
    const cases: [Record<string, unknown>, string][] = [
      // redirect URIs
      [conf({ redirect_uris: ['/relative/callback'] }), 'redirect_uris'],
      [conf({ redirect_uris: ['http://wiki.example.test/cb'] }), 'redirect_uris'],
      [conf({ redirect_uris: ['http://10.0.0.1/cb'] }), 'redirect_uris'],
      [conf({ redirect_uris: ['https://wiki.example.test/cb#frag'] }), 'redirect_uris'],
      [conf({ redirect_uris: ['https://*.example.test/cb'] }), 'redirect_uris'],
      [conf({ redirect_uris: ['https://wiki.example.test/*'] }), 'redirect_uris'],
      [conf({ redirect_uris: ['https://user:pw@wiki.example.test/cb'] }), 'redirect_uris'],
      [conf({ redirect_uris: ['javascript:alert(1)'] }), 'redirect_uris'],
      [conf({ redirect_uris: ['https://wiki.example.test/ cb'] }), 'redirect_uris'],
      [conf({ post_logout_redirect_uris: ['http://wiki.example.test/'] }), 'post_logout_redirect_uris'],
      [conf({ redirect_uris: [] }), 'redirect_uris'],
      [
        conf({ redirect_uris: Array.from({ length: 21 }, (_, i) => `https://a.example.test/${i}`) }),
        'redirect_uris',
      ],
      [conf({ redirect_uris: ['https://a.example.test/cb', 'https://a.example.test/cb'] }), 'redirect_uris'],
      [conf({ redirect_uris: [`https://a.example.test/${'x'.repeat(2100)}`] }), 'redirect_uris'],
      // client type and authentication
      [
        conf({ type: 'public', token_endpoint_auth_method: 'client_secret_basic' }),
        'token_endpoint_auth_method',
      ],
      [conf({ token_endpoint_auth_method: 'none' }), 'token_endpoint_auth_method'],
      [conf({ token_endpoint_auth_method: 'client_secret_jwt' }), 'token_endpoint_auth_method'],
      [conf({ type: 'spa' }), 'type'],
      // grant types
      [
        conf({
          type: 'public',
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'client_credentials'],
        }),
        'grant_types',
      ],
      [conf({ grant_types: ['refresh_token'], redirect_uris: [] }), 'grant_types'],
      [conf({ grant_types: ['implicit'] }), 'grant_types'],
      [conf({ grant_types: ['password'] }), 'grant_types'],
      [conf({ grant_types: [] }), 'grant_types'],
      [
        {
          name: 'm',
          type: 'confidential',
          grant_types: ['client_credentials'],
          redirect_uris: ['https://a.example.test/cb'],
        },
        'redirect_uris',
      ],
      [conf({ permissions: ['users.read'] }), 'permissions'],
      // scopes and permissions
      [conf({ allowed_scopes: ['openid', 'admin'] }), 'allowed_scopes'],
      [conf({ allowed_scopes: ['openid', 'openid'] }), 'allowed_scopes'],
      [
        { name: 'm', type: 'confidential', grant_types: ['client_credentials'], permissions: ['users.fly'] },
        'permissions',
      ],
      [
        {
          name: 'm',
          type: 'confidential',
          grant_types: ['client_credentials'],
          permissions: Array.from({ length: 51 }, (_, i) => `p${i}.read`),
        },
        'permissions',
      ],
      // keys
      [conf({ token_endpoint_auth_method: 'private_key_jwt' }), 'jwks'],
      [conf({ jwks_uri: 'https://wiki.example.test/jwks' }), 'jwks'],
      [conf({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [privateJwk] } }), 'jwks'],
      [
        conf({
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }] },
        }),
        'jwks',
      ],
      [
        conf({
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] },
        }),
        'jwks',
      ],
      [
        conf({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'http://keys.example.test/jwks' }),
        'jwks_uri',
      ],
      [
        conf({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'ftp://keys.example.test/jwks' }),
        'jwks_uri',
      ],
      // other fields
      [conf({ id_token_signed_response_alg: 'none' }), 'id_token_signed_response_alg'],
      [conf({ id_token_signed_response_alg: 'HS256' }), 'id_token_signed_response_alg'],
      [conf({ name: '' }), 'name'],
      [conf({ name: 'x'.repeat(201) }), 'name'],
      [conf({ client_secret: 'mine' }), 'client_secret'],
      [conf({ client_id: 'mine' }), 'client_id'],
      [conf({ secret_hash: 'x' }), 'secret_hash'],
    ];
    for (const [payload, field] of cases) {
      const res = await post(tokens, payload);
      expect(res.statusCode, `${JSON.stringify(payload).slice(0, 200)} → ${res.body}`).toBe(422);
      expect(res.json().error).toBe('VALIDATION_ERROR');
      expect(JSON.stringify(res.json().details), JSON.stringify(payload).slice(0, 200)).toContain(field);
    }
    const list = await app.inject({ method: 'GET', url: URL_BASE, headers: bearer(tokens) });
    expect(list.json().clients).toEqual([]);
  });

  it('a change is held to the same rules as a creation; type and the secret stay as they are', async () => {
    const { tokens } = await adminOf();
    const c = await create(tokens, webApp);
    const cases: [Record<string, unknown>, string][] = [
      [{ type: 'public' }, 'type'],
      [{ redirect_uris: [] }, 'redirect_uris'],
      [{ redirect_uris: ['https://wiki.example.test/cb#x'] }, 'redirect_uris'],
      [{ token_endpoint_auth_method: 'none' }, 'token_endpoint_auth_method'],
      [
        { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://k.example.test/j' },
        'token_endpoint_auth_method',
      ],
      [{ permissions: ['users.read'] }, 'permissions'],
      [{ grant_types: ['refresh_token'] }, 'grant_types'],
      [{ client_secret: 'mine' }, 'client_secret'],
    ];
    for (const [payload, field] of cases) {
      const res = await app.inject({
        method: 'PATCH',
        url: `${URL_BASE}/${c.id}`,
        headers: bearer(tokens),
        payload,
      });
      expect(res.statusCode, `${JSON.stringify(payload)} → ${res.body}`).toBe(422);
      expect(JSON.stringify(res.json().details)).toContain(field);
    }
    const after = await app.inject({ method: 'GET', url: `${URL_BASE}/${c.id}`, headers: bearer(tokens) });
    expect(after.json()).toMatchObject({
      redirect_uris: webApp.redirect_uris,
      token_endpoint_auth_method: 'client_secret_basic',
    });
  });

  it('nothing grants more than the giver holds: permissions the caller lacks are 403 PERMISSION_DENIED, audited as refused', async () => {
    const a = await adminOf();
    // A custom role with the registry's permissions but not users.read.
    const role = await app.inject({
      method: 'POST',
      url: '/api/v1/roles',
      headers: bearer(a.tokens),
      payload: {
        code: 'oidc_admin',
        name: 'OIDC admin',
        permissions: ['oidc.clients.read', 'oidc.clients.write', 'audit.read'],
      },
    });
    expect(role.statusCode, role.body).toBe(201);
    const u = await newUser(app, a.tenant.id);
    const assign = await app.inject({
      method: 'POST',
      url: `/api/v1/users/${u.id}/roles`,
      headers: bearer(a.tokens),
      payload: { role_id: role.json().id },
    });
    expect(assign.statusCode, assign.body).toBeLessThan(300);
    const t = await login(app, a.tenant.id, u.email);
    const machine = { name: 'svc', type: 'confidential', grant_types: ['client_credentials'] };
    const refused = await post(t, { ...machine, permissions: ['users.read'] });
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json().error).toBe('PERMISSION_DENIED');
    expect(refused.json().details.permissions).toEqual(['users.read']);
    // What they hold, they may give; the wildcard `users.*` is more than they hold.
    const ok = await create(t, { ...machine, permissions: ['audit.read'] });
    for (const payload of [{ permissions: ['users.*'] }, { permissions: ['audit.read', 'users.read'] }]) {
      const res = await app.inject({
        method: 'PATCH',
        url: `${URL_BASE}/${ok.id}`,
        headers: bearer(t),
        payload,
      });
      expect(res.statusCode, res.body).toBe(403);
      expect(res.json().error).toBe('PERMISSION_DENIED');
    }
    const list = await app.inject({ method: 'GET', url: URL_BASE, headers: bearer(t) });
    expect(list.json().clients).toHaveLength(1);
    expect(list.json().clients[0].permissions).toEqual(['audit.read']);
    const audit = await app.inject({
      method: 'GET',
      url: '/api/v1/audit/logs?event_type=access.change_refused&limit=10',
      headers: bearer(a.tokens),
    });
    expect(audit.json().items.map((i: { resource_id: string }) => i.resource_id)).toEqual(
      expect.arrayContaining(['oidc_client.create', 'oidc_client.update']),
    );
  });

  it('oidc.clients.read reads but cannot write (403); a member has neither; admin holds both', async () => {
    const a = await adminOf();
    const c = await create(a.tokens, webApp);
    const role = await app.inject({
      method: 'POST',
      url: '/api/v1/roles',
      headers: bearer(a.tokens),
      payload: { code: 'oidc_viewer', name: 'OIDC viewer', permissions: ['oidc.clients.read'] },
    });
    expect(role.statusCode, role.body).toBe(201);
    const viewer = await newUser(app, a.tenant.id);
    await app.inject({
      method: 'POST',
      url: `/api/v1/users/${viewer.id}/roles`,
      headers: bearer(a.tokens),
      payload: { role_id: role.json().id },
    });
    const v = await login(app, a.tenant.id, viewer.email);
    expect((await app.inject({ method: 'GET', url: URL_BASE, headers: bearer(v) })).statusCode).toBe(200);
    expect(
      (await app.inject({ method: 'GET', url: `${URL_BASE}/${c.id}`, headers: bearer(v) })).statusCode,
    ).toBe(200);
    for (const [method, url, payload] of [
      ['POST', URL_BASE, webApp],
      ['PATCH', `${URL_BASE}/${c.id}`, { name: 'x' }],
      ['DELETE', `${URL_BASE}/${c.id}`, undefined],
      ['POST', `${URL_BASE}/${c.id}/secret`, undefined],
    ] as const) {
      const res = await app.inject({ method, url, headers: bearer(v), payload });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().error).toBe('PERMISSION_DENIED');
    }
    for (const code of ['member', 'viewer', 'manager'] as const) {
      const m = await newUser(app, a.tenant.id, { roles: [code] });
      const mt = await login(app, a.tenant.id, m.email);
      const res = await app.inject({ method: 'GET', url: URL_BASE, headers: bearer(mt) });
      expect(res.statusCode, code).toBe(403);
    }
    // Three-part codes: `oidc.*` and `oidc.clients.*` both cover them (a wildcard covers what begins with its stem).
    for (const [code, wildcard] of [
      ['oidc_all', 'oidc.*'],
      ['oidc_clients_all', 'oidc.clients.*'],
    ] as const) {
      const r = await app.inject({
        method: 'POST',
        url: '/api/v1/roles',
        headers: bearer(a.tokens),
        payload: { code, name: code, permissions: [wildcard] },
      });
      expect(r.statusCode, r.body).toBe(201);
      const w = await newUser(app, a.tenant.id);
      await app.inject({
        method: 'POST',
        url: `/api/v1/users/${w.id}/roles`,
        headers: bearer(a.tokens),
        payload: { role_id: r.json().id },
      });
      const wt = await login(app, a.tenant.id, w.email);
      expect((await post(wt, webApp)).statusCode, wildcard).toBe(201);
      expect((await app.inject({ method: 'GET', url: URL_BASE, headers: bearer(wt) })).statusCode).toBe(200);
    }
    const admin = await newUser(app, a.tenant.id, { roles: ['admin'] });
    const at = await login(app, a.tenant.id, admin.email);
    expect((await post(at, webApp)).statusCode).toBe(201);
  });

  it("another tenant's client is 404 on every route and is left unchanged", async () => {
    const a = await adminOf();
    const b = await adminOf();
    const c = await create(a.tokens, webApp);
    for (const [method, url, payload] of [
      ['GET', `${URL_BASE}/${c.id}`, undefined],
      ['PATCH', `${URL_BASE}/${c.id}`, { name: 'stolen' }],
      ['DELETE', `${URL_BASE}/${c.id}`, undefined],
      ['POST', `${URL_BASE}/${c.id}/secret`, undefined],
    ] as const) {
      const res = await app.inject({ method, url, headers: bearer(b.tokens), payload });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().error).toBe('NOT_FOUND');
    }
    const listB = await app.inject({ method: 'GET', url: URL_BASE, headers: bearer(b.tokens) });
    expect(listB.json().clients).toEqual([]);
    const h = await secretHashes(a.tenant.id, c.id);
    expect(h?.secretHash).toBe(hashClientSecret(c.client_secret!));
    const read = await app.inject({ method: 'GET', url: `${URL_BASE}/${c.id}`, headers: bearer(a.tokens) });
    expect(read.json().name).toBe('Wiki');
  });

  it('lists by cursor, oldest first', async () => {
    const { tokens } = await adminOf();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create(tokens, { ...webApp, name: `c${i}` })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
      const res = await app.inject({ method: 'GET', url: `${URL_BASE}${q}`, headers: bearer(tokens) });
      expect(res.statusCode, res.body).toBe(200);
      seen.push(...res.json().clients.map((c: Client) => c.id));
      cursor = res.json().next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual(ids);
    expect(pages).toBe(3);
    for (const q of ['?cursor=nope', '?limit=0', '?limit=101']) {
      const res = await app.inject({ method: 'GET', url: `${URL_BASE}${q}`, headers: bearer(tokens) });
      expect(res.statusCode, q).toBe(422);
    }
  });

  it('the per-tenant client limit holds under parallel creations (409 OIDC_CLIENT_LIMIT_REACHED)', async () => {
    const limited = await createTestApp({ OIDC_MAX_CLIENTS: '3' }, app);
    try {
      const { tokens } = await adminOf();
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) => post(tokens, { ...webApp, name: `c${i}` }, limited)),
      );
      expect(results.filter((r) => r.statusCode === 201)).toHaveLength(3);
      const refused = results.filter((r) => r.statusCode !== 201);
      expect(
        refused.every((r) => r.statusCode === 409 && r.json().error === 'OIDC_CLIENT_LIMIT_REACHED'),
      ).toBe(true);
    } finally {
      await limited.close();
    }
  });

  it('hostile bodies are 4xx envelopes, never 500: malformed JSON, not an object, oversized', async () => {
    const { tokens } = await adminOf();
    const headers = { ...bearer(tokens), 'content-type': 'application/json' };
    for (const payload of [
      '{"name":',
      '{name: "a"}',
      'null',
      '[]',
      '"str"',
      '{"name":"a","type":"public"}}',
    ]) {
      const res = await app.inject({ method: 'POST', url: URL_BASE, headers, payload });
      expect(res.statusCode, payload).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, payload).toBeLessThan(500);
      expect(res.json()).toHaveProperty('error');
    }
    const big = await app.inject({
      method: 'POST',
      url: URL_BASE,
      headers,
      payload: JSON.stringify({ ...webApp, name: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(big.statusCode).toBe(413);
    const badId = await app.inject({ method: 'GET', url: `${URL_BASE}/not-a-uuid`, headers: bearer(tokens) });
    expect(badId.statusCode).toBe(422);
    const anon = await app.inject({ method: 'GET', url: URL_BASE });
    expect(anon.statusCode).toBe(401);
  });
});
