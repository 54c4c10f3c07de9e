/**
 * GDPR rights (API.md §9): export covers every table holding the user's data and nothing of anyone else;
 * erasure leaves no email or name of the user anywhere in the database while the audit chain still verifies.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainBackground } from '../../src/platform/mail/background.js';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant, newUser, PASSWORD, type Tokens } from '../helpers/factories.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app?.close();
});

/** A name nobody else has, so finding it anywhere in the database means it was not erased. */
const rareName = (prefix: string) =>
  prefix + [...randomBytes(6)].map((b) => String.fromCharCode(97 + (b % 26))).join('');

async function adminOf(settings?: Record<string, unknown>) {
  const t = await newTenant(app, { superuser: true, settings });
  return { ...t, tokens: await login(app, t.tenant.id, t.admin.email) };
}

/** A user with some of everything: registered with a name, two sessions, a failed login, a reset link, an API key. */
async function richUser(tenantId: number, adminTokens: Tokens) {
  const email = `${rareName('gdpr')}@example.test`;
  const first = rareName('Zephyr');
  const last = rareName('Quillon');
  const phone = `+336${String(randomBytes(4).readUInt32BE()).padStart(10, '0').slice(0, 8)}`;
  const headers = { 'x-tenant-id': String(tenantId) };
  const reg = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/register',
    headers,
    payload: { email, password: PASSWORD, first_name: first, last_name: last },
  });
  expect(reg.statusCode, reg.body).toBe(201);
  const id = reg.json().id as number;
  // Made a superuser by the admin, so it may hold an API key (and the change is an audited record with names).
  const promote = await app.inject({
    method: 'PUT',
    url: `/api/v1/users/${id}`,
    headers: bearer(adminTokens),
    payload: { is_superuser: true, phone },
  });
  expect(promote.statusCode, promote.body).toBe(200);
  const s1 = await login(app, tenantId, email);
  await login(app, tenantId, email);
  await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    headers,
    payload: { email, password: 'Wrong-Password-1!' },
  });
  await app.inject({ method: 'POST', url: '/api/v1/password-reset/request', headers, payload: { email } });
  await drainBackground(app.ctx);
  const key = await app.inject({
    method: 'POST',
    url: '/api/v1/api-keys',
    headers: bearer(s1),
    payload: { name: 'laptop key' },
  });
  expect(key.statusCode, key.body).toBe(201);
  return { id, email, first, last, phone, tokens: s1, keyId: key.json().id as number };
}

describe('GDPR export', () => {
  it("contains the user's profile, sessions, keys, audit events and identities, and nothing of another user", async () => {
    const { tenant, tokens } = await adminOf({ self_registration: true });
    const u = await richUser(tenant.id, tokens);
    const other = await richUser(tenant.id, tokens);

    for (const res of [
      await app.inject({ method: 'GET', url: `/api/v1/gdpr/export/${u.id}`, headers: bearer(tokens) }),
      await app.inject({ method: 'GET', url: '/api/v1/gdpr/export', headers: bearer(u.tokens) }),
    ]) {
      expect(res.statusCode, res.body).toBe(200);
      const data = res.json();
      expect(data.user).toMatchObject({
        id: u.id,
        email: u.email,
        first_name: u.first,
        last_name: u.last,
        phone: u.phone,
      });
      expect(data.user).not.toHaveProperty('password_hash');
      expect(data.sessions.length).toBeGreaterThanOrEqual(2);
      expect(data.api_keys.map((k: { id: number }) => k.id)).toEqual([u.keyId]);
      expect(data.identities).toEqual([]);
      expect(data).toHaveProperty('mfa');
      expect(data.password_reset_requests).toHaveLength(1);
      const types = data.audit_events.map((e: { event_type: string }) => e.event_type);
      expect(types).toEqual(
        expect.arrayContaining([
          'user.registered',
          'auth.login_success',
          'auth.login_failed',
          'password_reset.requested',
        ]),
      );
      for (const e of data.audit_events) {
        expect(e.actor_id === String(u.id) || e.resource_id === String(u.id)).toBe(true);
      }
      // The user's own values are put back in their audit events.
      expect(JSON.stringify(data.audit_events)).toContain(u.email);
      const text = JSON.stringify(data);
      expect(text).not.toContain(other.email);
      expect(text).not.toContain(other.first);
    }
    // The export is itself audited.
    const logs = await app.inject({
      method: 'GET',
      url: `/api/v1/audit/logs?event_type=gdpr.exported&resource_id=${u.id}`,
      headers: bearer(tokens),
    });
    expect(logs.json().items).toHaveLength(2);
  });

  it('is scoped to the tenant: a user of another tenant is 404; users need gdpr.manage for others', async () => {
    const a = await adminOf();
    const b = await adminOf();
    const foreign = await newUser(app, b.tenant.id);
    const res = await app.inject({
      method: 'GET',
      url: `/api/v1/gdpr/export/${foreign.id}`,
      headers: bearer(a.tokens),
    });
    expect(res.statusCode).toBe(404);
    const plainUser = await newUser(app, a.tenant.id);
    const plain = await login(app, a.tenant.id, plainUser.email);
    expect(
      (await app.inject({ method: 'GET', url: `/api/v1/gdpr/export/${a.admin.id}`, headers: bearer(plain) }))
        .statusCode,
    ).toBe(403);
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/gdpr/export', headers: bearer(plain) })).statusCode,
    ).toBe(200);
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/gdpr/export/abc', headers: bearer(a.tokens) }))
        .statusCode,
    ).toBe(422);
  });
});

/** Every text/json column of every table in the public schema, searched as the owner (RLS bypassed). */
async function findAnywhere(needles: string[]): Promise<string[]> {
  const cols = await app.ctx.database.query<{ table_name: string; column_name: string }>(
    `select c.table_name, c.column_name from information_schema.columns c
       join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
     where c.table_schema = 'public' and t.table_type = 'BASE TABLE'
       and c.data_type in ('text', 'character varying', 'character', 'jsonb', 'json', 'ARRAY', 'bytea')`,
  );
  const hits: string[] = [];
  for (const { table_name, column_name } of cols) {
    for (const n of needles) {
      const rows = await app.ctx.database.query<{ n: number }>(
        `select count(*)::int as n from "${table_name}" where "${column_name}"::text ilike $1`,
        [`%${n}%`],
      );
      if (Number(rows[0]!.n) > 0) hits.push(`${table_name}.${column_name} contains ${n}`);
    }
  }
  return hits;
}

describe('GDPR erasure', () => {
  it('leaves no email or name of the user anywhere in the database, and the chain still verifies', async () => {
    const { tenant, tokens, admin } = await adminOf({ self_registration: true });
    const u = await richUser(tenant.id, tokens);
    expect(await findAnywhere([u.email, u.first, u.last])).not.toEqual([]);
    const eventsBefore = (
      await app.inject({
        method: 'GET',
        url: `/api/v1/audit/logs?resource_type=user&resource_id=${u.id}&limit=500`,
        headers: bearer(tokens),
      })
    ).json().items.length;

    const res = await app.inject({
      method: 'DELETE',
      url: '/api/v1/gdpr/delete',
      headers: bearer(tokens),
      payload: { user_id: u.id, reason: 'Art. 17 request received by mail', confirm: true },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toMatchObject({
      user_id: u.id,
      mode: 'deleted',
      pseudonym: expect.stringMatching(/^user-[0-9a-f]{20}$/),
    });
    expect(res.json().data.sessions_revoked).toBeGreaterThanOrEqual(2);
    expect(res.json().data.modules).toEqual(expect.arrayContaining(['api_keys', 'mfa']));

    expect(await findAnywhere([u.email, u.first, u.last, u.phone])).toEqual([]);
    const verify = await app.inject({ method: 'GET', url: '/api/v1/audit/verify', headers: bearer(tokens) });
    expect(verify.json()).toMatchObject({ valid: true });
    // Records are pseudonymised, never deleted.
    const after = (
      await app.inject({
        method: 'GET',
        url: `/api/v1/audit/logs?resource_type=user&resource_id=${u.id}&limit=500`,
        headers: bearer(tokens),
      })
    ).json().items;
    expect(after.length).toBeGreaterThan(eventsBefore);
    expect(JSON.stringify(after)).not.toContain(u.email);
    const erased = after.find((e: { event_type: string }) => e.event_type === 'gdpr.erased');
    expect(erased).toMatchObject({
      actor_id: String(admin.id),
      metadata: { reason: 'Art. 17 request received by mail' },
    });

    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(u.tokens) })).statusCode,
    ).toBe(401);
    expect(
      (await app.inject({ method: 'GET', url: `/api/v1/gdpr/export/${u.id}`, headers: bearer(tokens) }))
        .statusCode,
    ).toBe(404);
  });

  it('anonymisation replaces personal data by a pseudonym and keeps the account as a husk', async () => {
    const { tenant, tokens } = await adminOf({ self_registration: true });
    const u = await richUser(tenant.id, tokens);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/gdpr/anonymize',
      headers: bearer(tokens),
      payload: { user_id: u.id, reason: 'Account closed at customer request' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const pseudonym = res.json().data.pseudonym;
    expect(res.json().data.mode).toBe('anonymized');
    expect(await findAnywhere([u.email, u.first, u.last, u.phone])).toEqual([]);
    const exp = (
      await app.inject({ method: 'GET', url: `/api/v1/gdpr/export/${u.id}`, headers: bearer(tokens) })
    ).json();
    expect(exp.user).toMatchObject({
      email: `${pseudonym}@anonymized.invalid`,
      first_name: null,
      last_name: null,
      phone: null,
      is_active: false,
      has_password: false,
    });
    expect(
      exp.sessions.every(
        (s: { ip_address: string | null; revoked_at: string | null }) =>
          s.ip_address === null && s.revoked_at !== null,
      ),
    ).toBe(true);
    expect(exp.api_keys.every((k: { is_revoked: boolean }) => k.is_revoked)).toBe(true);
    await expect(login(app, tenant.id, u.email)).rejects.toThrow(/401/);
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/audit/verify', headers: bearer(tokens) })).json()
        .valid,
    ).toBe(true);
    // The pseudonym is stable.
    const again = await app.inject({
      method: 'POST',
      url: '/api/v1/gdpr/anonymize',
      headers: bearer(tokens),
      payload: { user_id: u.id, reason: 'Account closed at customer request' },
    });
    expect(again.json().data.pseudonym).toBe(pseudonym);
  });

  it('refuses self-erasure, other tenants, bad bodies and callers without gdpr.manage', async () => {
    const a = await adminOf();
    const b = await adminOf();
    const victim = await newUser(app, a.tenant.id);
    const foreign = await newUser(app, b.tenant.id);
    const del = (tokens: Tokens, payload: Record<string, unknown>) =>
      app.inject({ method: 'DELETE', url: '/api/v1/gdpr/delete', headers: bearer(tokens), payload });
    const reason = 'Erasure requested in writing';

    const self = await del(a.tokens, { user_id: a.admin.id, reason, confirm: true });
    expect(self.statusCode).toBe(400);
    expect(self.json().error).toBe('CANNOT_ERASE_SELF');
    expect((await del(a.tokens, { user_id: foreign.id, reason, confirm: true })).statusCode).toBe(404);
    expect((await del(a.tokens, { user_id: 2_000_000_000, reason, confirm: true })).statusCode).toBe(404);
    expect((await del(a.tokens, { user_id: victim.id, reason, confirm: false })).statusCode).toBe(422);
    expect((await del(a.tokens, { user_id: victim.id, reason: 'short', confirm: true })).statusCode).toBe(
      422,
    );
    expect((await del(a.tokens, { user_id: victim.id, reason, confirm: true, extra: 1 })).statusCode).toBe(
      422,
    );
    const anonSelf = await app.inject({
      method: 'POST',
      url: '/api/v1/gdpr/anonymize',
      headers: bearer(a.tokens),
      payload: { user_id: a.admin.id, reason },
    });
    expect(anonSelf.statusCode).toBe(400);
    const plain = await login(app, a.tenant.id, victim.email);
    expect((await del(plain, { user_id: a.admin.id, reason, confirm: true })).statusCode).toBe(403);
    expect(
      (await app.inject({ method: 'DELETE', url: '/api/v1/gdpr/delete', payload: { user_id: 1 } }))
        .statusCode,
    ).toBe(401);
    // The foreign user is untouched.
    expect((await login(app, b.tenant.id, foreign.email)).access_token).toBeTruthy();
  });

  it('parallel erasures of one user: one succeeds, the others find nobody', async () => {
    const { tenant, tokens } = await adminOf();
    const victim = await newUser(app, tenant.id);
    await login(app, tenant.id, victim.email);
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        app.inject({
          method: 'DELETE',
          url: '/api/v1/gdpr/delete',
          headers: bearer(tokens),
          payload: { user_id: victim.id, reason: 'Parallel erasure race', confirm: true },
        }),
      ),
    );
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes.filter((c) => c === 200)).toHaveLength(1);
    expect(codes.filter((c) => c === 404)).toHaveLength(4);
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/audit/verify', headers: bearer(tokens) })).json()
        .valid,
    ).toBe(true);
  });
});

describe('GDPR inventory', () => {
  it('lists categories, purposes, retention, legal basis, processors and rights to any signed-in user', async () => {
    const { tenant } = await adminOf({ audit_retention_days: 365 });
    const user = await newUser(app, tenant.id);
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/gdpr/inventory',
      headers: bearer(await login(app, tenant.id, user.email)),
    });
    expect(res.statusCode).toBe(200);
    const inv = res.json();
    expect(inv.data_categories.length).toBeGreaterThanOrEqual(4);
    for (const c of inv.data_categories)
      expect(c).toMatchObject({
        category: expect.any(String),
        purpose: expect.any(String),
        legal_basis: expect.any(String),
        retention: expect.any(String),
      });
    expect(JSON.stringify(inv)).toContain('365 days');
    expect(inv.processors.length).toBeGreaterThan(0);
    expect(inv.rights.length).toBeGreaterThanOrEqual(4);
    expect((await app.inject({ method: 'GET', url: '/api/v1/gdpr/inventory' })).statusCode).toBe(401);
  });
});
