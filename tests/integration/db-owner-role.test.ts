/**
 * The production database setup of docs/operations.md: the app connects as a dedicated, non-superuser owner
 * role with BYPASSRLS (and CREATEROLE for the first migration), not as `postgres`. PostgreSQL only: PGlite
 * always connects as its superuser.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { testEnv, usingPostgres } from '../helpers/app.js';

const suffix = randomBytes(4).toString('hex');
const role = `mc_owner_${suffix}`;
const dbName = `mc_owner_db_${suffix}`;

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

afterAll(async () => {
  if (!usingPostgres) return;
  await admin(async (c) => {
    await c.query(`drop database if exists ${dbName} with (force)`);
    await c.query(`drop role if exists ${role}`);
  });
});

describe.skipIf(!usingPostgres)('a non-superuser owner role (PostgreSQL only)', () => {
  it('migrates, serves, and RLS still confines the app role', async () => {
    await admin(async (c) => {
      await c.query(`create role ${role} login bypassrls createrole`);
      await c.query(`create database ${dbName} owner ${role}`);
    });
    const url = new URL(process.env.DATABASE_URL!);
    url.username = role;
    url.password = '';
    url.pathname = `/${dbName}`;
    const app = await buildApp(testEnv({ DATABASE_URL: url.toString() }), { migrate: true });
    try {
      const who = await app.ctx.database.query<{ user: string; su: boolean }>(
        'select current_user as user, (select rolsuper from pg_roles where rolname = current_user) as su',
      );
      expect(who[0]).toEqual({ user: role, su: false });
      const { createTenant } = await import('../../src/modules/tenant-admin/index.js');
      const a = await createTenant(app.ctx, {
        slug: `own-a-${suffix}`,
        name: 'A',
        admin: { email: 'a@own.test', password: 'Correct-Horse-42-battery' },
      });
      await createTenant(app.ctx, {
        slug: `own-b-${suffix}`,
        name: 'B',
        admin: { email: 'b@own.test', password: 'Correct-Horse-42-battery' },
      });
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { 'x-tenant-id': `own-a-${suffix}` },
        payload: { email: 'a@own.test', password: 'Correct-Horse-42-battery' },
      });
      expect(res.statusCode).toBe(200);
      const user = await app.inject({
        url: `/api/v1/users/${a.admin!.id}`,
        headers: { authorization: `Bearer ${res.json().access_token}` },
      });
      expect(user.json().roles).toEqual(['owner']);
      const list = await app.inject({
        url: '/api/v1/users',
        headers: { authorization: `Bearer ${res.json().access_token}` },
      });
      expect(list.json().users.map((u: { email: string }) => u.email)).toEqual(['a@own.test']);
    } finally {
      await app.close();
    }
  }, 60_000);
});
