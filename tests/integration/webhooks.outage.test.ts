/**
 * Webhooks through a PostgreSQL restart under load (issue 22): a private cluster (never the shared server), the
 * app's own worker running (WEBHOOK_WORKER on, 50 ms poll), users created in a loop while PostgreSQL is stopped
 * (`pg_ctl -m fast`) and started again. Afterwards the receiver must hold exactly one `user.created` event id per
 * user that exists in the database: none lost for a committed change, none invented for a request that failed
 * (its transaction rolled back with its audit record), whatever the timing of the restart.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { runCleanups } from '../helpers/cleanups.js';
import { bearer, login, newTenant, PASSWORD } from '../helpers/factories.js';
import { PrivatePostgres, postgresBinDir } from '../helpers/private-servers.js';

const pgBin = postgresBinDir();
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  await runCleanups(cleanups);
});

describe('webhooks and a PostgreSQL restart', () => {
  it.skipIf(!pgBin)(
    'users created while PostgreSQL restarts: one event per committed user, none for a failed request',
    async () => {
      const cluster = await PrivatePostgres.create(pgBin!);
      cleanups.push(() => cluster.destroy());
      const events = new Map<string, string>(); // webhook-id -> user id
      const server = http.createServer((req, res) => {
        let body = '';
        req.on('data', (d) => (body += d));
        req.on('end', () => {
          const e = JSON.parse(body) as { type: string; data: { resource: { id: string } } };
          if (e.type === 'user.created') events.set(String(req.headers['webhook-id']), e.data.resource.id);
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      cleanups.push(() => new Promise((r) => server.close(r)));
      const app = await createTestApp({
        DATABASE_URL: cluster.url,
        REDIS_URL: undefined,
        WEBHOOK_WORKER: 'true',
        WEBHOOK_POLL_MS: '50',
        DB_POOL_MAX: '10',
      });
      cleanups.push(() => app.close());
      const { tenant, admin } = await newTenant(app);
      const tokens = await login(app, tenant.id, admin.email);
      const created = await app.inject({
        method: 'POST',
        url: '/api/v1/webhooks',
        headers: bearer(tokens),
        payload: {
          url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/in`,
          events: ['user.created'],
        },
      });
      expect(created.statusCode, created.body).toBe(201);

      let running = true;
      const statuses: number[] = [];
      const loops = Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; running; i++) {
          const res = await app.inject({
            method: 'POST',
            url: '/api/v1/users',
            headers: bearer(tokens),
            payload: {
              email: `load-${w}-${i}@example.test`,
              password: PASSWORD,
              first_name: 'L',
              last_name: 'D',
            },
          });
          statuses.push(res.statusCode);
          if (res.statusCode !== 201) await new Promise((r) => setTimeout(r, 50));
        }
      });
      await new Promise((r) => setTimeout(r, 1500));
      await cluster.stop('fast');
      await new Promise((r) => setTimeout(r, 1500));
      await cluster.start();
      await new Promise((r) => setTimeout(r, 2500));
      running = false;
      await Promise.all(loops);

      // Requests failed during the outage (503), and some succeeded on each side of it.
      expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
      expect(statuses.filter((s) => s !== 201 && s !== 503)).toEqual([]);
      const client = new pg.Client({ connectionString: cluster.url });
      await client.connect();
      cleanups.push(() => client.end());
      const { rows } = await client.query<{ id: number }>(
        'select id from users where tenant_id = $1 and email like $2',
        [tenant.id, 'load-%'],
      );
      const committed = new Set(rows.map((r) => String(r.id)));
      expect(committed.size).toBe(statuses.filter((s) => s === 201).length);

      // The worker catches up after the restart.
      for (let t = Date.now(); Date.now() - t < 30_000; ) {
        if (new Set(events.values()).size >= committed.size) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const delivered = [...events.values()].filter((id) => id !== String(admin.id));
      expect(new Set(delivered)).toEqual(committed);
      // Exactly one event id per user: nothing was made twice by the fan-out.
      expect(delivered.length).toBe(committed.size);
      console.info(
        `webhooks through a PostgreSQL restart: ${committed.size} users committed, ${statuses.filter((s) => s === 503).length} requests refused (503), ${delivered.length} events delivered`,
      );
    },
    120_000,
  );
});
