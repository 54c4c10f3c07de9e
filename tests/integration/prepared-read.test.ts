/**
 * Issue 12: the hot reads (GET /users/{id}, the identity load, MFA flags) are built once per process
 * (platform/db/prepared.ts) and run on each caller's own connection with its own values. Nothing of one call
 * (values, tenant context, connection) may leak into another, and RLS still applies.
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { users } from '../../src/modules/users/tables.js';
import { reusableQuery } from '../../src/platform/db/prepared.js';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant, newUser } from '../helpers/factories.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app?.close();
});

const emailOf = reusableQuery<{ id: number }, { email: string }[]>((tx) =>
  tx
    .select({ email: users.email })
    .from(users)
    .where(sql`${users.id} = ${sql.placeholder('id')}`)
    .prepare('test_email_of'),
);

describe('issue 12 reusable hot reads', () => {
  it('parallel GET /users/{id} in two tenants each answer their own user; the other tenant’s id is 404', async () => {
    const one = await newTenant(app);
    const two = await newTenant(app);
    const [u1, u2] = await Promise.all([newUser(app, one.tenant.id), newUser(app, two.tenant.id)]);
    const [t1, t2] = await Promise.all([
      login(app, one.tenant.id, one.admin.email),
      login(app, two.tenant.id, two.admin.email),
    ]);
    const asks = Array.from({ length: 20 }, (_, i) =>
      i % 2 === 0 ? ([t1, u1, u2] as const) : ([t2, u2, u1] as const),
    );
    const answers = await Promise.all(
      asks.flatMap(([t, mine, theirs]) => [
        app.inject({ method: 'GET', url: `/api/v1/users/${mine.id}`, headers: bearer(t) }),
        app.inject({ method: 'GET', url: `/api/v1/users/${theirs.id}`, headers: bearer(t) }),
      ]),
    );
    asks.forEach(([, mine], i) => {
      const own = answers[2 * i]!;
      expect(own.statusCode).toBe(200);
      expect(own.json()).toMatchObject({ id: mine.id, email: mine.email, has_mfa: false, roles: [] });
      expect(answers[2 * i + 1]!.statusCode).toBe(404);
    });
  });

  it('one built query serves every executor with its own values, behind RLS', async () => {
    const one = await newTenant(app);
    const two = await newTenant(app);
    const db = app.ctx.database;
    // Built on a system transaction, then run in tenant reads and writes and on the pool, concurrently.
    const sys = await db.withSystem((tx) => emailOf(tx, { id: two.admin.id }));
    expect(sys).toEqual([{ email: two.admin.email }]);
    const [mine, theirs, inWrite, onPool] = await Promise.all([
      db.readTenant(one.tenant.id, (tx) => emailOf(tx, { id: one.admin.id })),
      db.readTenant(one.tenant.id, (tx) => emailOf(tx, { id: two.admin.id })),
      db.withTenant(two.tenant.id, (tx) => emailOf(tx, { id: two.admin.id })),
      emailOf(db.db, { id: one.admin.id }),
    ]);
    expect(mine).toEqual([{ email: one.admin.email }]);
    expect(theirs).toEqual([]); // RLS: tenant one's context never sees tenant two's row
    expect(inWrite).toEqual([{ email: two.admin.email }]);
    expect(onPool).toEqual([{ email: one.admin.email }]);
  });
});
