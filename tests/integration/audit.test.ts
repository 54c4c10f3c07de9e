/**
 * The audit trail auditors can trust (API.md §16): concurrent writers never fork the chain, tampering is named,
 * the app role cannot rewrite history, listing and export are tenant-scoped, retention prunes behind an anchor.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneTenants, verifyTenants } from '../../src/cli/audit.js';
import { recordHash } from '../../src/platform/audit/hash-chain.js';
import { SYSTEM_AUDIT_CONTEXT, writeAudit } from '../../src/platform/audit/writer.js';
import { drainBackground } from '../../src/platform/mail/background.js';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant, newUser, PASSWORD, type Tokens, uniq } from '../helpers/factories.js';

let app: FastifyInstance;
let archiveDir: string;

beforeAll(async () => {
  app = await createTestApp();
  archiveDir = await mkdtemp(path.join(tmpdir(), 'mc-audit-'));
});
afterAll(async () => {
  await app?.close();
  if (archiveDir) await rm(archiveDir, { recursive: true, force: true });
});

async function adminOf(opts: { settings?: Record<string, unknown> } = {}) {
  const t = await newTenant(app, { superuser: true, ...opts });
  const tokens = await login(app, t.tenant.id, t.admin.email);
  return { ...t, tokens };
}

const verify = (tokens: Tokens) =>
  app.inject({ method: 'GET', url: '/api/v1/audit/verify', headers: bearer(tokens) });
const logs = (tokens: Tokens, query = '') =>
  app.inject({ method: 'GET', url: `/api/v1/audit/logs${query}`, headers: bearer(tokens) });

/** As the connection's own (superuser/owner) role with triggers off for this transaction only. */
async function tamper(statement: string) {
  await app.ctx.database.execScript(
    `begin; set local session_replication_role = replica; ${statement}; commit;`,
  );
}

describe('hash chain', () => {
  it('100 concurrent audited actions leave a chain that verifies, without gaps', async () => {
    const { tenant, tokens } = await adminOf();
    const user = await newUser(app, tenant.id);
    const before = (await verify(tokens)).json().checked as number;
    const actions = Array.from({ length: 100 }, (_, i) => {
      const headers = { 'x-tenant-id': String(tenant.id) };
      if (i % 3 === 0)
        return app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          headers,
          payload: { email: user.email, password: PASSWORD },
        });
      if (i % 3 === 1)
        return app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          headers,
          payload: { email: user.email, password: 'wrong-password-1A!' },
        });
      return app.inject({
        method: 'POST',
        url: '/api/v1/password-reset/request',
        headers,
        payload: { email: `${uniq('nobody')}@example.test` },
      });
    });
    const results = await Promise.all(actions);
    expect(results.every((r) => r.statusCode === 200 || r.statusCode === 401)).toBe(true);
    await drainBackground(app.ctx);
    const res = await verify(tokens);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ valid: true });
    // 34 logins, 33 failures, 33 reset requests: at least one record each, plus the verify calls themselves write none.
    expect(body.checked - before).toBeGreaterThanOrEqual(100);
    const seqs = await app.ctx.database.withTenant(tenant.id, async (tx) =>
      (
        await tx.execute<{ s: string }>(
          sql`select seq::text as s from audit_log where tenant_id = ${tenant.id} order by seq`,
        )
      ).rows.map((r) => Number(r.s)),
    );
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it('a record changed behind the application is named by /verify; other tenants stay valid', async () => {
    const a = await adminOf();
    const b = await adminOf();
    const user = await newUser(app, a.tenant.id);
    await login(app, a.tenant.id, user.email);
    const victim = await app.ctx.database.withTenant(
      a.tenant.id,
      async (tx) =>
        (
          await tx.execute<{ id: string }>(
            sql`select id::text from audit_log where tenant_id = ${a.tenant.id} and event_type = 'auth.login_success' order by seq limit 1`,
          )
        ).rows[0]!.id,
    );
    expect((await verify(a.tokens)).json().valid).toBe(true);
    await tamper(`update audit_log set success = false where id = ${Number(victim)}`);
    const res = (await verify(a.tokens)).json();
    expect(res).toMatchObject({ valid: false, first_invalid_id: Number(victim), reason: 'hash_mismatch' });
    expect((await verify(b.tokens)).json().valid).toBe(true);

    // The CLI reports the same, tenant by tenant.
    const [cli] = await verifyTenants(app, String(a.tenant.id));
    expect(cli).toMatchObject({ tenant_id: a.tenant.id, valid: false, first_invalid_id: Number(victim) });
  });

  it('a deleted record (a gap) and a deleted tail are caught too', async () => {
    const { tenant, tokens } = await adminOf();
    for (let i = 0; i < 5; i++)
      await app.ctx.database.withTenant(tenant.id, (tx) =>
        writeAudit(tx, tenant.id, SYSTEM_AUDIT_CONTEXT, { eventType: 'test.event', metadata: { i } }),
      );
    const ids = await app.ctx.database.withTenant(
      tenant.id,
      async (tx) =>
        (
          await tx.execute<{ id: string }>(
            sql`select id::text as id from audit_log where tenant_id = ${tenant.id} order by seq`,
          )
        ).rows,
    );
    await tamper(`delete from audit_log where id = ${ids.at(-1)!.id}`);
    expect((await verify(tokens)).json()).toMatchObject({ valid: false, reason: 'head_mismatch' });
    await tamper(`delete from audit_log where id = ${ids[2]!.id}`);
    expect((await verify(tokens)).json()).toMatchObject({
      valid: false,
      first_invalid_id: Number(ids[3]!.id),
      reason: 'seq_gap',
    });
  });

  it('the app role cannot update, delete, truncate, prune or forge anchors', async () => {
    const { tenant } = await adminOf();
    const asApp = (q: ReturnType<typeof sql>) =>
      app.ctx.database.withTenant(tenant.id, (tx) => tx.execute(q));
    await expect(
      asApp(sql`update audit_log set success = false where tenant_id = ${tenant.id}`),
    ).rejects.toThrow();
    await expect(asApp(sql`delete from audit_log where tenant_id = ${tenant.id}`)).rejects.toThrow();
    await expect(asApp(sql`truncate audit_log`)).rejects.toThrow();
    await expect(asApp(sql`select audit_prune(${tenant.id}, 1, 'x')`)).rejects.toThrow();
    await expect(
      asApp(
        sql`insert into audit_anchors (tenant_id, pruned_through_seq, last_hash_pruned, records_pruned) values (${tenant.id}, 1, 'x', 1)`,
      ),
    ).rejects.toThrow();
    // The prune settings alone open nothing: the trigger also wants the owner, and the app role lacks DELETE.
    await expect(
      app.ctx.database.withTenant(tenant.id, async (tx) => {
        await tx.execute(
          sql`select set_config('massacorp.audit_prune_tenant', ${String(tenant.id)}, true), set_config('massacorp.audit_prune_through', '999', true)`,
        );
        await tx.execute(sql`delete from audit_log where tenant_id = ${tenant.id}`);
      }),
    ).rejects.toThrow();
    // Even the owner is refused by the trigger outside audit_prune().
    await expect(
      app.ctx.database.withSystem((tx) =>
        tx.execute(sql`delete from audit_log where tenant_id = ${tenant.id}`),
      ),
    ).rejects.toThrow();
    const n = await asApp(sql`select count(*)::int as n from audit_log where tenant_id = ${tenant.id}`);
    expect(Number((n.rows[0] as { n: number }).n)).toBeGreaterThan(0);
  });
});

describe('GET /audit/logs', () => {
  it('filters, paginates by cursor and shows personal values kept out of the hashed record', async () => {
    const { tenant, tokens } = await adminOf();
    const user = await newUser(app, tenant.id);
    for (let i = 0; i < 3; i++) {
      await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { 'x-tenant-id': String(tenant.id) },
        payload: { email: user.email, password: 'Wrong-pass-123!' },
      });
    }
    const failed = await logs(tokens, '?event_type=auth.login_failed&success=false');
    expect(failed.statusCode).toBe(200);
    const items = failed.json().items;
    expect(items).toHaveLength(3);
    expect(items[0].metadata.email).toBe(user.email);
    expect(items[0].actor_id).toBe(String(user.id));
    // In the table itself the email is only a reference.
    const stored = await app.ctx.database.withTenant(
      tenant.id,
      async (tx) =>
        (
          await tx.execute<{ m: string }>(
            sql`select metadata::text as m from audit_log where id = ${items[0].id}`,
          )
        ).rows[0]!.m,
    );
    expect(stored).not.toContain(user.email);
    expect(stored).toMatch(/pii:[0-9a-f]{24}/);

    const p1 = (await logs(tokens, '?limit=2')).json();
    expect(p1.items).toHaveLength(2);
    // The last item's id and date: the date bounds the next page by time (fewer partitions read).
    expect(p1.next_cursor).toBe(`${p1.items[1].id}.${Date.parse(p1.items[1].created_at)}`);
    const p2 = (await logs(tokens, `?limit=2&cursor=${p1.next_cursor}`)).json();
    expect(p2.items[0].id).toBeLessThan(p1.items[1].id);
    // A bare id, as earlier versions gave, pages the same.
    const bare = (await logs(tokens, `?limit=2&cursor=${p1.items[1].id}`)).json();
    expect(bare).toEqual(p2);
    for (const bad of ['1.', '.5', '1.2.3', '1.-2', `1.${'9'.repeat(16)}`])
      expect((await logs(tokens, `?limit=2&cursor=${bad}`)).statusCode, bad).toBe(422);
    const all = (await logs(tokens, '?limit=500')).json();
    expect(all.next_cursor).toBeNull();
    expect(all.items.every((r: { tenant_id: number }) => r.tenant_id === tenant.id)).toBe(true);

    const byResource = (await logs(tokens, `?resource_type=user&resource_id=${user.id}`)).json().items;
    expect(byResource.length).toBeGreaterThanOrEqual(4);
    const future = (
      await logs(tokens, `?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)
    ).json();
    expect(future.items).toHaveLength(0);
    const past = (await logs(tokens, `?to=${encodeURIComponent('2000-01-01T00:00:00Z')}`)).json();
    expect(past.items).toHaveLength(0);
    expect((await logs(tokens, '?cursor=abc')).statusCode).toBe(422);
    expect((await logs(tokens, '?from=yesterday')).statusCode).toBe(422);
  });

  it('needs audit.read; another tenant sees none of these records', async () => {
    const a = await adminOf();
    const b = await adminOf();
    const user = await newUser(app, a.tenant.id);
    const plain = await login(app, a.tenant.id, user.email);
    const denied = await logs(plain);
    expect(denied.statusCode).toBe(403);
    expect((await verify(plain)).statusCode).toBe(403);
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/audit/logs/export', headers: bearer(plain) }))
        .statusCode,
    ).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/api/v1/audit/logs' })).statusCode).toBe(401);
    const seen = (await logs(b.tokens, `?resource_type=user&resource_id=${user.id}`)).json();
    expect(seen.items).toHaveLength(0);
    const bAll = (await logs(b.tokens, '?limit=500')).json().items;
    expect(bAll.every((r: { tenant_id: number }) => r.tenant_id === b.tenant.id)).toBe(true);
  });
});

describe('GET /audit/logs: the actor filter and actor names', () => {
  /** A key of the admin, used once so that it appears as an actor, with the given name. */
  async function keyUsedOnce(tokens: Tokens, name: string) {
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: bearer(tokens),
      payload: { name, scopes: ['users.read', 'users.write'] },
    });
    expect(created.statusCode).toBe(201);
    const key = created.json() as { id: number; raw_key: string };
    const made = await app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { 'x-api-key': key.raw_key },
      payload: { email: `${uniq('by-key')}@example.test`, password: 'Str0ng-Passw0rd!x' },
    });
    expect(made.statusCode).toBe(201);
    return key;
  }

  it('finds records by email, key name, type:id or bare id, and names each actor', async () => {
    const { tenant, admin, tokens } = await adminOf();
    const keyName = uniq('ci-key');
    const key = await keyUsedOnce(tokens, keyName);
    type Item = { actor_type: string; actor_id: string; actor_name: string | null; tenant_id: number };
    const items = async (actor: string) => {
      const res = await logs(tokens, `?limit=500&actor=${encodeURIComponent(actor)}`);
      expect(res.statusCode).toBe(200);
      return res.json().items as Item[];
    };

    const byEmail = await items(admin.email.toUpperCase());
    expect(byEmail.length).toBeGreaterThan(0);
    expect(byEmail.every((r) => r.actor_type === 'user' && r.actor_id === String(admin.id))).toBe(true);
    expect(byEmail.every((r) => r.actor_name === admin.email)).toBe(true);

    const byKey = await items(keyName);
    expect(byKey.length).toBeGreaterThan(0);
    expect(byKey.every((r) => r.actor_type === 'api_key' && r.actor_id === String(key.id))).toBe(true);
    expect(byKey[0]!.actor_name).toBe(keyName);

    // The id forms keep working: typed, bare (any type, as actor_id), and actor_id itself.
    expect((await items(`api_key:${key.id}`)).map((r) => r.actor_id)).toEqual(byKey.map((r) => r.actor_id));
    expect((await items(`user:${admin.id}`)).length).toBe(byEmail.length);
    const bare = await items(String(admin.id));
    expect(bare.length).toBeGreaterThanOrEqual(byEmail.length);
    expect(bare.every((r) => r.actor_id === String(admin.id))).toBe(true);
    const legacy = (await logs(tokens, `?limit=500&actor_id=${admin.id}`)).json().items as Item[];
    expect(legacy.length).toBe(bare.length);

    // Unknown names find nothing (not everything); a record without an actor has no name.
    expect(await items('nobody@example.test')).toEqual([]);
    expect(await items('no-such-key')).toEqual([]);
    const all = (await logs(tokens, '?limit=500')).json().items as Item[];
    expect(all.filter((r) => r.actor_type === 'system').every((r) => r.actor_name === null)).toBe(true);
    expect(all.every((r) => r.tenant_id === tenant.id)).toBe(true);
    expect((await logs(tokens, `?actor=${'x'.repeat(321)}`)).statusCode).toBe(422);
  });

  it('names every user of a page, each by their own email, and a deleted one by nothing', async () => {
    const { tenant, tokens } = await adminOf();
    const people = await Promise.all([0, 1, 2, 3].map(() => newUser(app, tenant.id)));
    for (const p of people) await login(app, tenant.id, p.email);
    const gone = people[3]!;
    const del = await app.inject({
      method: 'DELETE',
      url: `/api/v1/users/${gone.id}`,
      headers: bearer(tokens),
    });
    expect(del.statusCode).toBe(204);
    type Item = { actor_type: string; actor_id: string; actor_name: string | null };
    const items = (await logs(tokens, '?limit=500')).json().items as Item[];
    for (const p of people.slice(0, 3)) {
      const theirs = items.filter((r) => r.actor_type === 'user' && r.actor_id === String(p.id));
      expect(theirs.length, p.email).toBeGreaterThan(0);
      expect(theirs.every((r) => r.actor_name === p.email)).toBe(true);
    }
    const deleted = items.filter((r) => r.actor_type === 'user' && r.actor_id === String(gone.id));
    expect(deleted.length).toBeGreaterThan(0);
    expect(deleted.every((r) => r.actor_name === null)).toBe(true);
  });

  it('is tenant-scoped: another tenant finds nothing by this email, key name or id', async () => {
    const a = await adminOf();
    const b = await adminOf();
    const keyName = uniq('shared-name');
    const key = await keyUsedOnce(a.tokens, keyName);
    for (const actor of [a.admin.email, keyName, `api_key:${key.id}`, `user:${a.admin.id}`]) {
      const res = await logs(b.tokens, `?limit=500&actor=${encodeURIComponent(actor)}`);
      expect(res.statusCode).toBe(200);
      expect(res.json().items).toEqual([]);
    }
    // B's own key of the same name finds B's records only, named by B's key.
    const bKey = await keyUsedOnce(b.tokens, keyName);
    const mine = (await logs(b.tokens, `?limit=500&actor=${encodeURIComponent(keyName)}`)).json().items;
    expect(mine.length).toBeGreaterThan(0);
    expect(
      mine.every(
        (r: { tenant_id: number; actor_id: string; actor_name: string }) =>
          r.tenant_id === b.tenant.id && r.actor_id === String(bKey.id) && r.actor_name === keyName,
      ),
    ).toBe(true);
  });
});

describe('GET /audit/logs/export', () => {
  it('streams NDJSON and CSV of the tenant, oldest first, and audits the export', async () => {
    const { tenant, tokens } = await adminOf();
    await app.ctx.database.withTenant(tenant.id, (tx) =>
      writeAudit(tx, tenant.id, SYSTEM_AUDIT_CONTEXT, {
        eventType: 'test.formula',
        metadata: { note: '=HYPERLINK("http://evil")', text: 'a,"b"\nc' },
      }),
    );
    const nd = await app.inject({
      method: 'GET',
      url: '/api/v1/audit/logs/export?format=ndjson',
      headers: bearer(tokens),
    });
    expect(nd.statusCode).toBe(200);
    expect(nd.headers['content-type']).toMatch(/application\/x-ndjson/);
    expect(nd.headers['content-disposition']).toMatch(/attachment; filename="audit-.*\.ndjson"/);
    const lines = nd.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.every((l) => l.tenant_id === tenant.id)).toBe(true);
    expect(lines.map((l) => l.seq)).toEqual([...lines.map((l) => l.seq)].sort((x, y) => x - y));
    // Each exported line carries what an auditor needs to recompute its hash offline.
    for (const l of lines.filter((x) => !JSON.stringify(x.metadata).includes('@'))) {
      expect(
        recordHash(l.prev_hash, {
          ...l,
          tenantId: l.tenant_id,
          eventType: l.event_type,
          actorType: l.actor_type,
          actorId: l.actor_id,
          resourceType: l.resource_type,
          resourceId: l.resource_id,
          ipAddress: l.ip_address,
          userAgent: l.user_agent,
          requestId: l.request_id,
          sessionId: l.session_id,
          createdAt: new Date(l.created_at),
        }),
      ).toBe(l.hash);
    }

    const csv = await app.inject({
      method: 'GET',
      url: '/api/v1/audit/logs/export?format=csv&event_type=test.formula',
      headers: bearer(tokens),
    });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    const [header, row] = csv.body.split('\n');
    expect(header).toBe(
      'id,tenant_id,seq,event_type,actor_type,actor_id,resource_type,resource_id,success,ip_address,user_agent,request_id,session_id,metadata,created_at,prev_hash,hash'
        .split(',')
        .map((c) => `"${c}"`)
        .join(','),
    );
    expect(row).toContain('test.formula');
    expect(csv.body).not.toMatch(/,=HYPERLINK/);
    expect(
      (
        await app.inject({
          method: 'GET',
          url: '/api/v1/audit/logs/export?format=xml',
          headers: bearer(tokens),
        })
      ).statusCode,
    ).toBe(422);

    const exported = (await logs(tokens, '?event_type=audit.exported')).json().items;
    expect(exported.length).toBeGreaterThanOrEqual(2);
  });
});

describe('retention', () => {
  it('archives, prunes behind an anchor, and the chain still verifies; later records chain on', async () => {
    const { tenant, tokens } = await adminOf({ settings: { audit_retention_days: 30 } });
    for (let i = 0; i < 12; i++)
      await app.ctx.database.withTenant(tenant.id, (tx) =>
        writeAudit(tx, tenant.id, SYSTEM_AUDIT_CONTEXT, { eventType: 'test.old', metadata: { i } }),
      );
    const total = (await verify(tokens)).json().checked as number;
    // "Now" 31 days ahead makes every record older than the 30-day retention.
    const [result] = await pruneTenants(app, {
      tenant: String(tenant.id),
      dir: archiveDir,
      now: new Date(Date.now() + 31 * 86_400_000),
    });
    expect(result).toMatchObject({ tenantId: tenant.id, pruned: total, throughSeq: total });
    const archived = (await readFile(result!.archive!, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(archived).toHaveLength(total);
    expect(archived[0].seq).toBe(1);
    expect(archived.at(-1).hash).toBeTruthy();
    expect((await readdir(archiveDir)).some((f) => f.startsWith(`audit-tenant-${tenant.id}-`))).toBe(true);

    const after = (await verify(tokens)).json();
    expect(after).toMatchObject({ valid: true, checked: 0, anchored_at_seq: total });
    await app.ctx.database.withTenant(tenant.id, (tx) =>
      writeAudit(tx, tenant.id, SYSTEM_AUDIT_CONTEXT, { eventType: 'test.new' }),
    );
    const next = (await verify(tokens)).json();
    expect(next).toMatchObject({ valid: true, anchored_at_seq: total });
    expect(next.checked).toBeGreaterThanOrEqual(1);
    // Nothing left to prune with the real clock; a second run is a no-op.
    const [again] = await pruneTenants(app, { tenant: String(tenant.id), dir: archiveDir });
    expect(again!.pruned).toBe(0);
  });

  it('refuses to prune a chain that does not verify', async () => {
    const { tenant } = await adminOf({ settings: { audit_retention_days: 1 } });
    const id = await app.ctx.database.withTenant(
      tenant.id,
      async (tx) => (await writeAudit(tx, tenant.id, SYSTEM_AUDIT_CONTEXT, { eventType: 'test.x' })).id,
    );
    await tamper(`update audit_log set event_type = 'test.y' where id = ${id}`);
    await expect(
      pruneTenants(app, {
        tenant: String(tenant.id),
        dir: archiveDir,
        now: new Date(Date.now() + 2 * 86_400_000),
      }),
    ).rejects.toThrow(/does not verify/);
  });
});
