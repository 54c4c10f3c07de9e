/**
 * DATABASE_REPLICA_URL (issue 24 item 4) against a real streaming replica: a private primary and a replica made by
 * pg_basebackup, on ports of their own. Replay is paused on the replica to hold it at a known point, so what each
 * read sees tells where it was served: the replica serves listing and search while it is within the lag bound; a
 * caller that just wrote reads from the primary (its own writes, and everything before them); a replica behind
 * the bound, or down, sends reads to the primary, and no request fails for it.
 * PostgreSQL only (it needs the server binaries; the embedded pass has no replica to point at).
 */
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, usingPostgres } from '../helpers/app.js';
import { bearer, login, newTenant, type Tokens } from '../helpers/factories.js';
import { PrivatePostgres, postgresBinDir } from '../helpers/private-servers.js';

const bin = postgresBinDir();

describe.skipIf(!usingPostgres || !bin)('read replica (DATABASE_REPLICA_URL)', () => {
  let primary: PrivatePostgres;
  let replica: PrivatePostgres;
  let app: FastifyInstance;
  let tight: FastifyInstance | undefined;
  let tenantId: number;
  let admin: Tokens;
  let apiKey: string;

  const onReplica = async (sqlText: string) => {
    const c = new pg.Client({ connectionString: replica.url });
    await c.connect();
    try {
      return (await c.query(sqlText)).rows;
    } finally {
      await c.end();
    }
  };
  const lagOf = (a: FastifyInstance) =>
    (a.ctx.database as unknown as { replicaState(): { lagMs: number } }).replicaState().lagMs;
  async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 10_000) {
    const end = Date.now() + ms;
    while (!(await ok())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  /** How many users a search finds, as `headers` sees them through `a`. */
  async function found(a: FastifyInstance, headers: Record<string, string>, search: string) {
    const res = await a.inject({ method: 'GET', url: `/api/v1/users?search=${search}`, headers });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().total as number;
  }
  /** A user written straight to the primary, as another writer's commit would be. */
  async function insertOnPrimary(email: string) {
    const c = new pg.Client({ connectionString: primary.url });
    await c.connect();
    try {
      await c.query(
        `insert into users (tenant_id, email, first_name, last_name, is_active) values ($1, $2, 'Direct', 'Write', true)`,
        [tenantId, email],
      );
    } finally {
      await c.end();
    }
  }

  beforeAll(async () => {
    primary = await PrivatePostgres.create(bin!);
    replica = await PrivatePostgres.replicaOf(primary);
    // A generous bound first: a paused replica stays "usable", so what it serves is visible.
    app = await createTestApp({
      DATABASE_URL: primary.url,
      DATABASE_REPLICA_URL: replica.url,
      DATABASE_REPLICA_MAX_LAG_MS: '600000',
      REDIS_URL: undefined,
    });
    const t = await newTenant(app, { superuser: true });
    tenantId = t.tenant.id;
    admin = await login(app, tenantId, t.admin.email);
    const key = await app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: bearer(admin),
      payload: { name: 'reader', scopes: ['users.read'] },
    });
    expect(key.statusCode, key.body).toBe(201);
    apiKey = key.json().raw_key;
    await until('the replica to catch up', () => lagOf(app) === 0);
  }, 120_000);

  afterAll(async () => {
    await tight?.close();
    await app?.close();
    await replica?.destroy();
    await primary?.destroy();
  });

  it('serves listing from the replica, and a caller that just wrote from the primary', async () => {
    await onReplica('select pg_wal_replay_pause()');
    await insertOnPrimary('direct-one@replica.test');
    // The key has written nothing: the paused replica answers, without the new user.
    expect(await found(app, { 'x-api-key': apiKey }, 'direct-one')).toBe(0);
    // The admin writes (a user of its own); its reads now go to the primary and see everything committed.
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: bearer(admin),
      payload: { email: 'written-by-admin@replica.test', password: 'Correct-Horse-42-battery' },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(await found(app, bearer(admin), 'written-by-admin')).toBe(1);
    expect(await found(app, bearer(admin), 'direct-one')).toBe(1);
    // The key still reads the replica: the mark is the writer's, not everyone's.
    expect(await found(app, { 'x-api-key': apiKey }, 'written-by-admin')).toBe(0);
    // Audit listing too: the admin's user.created record is on the primary only.
    const audit = await app.inject({
      method: 'GET',
      url: '/api/v1/audit/logs?event_type=user.created&limit=5',
      headers: bearer(admin),
    });
    expect(audit.statusCode).toBe(200);
    expect(JSON.stringify(audit.json().items)).toContain('user.created');
  });

  it('sends reads to the primary once the replica is behind the bound', async () => {
    // A second API process on the same primary and replica with a 500 ms bound; the replica is still paused.
    tight = await createTestApp({
      DATABASE_URL: primary.url,
      DATABASE_REPLICA_URL: replica.url,
      DATABASE_REPLICA_MAX_LAG_MS: '500',
      REDIS_URL: undefined,
    });
    await insertOnPrimary('direct-two@replica.test');
    await until('the lag to pass the bound', () => lagOf(tight!) > 500);
    expect(await found(tight, { 'x-api-key': apiKey }, 'direct-two')).toBe(1);
    // The generous app still reads the paused replica.
    expect(await found(app, { 'x-api-key': apiKey }, 'direct-two')).toBe(0);
    // Replay resumes: the replica catches up and serves everything.
    await onReplica('select pg_wal_replay_resume()');
    await until('the replica to catch up', () => lagOf(app) === 0);
    expect(await found(app, { 'x-api-key': apiKey }, 'direct-two')).toBe(1);
  }, 60_000);

  it('a replica that goes down costs no request: reads fall back to the primary', async () => {
    await insertOnPrimary('direct-three@replica.test');
    await until('the replica to catch up', () => lagOf(app) === 0);
    await replica.stop('immediate');
    // Before the next probe notices, the read fails on the replica and is served by the primary.
    for (let i = 0; i < 5; i++) expect(await found(app, { 'x-api-key': apiKey }, 'direct-three')).toBe(1);
    await until('the probe to mark it down', () => lagOf(app) === Number.POSITIVE_INFINITY);
    expect(await found(app, { 'x-api-key': apiKey }, 'direct-three')).toBe(1);
  }, 60_000);
});
