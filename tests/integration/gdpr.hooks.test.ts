/**
 * Issue 11: the GDPR module owns no table. Every module that holds personal data registers its export and erase
 * hooks; GDPR runs them in ONE transaction, erase hooks by phase (data, then audit, then account).
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../src/platform/context.js';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant, newUser } from '../helpers/factories.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app?.close();
});

type EraseHook = AppContext['hooks']['gdprErase'][number];

/** Runs `fn` with extra erase hooks registered, and takes them out again whatever happens. */
async function withEraseHooks<T>(hooks: EraseHook[], fn: () => Promise<T>): Promise<T> {
  app.ctx.hooks.gdprErase.push(...hooks);
  try {
    return await fn();
  } finally {
    for (const h of hooks) app.ctx.hooks.gdprErase.splice(app.ctx.hooks.gdprErase.indexOf(h), 1);
  }
}

async function setup() {
  const { tenant, admin } = await newTenant(app, { superuser: true });
  const tokens = await login(app, tenant.id, admin.email);
  const victim = await newUser(app, tenant.id);
  const victimTokens = await login(app, tenant.id, victim.email);
  const erase = () =>
    app.inject({
      method: 'DELETE',
      url: '/api/v1/gdpr/delete',
      headers: bearer(tokens),
      payload: { user_id: victim.id, reason: 'Issue 11 orchestration check', confirm: true },
    });
  return { tenant, tokens, victim, victimTokens, erase };
}

describe('issue 11: GDPR orchestrates the modules’ hooks in one transaction', () => {
  it('issue 11: erase hooks run by phase (data, audit, account), told the mode, the email and the pseudonym', async () => {
    const { victim, erase } = await setup();
    const seen: string[] = [];
    // Registered in the reverse order of their phases: the phase, not the registration, decides.
    const probes: EraseHook[] = (['account', 'audit', 'data'] as const).map((phase) => ({
      name: `probe_${phase}`,
      phase,
      erase: async (tx, tenantId, userId, _afterCommit, erasure) => {
        const r = await tx.execute<{ n: number }>(
          sql`select count(*)::int as n from users where tenant_id = ${tenantId} and id = ${userId}`,
        );
        seen.push(`${phase} ${erasure.mode} ${erasure.email === victim.email} row=${Number(r.rows[0]!.n)}`);
        expect(erasure.pseudonym).toMatch(/^user-[0-9a-f]{20}$/);
      },
    }));
    const res = await withEraseHooks(probes, erase);
    expect(res.statusCode, res.body).toBe(200);
    // The user row is there for every module until the users module's own hook (account phase) deletes it.
    expect(seen).toEqual([
      'data deleted true row=1',
      'audit deleted true row=1',
      'account deleted true row=0',
    ]);
    const modules: string[] = res.json().data.modules;
    for (const m of ['sessions', 'password_reset', 'mfa', 'api_keys', 'wireguard_peers', 'audit', 'users'])
      expect(modules).toContain(m);
    expect(modules.indexOf('probe_data')).toBeLessThan(modules.indexOf('audit'));
    expect(modules.indexOf('audit')).toBeLessThan(modules.indexOf('probe_audit'));
    expect(modules.indexOf('probe_audit')).toBeLessThan(modules.indexOf('users'));
    expect(modules.at(-1)).toBe('probe_account');
  });

  it('issue 11: a failure after the user row went rolls back every module: sessions, row and audit values stay', async () => {
    const { tenant, victim, victimTokens, erase } = await setup();
    const fault: EraseHook = {
      name: 'fault',
      phase: 'account',
      erase: async () => {
        throw new Error('injected fault after the account phase');
      },
    };
    expect((await withEraseHooks([fault], erase)).statusCode).toBe(500);
    // Nothing of the erasure happened: the session still works, the row and its email are there.
    const me = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(victimTokens) });
    expect(me.statusCode, me.body).toBe(200);
    expect(me.json().email).toBe(victim.email);
    expect((await login(app, tenant.id, victim.email)).access_token).toBeTruthy();
    // Then the real erasure goes through.
    expect((await erase()).statusCode).toBe(200);
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(victimTokens) })).statusCode,
    ).toBe(401);
  });

  it('issue 11: a user still referenced without ON DELETE CASCADE is scrubbed instead, in the same committed erasure', async () => {
    const { tenant, victim, victimTokens, erase } = await setup();
    // A table of some future module that references users without ON DELETE CASCADE.
    await app.ctx.database.query(
      'create table if not exists gdpr_fk_probe (user_id integer references users (id))',
    );
    try {
      await app.ctx.database.query('insert into gdpr_fk_probe (user_id) values ($1)', [victim.id]);
      const res = await erase();
      expect(res.statusCode, res.body).toBe(200);
      const pseudonym: string = res.json().data.pseudonym;
      const [row] = await app.ctx.database.query<{ email: string; is_active: boolean }>(
        'select email, is_active from users where tenant_id = $1 and id = $2',
        [tenant.id, victim.id],
      );
      expect(row).toEqual({ email: `${pseudonym}@anonymized.invalid`, is_active: false });
      // Everything else of the erasure committed with it: sessions gone, audit values gone.
      const sessions = await app.ctx.database.query('select id from sessions where user_id = $1', [
        victim.id,
      ]);
      expect(sessions).toEqual([]);
      const pii = await app.ctx.database.query('select ref from audit_pii where lower(value) = lower($1)', [
        victim.email,
      ]);
      expect(pii).toEqual([]);
      expect(
        (await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(victimTokens) }))
          .statusCode,
      ).toBe(401);
    } finally {
      await app.ctx.database.query('drop table if exists gdpr_fk_probe');
    }
  });

  it('issue 11: export sections come from the owners’ hooks; a section claimed twice fails loudly (500), never silently', async () => {
    const { tokens, victim } = await setup();
    const ok = await app.inject({
      method: 'GET',
      url: `/api/v1/gdpr/export/${victim.id}`,
      headers: bearer(tokens),
    });
    expect(ok.statusCode).toBe(200);
    expect(Object.keys(ok.json()).slice(0, 8)).toEqual([
      'exported_at',
      'tenant_id',
      'user',
      'sessions',
      'audit_events',
      'audit_events_truncated',
      'password_reset_requests',
      'identities',
    ]);
    const impostor = { name: 'sessions', collect: async () => [] };
    app.ctx.hooks.gdprExport.push(impostor);
    try {
      const res = await app.inject({
        method: 'GET',
        url: `/api/v1/gdpr/export/${victim.id}`,
        headers: bearer(tokens),
      });
      expect(res.statusCode).toBe(500);
    } finally {
      app.ctx.hooks.gdprExport.splice(app.ctx.hooks.gdprExport.indexOf(impostor), 1);
    }
    // The failed export wrote no audit record (one transaction).
    const logs = await app.inject({
      method: 'GET',
      url: `/api/v1/audit/logs?event_type=gdpr.exported&resource_id=${victim.id}`,
      headers: bearer(tokens),
    });
    expect(logs.json().items).toHaveLength(1);
  });
});
