/**
 * Webhooks and audit streams (API.md §23, issue 22), on both backends: endpoints (CRUD, secrets shown once,
 * validation, tenant isolation), deliveries signed per Standard Webhooks and verified by the spec's own library
 * (`standardwebhooks`) in a real HTTP receiver, the audit log as the outbox (a rolled-back change makes no event),
 * retries on the documented schedule while the receiver is down, a delivery left by a dead worker taken over by
 * another replica, disabling after 24 h of failures (audited, admins mailed), rotation, replay, test events, and
 * the audit stream (NDJSON in chain order whose hashes the receiver recomputes).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RETRY_DELAYS_MS, webhookWorker } from '../../src/modules/webhooks/worker.js';
import { canonicalJson } from '../../src/platform/audit/hash-chain.js';
import { SYSTEM_AUDIT_CONTEXT, writeAudit } from '../../src/platform/audit/writer.js';
import { createTestApp } from '../helpers/app.js';
import { MovableClock } from '../helpers/clock.js';
import { bearer, login, newTenant, newUser, type Tokens } from '../helpers/factories.js';
import { startSmtp, type TestSmtp } from '../helpers/smtp.js';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A real receiver on loopback: records every request; answers `status` (or holds the request while `hold`). */
async function receiver() {
  const got: Received[] = [];
  const state = { status: 200, hold: false };
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      if (state.hold) held.push(res);
      else res.writeHead(state.status, { 'content-type': 'text/plain' }).end(`answer ${state.status}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks?token=receiver-secret`;
  return {
    url,
    got,
    state,
    release() {
      for (const r of held.splice(0)) r.writeHead(200).end('late');
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

let app: FastifyInstance;
let smtp: TestSmtp;

beforeAll(async () => {
  smtp = await startSmtp();
  app = await createTestApp({ SMTP_URL: smtp.url });
});

/** A replica over the same database and store whose clock a test moves (its worker schedules by it). */
async function replicaWithClock() {
  const clock = new MovableClock();
  const replica = await createTestApp({ SMTP_URL: smtp.url }, app, { clock });
  return { clock, replica };
}
afterAll(async () => {
  await app?.close();
  await smtp?.close();
});

async function adminOf() {
  const t = await newTenant(app);
  return { ...t, tokens: await login(app, t.tenant.id, t.admin.email) };
}

async function createEndpoint(tokens: Tokens, payload: Record<string, unknown>, target = app) {
  const res = await target.inject({
    method: 'POST',
    url: '/api/v1/webhooks',
    headers: bearer(tokens),
    payload,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; secret: string; events: string[]; enabled: boolean };
}

/** Steps the worker until nothing is left to fan out or send now. */
async function drain(target = app) {
  for (let i = 0; i < 50; i++) {
    const r = await webhookWorker(target.ctx).tick();
    if (r.fannedOut === 0 && r.sent === 0) return;
  }
  throw new Error('the worker did not settle');
}

async function deliveries(tokens: Tokens, id: string, query = '') {
  const res = await app.inject({
    method: 'GET',
    url: `/api/v1/webhooks/${id}/deliveries${query}`,
    headers: bearer(tokens),
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().deliveries as {
    id: string;
    event_id: string;
    event_type: string;
    status: string;
    attempts: number;
    next_attempt_at: string | null;
    response_status: number | null;
  }[];
}

/** The spec's library: throws unless one of the signatures is valid for `secret` (and the timestamp is fresh). */
function verify(secret: string, r: Received): unknown {
  return new Webhook(secret).verify(r.body, {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  });
}

/**
 * The same check for a body that is not one JSON document (the NDJSON audit stream), whose parse verify() would
 * attempt: the library's own signature of (id, timestamp, body) must be one of the header's.
 */
function verifyRaw(secret: string, r: Received): void {
  const expected = new Webhook(secret).sign(
    String(r.headers['webhook-id']),
    new Date(Number(r.headers['webhook-timestamp']) * 1000),
    r.body,
  );
  expect(String(r.headers['webhook-signature']).split(' ')).toContain(expected);
}

describe('webhook endpoints', () => {
  it('create (secret once, whsec_), list, read, change, delete; audited; the secret is never read back', async () => {
    const { tenant, tokens } = await adminOf();
    const created = await createEndpoint(tokens, {
      url: 'https://hooks.example.test/in',
      events: ['user.*', 'session.revoked'],
      description: 'CRM sync',
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const list = await app.inject({ method: 'GET', url: '/api/v1/webhooks', headers: bearer(tokens) });
    expect(list.json().total).toBe(1);
    expect(list.body).not.toContain(created.secret);
    expect(list.headers['cache-control']).toContain('no-store');
    const patched = await app.inject({
      method: 'PATCH',
      url: `/api/v1/webhooks/${created.id}`,
      headers: bearer(tokens),
      payload: { enabled: false, events: ['audit.record'] },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ enabled: false, events: ['audit.record'] });
    const del = await app.inject({
      method: 'DELETE',
      url: `/api/v1/webhooks/${created.id}`,
      headers: bearer(tokens),
    });
    expect(del.statusCode).toBe(200);
    const gone = await app.inject({
      method: 'GET',
      url: `/api/v1/webhooks/${created.id}`,
      headers: bearer(tokens),
    });
    expect(gone.statusCode).toBe(404);
    const audit = await app.inject({
      method: 'GET',
      url: '/api/v1/audit/logs?resource_type=webhook_endpoint&limit=10',
      headers: bearer(tokens),
    });
    const types = (audit.json().items as { event_type: string; metadata: unknown }[]).map(
      (i) => i.event_type,
    );
    expect(types).toEqual(expect.arrayContaining(['webhook.created', 'webhook.updated', 'webhook.deleted']));
    // The URL's query string (a receiver's token) and the secret stay out of the trail.
    expect(audit.body).not.toContain('whsec_');
    void tenant;
  });

  it('bad input is a 422 naming the field, and nothing is written: plain http off loopback, private address, unknown event, unknown field, empty events', async () => {
    const { tokens } = await adminOf();
    for (const [payload, field] of [
      [{ url: 'http://hooks.example.test/in', events: ['user.created'] }, 'url'],
      [{ url: 'ftp://hooks.example.test/in', events: ['user.created'] }, 'url'],
      [{ url: 'not a url', events: ['user.created'] }, 'url'],
      [{ url: 'https://hooks.example.test/in', events: ['user.exploded'] }, 'events'],
      [{ url: 'https://hooks.example.test/in', events: [] }, 'events'],
      [{ url: 'https://hooks.example.test/in', events: ['user.created'], secret: 'mine' }, 'secret'],
    ] as const) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/webhooks',
        headers: bearer(tokens),
        payload,
      });
      expect(res.statusCode, JSON.stringify(payload)).toBe(422);
      expect(res.json().error).toBe('VALIDATION_ERROR');
      expect(JSON.stringify(res.json().details), JSON.stringify(payload)).toContain(field);
    }
    const list = await app.inject({ method: 'GET', url: '/api/v1/webhooks', headers: bearer(tokens) });
    expect(list.json().total).toBe(0);
  });

  it("another tenant's endpoint is 404 on every route; a member without webhooks.* gets 403", async () => {
    const a = await adminOf();
    const b = await adminOf();
    const e = await createEndpoint(a.tokens, { url: 'https://hooks.example.test/a', events: ['*'] });
    for (const [method, url, payload] of [
      ['GET', `/api/v1/webhooks/${e.id}`, undefined],
      ['PATCH', `/api/v1/webhooks/${e.id}`, { enabled: false }],
      ['DELETE', `/api/v1/webhooks/${e.id}`, undefined],
      ['POST', `/api/v1/webhooks/${e.id}/secret`, undefined],
      ['GET', `/api/v1/webhooks/${e.id}/deliveries`, undefined],
      ['POST', `/api/v1/webhooks/${e.id}/replay`, { event_id: 'x' }],
      ['POST', `/api/v1/webhooks/${e.id}/test`, undefined],
    ] as const) {
      const res = await app.inject({ method, url, headers: bearer(b.tokens), payload });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
    }
    const member = await newUser(app, a.tenant.id, { roles: ['member'] });
    const m = await login(app, a.tenant.id, member.email);
    const res = await app.inject({ method: 'GET', url: '/api/v1/webhooks', headers: bearer(m) });
    expect(res.statusCode).toBe(403);
  });

  it('the per-tenant endpoint limit holds under parallel creations', async () => {
    const limited = await createTestApp({ WEBHOOK_MAX_ENDPOINTS: '3' }, app);
    try {
      const { tokens } = await adminOf();
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          limited.inject({
            method: 'POST',
            url: '/api/v1/webhooks',
            headers: bearer(tokens),
            payload: { url: `https://hooks.example.test/${i}`, events: ['user.created'] },
          }),
        ),
      );
      expect(results.filter((r) => r.statusCode === 201)).toHaveLength(3);
      const refused = results.filter((r) => r.statusCode !== 201);
      expect(refused.every((r) => r.statusCode === 409 && r.json().error === 'WEBHOOK_LIMIT_REACHED')).toBe(
        true,
      );
    } finally {
      await limited.close();
    }
  });
});

describe('deliveries', () => {
  it('a committed change is delivered once, signed (verified by the standardwebhooks library), in the documented shape; a rolled-back change makes no event', async () => {
    const { tenant, tokens } = await adminOf();
    const rx = await receiver();
    try {
      const e = await createEndpoint(tokens, { url: rx.url, events: ['user.created', 'user.deactivated'] });
      // A change that rolls back: its audit record (the outbox row) goes with it.
      await app.ctx.database
        .withTenant(tenant.id, async (tx) => {
          await writeAudit(tx, tenant.id, SYSTEM_AUDIT_CONTEXT, {
            eventType: 'user.created',
            resourceType: 'user',
            resourceId: 999_999,
            metadata: { email: 'rolled-back@example.test' },
          });
          throw new Error('rollback');
        })
        .catch(() => undefined);
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: bearer(tokens),
        payload: {
          email: 'hooked@example.test',
          password: 'Correct-Horse-42-battery',
          first_name: 'Hoo',
          last_name: 'Ked',
        },
      });
      expect(res.statusCode, res.body).toBe(201);
      await drain();
      expect(rx.got).toHaveLength(1);
      const r = rx.got[0]!;
      const body = verify(e.secret, r) as Record<string, unknown>;
      expect(r.headers['content-type']).toBe('application/json');
      expect(body).toMatchObject({
        type: 'user.created',
        tenant_id: tenant.id,
        data: {
          audit_event: 'user.created',
          resource: { type: 'user', id: String(res.json().id) },
          details: expect.objectContaining({}),
        },
      });
      expect(body.id).toBe(r.headers['webhook-id']);
      expect(r.body).toContain('hooked@example.test');
      expect(r.body).not.toContain('rolled-back@example.test');
      // A wrong secret does not verify: the check above can fail.
      expect(() => verify(`whsec_${Buffer.alloc(32, 1).toString('base64')}`, r)).toThrow();
      const log = await deliveries(tokens, e.id);
      expect(log).toHaveLength(1);
      expect(log[0]).toMatchObject({ status: 'delivered', attempts: 1, response_status: 200 });
      await drain();
      expect(rx.got).toHaveLength(1);
    } finally {
      await rx.close();
    }
  });

  it('an endpoint whose secret does not unseal fails its own deliveries only: the others are delivered in the same step', async () => {
    const { tenant, tokens } = await adminOf();
    const rx = await receiver();
    try {
      const good = await createEndpoint(tokens, { url: `${rx.url}&good`, events: ['user.created'] });
      const bad = await createEndpoint(tokens, { url: `${rx.url}&bad`, events: ['user.created'] });
      // As after an ENCRYPTION_KEY change without the old key: the sealed value no longer opens.
      await app.ctx.database.withSystem((tx) =>
        tx.execute(
          sql`update webhook_endpoints set secret_sealed = 'enc:v1:gone:AAAA:AAAA:AAAA' where id = ${bad.id}`,
        ),
      );
      await newUser(app, tenant.id);
      await drain();
      expect(rx.got).toHaveLength(1);
      verify(good.secret, rx.got[0]!);
      const [failed] = await deliveries(tokens, bad.id);
      expect(failed).toMatchObject({ status: 'pending', attempts: 1 });
      const log = await app.inject({
        method: 'GET',
        url: `/api/v1/webhooks/${bad.id}/deliveries`,
        headers: bearer(tokens),
      });
      expect(log.json().deliveries[0].error).toBe('signing secret unreadable');
    } finally {
      await rx.close();
    }
  });

  it('receiver down: attempts follow the back-off schedule, nothing is lost, and everything arrives once it is back', async () => {
    const { tenant, tokens } = await adminOf();
    const rx = await receiver();
    const { clock, replica } = await replicaWithClock();
    const drainReplica = () => drain(replica);
    try {
      rx.state.status = 503;
      const e = await createEndpoint(tokens, { url: rx.url, events: ['user.created'] });
      const users = [];
      for (let i = 0; i < 3; i++) users.push(await newUser(app, tenant.id));
      await drainReplica();
      let log = await deliveries(tokens, e.id);
      expect(log).toHaveLength(3);
      expect(log.every((d) => d.status === 'pending' && d.attempts === 1 && d.response_status === 503)).toBe(
        true,
      );
      // The next attempt is 5 s later, ±20 % jitter.
      for (const d of log) {
        const wait = new Date(d.next_attempt_at!).getTime() - clock.now();
        expect(wait).toBeGreaterThan(RETRY_DELAYS_MS[0]! * 0.8 - 1000);
        expect(wait).toBeLessThanOrEqual(RETRY_DELAYS_MS[0]! * 1.2);
      }
      // Not yet due: nothing is sent.
      await drainReplica();
      expect(rx.got).toHaveLength(3);
      clock.advance(7);
      await drainReplica();
      log = await deliveries(tokens, e.id);
      expect(log.every((d) => d.attempts === 2)).toBe(true);
      rx.state.status = 204;
      clock.advance(6 * 60);
      await drainReplica();
      log = await deliveries(tokens, e.id);
      expect(log.map((d) => d.status)).toEqual(['delivered', 'delivered', 'delivered']);
      const okIds = new Set(rx.got.filter((_, i) => i >= 6).map((r) => r.headers['webhook-id']));
      expect(okIds.size).toBe(3);
      for (const r of rx.got) verify(e.secret, r);
      const created = new Set(
        rx.got.map((r) => (JSON.parse(r.body) as { data: { resource: { id: string } } }).data.resource.id),
      );
      expect([...created].sort()).toEqual(users.map((u) => String(u.id)).sort());
    } finally {
      await replica.close();
      await rx.close();
    }
  });

  it('a worker that dies mid-delivery: another replica sends it once the lease runs out, with the same webhook-id', async () => {
    const { tenant, tokens } = await adminOf();
    const rx = await receiver();
    const replicaClock = new MovableClock();
    const replica = await createTestApp({}, app, { clock: replicaClock });
    try {
      const e = await createEndpoint(tokens, { url: rx.url, events: ['user.created'] });
      await newUser(app, tenant.id);
      rx.state.hold = true;
      // This worker claims the delivery and hangs on the receiver: as good as dead.
      const stuck = webhookWorker(app.ctx).tick();
      for (let i = 0; i < 100 && rx.got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(rx.got).toHaveLength(1);
      rx.state.hold = false;
      // The other replica: nothing to take while the lease holds...
      await webhookWorker(replica.ctx).tick();
      expect(rx.got).toHaveLength(1);
      // ...and the delivery once it has run out.
      replicaClock.advance(61);
      await webhookWorker(replica.ctx).tick();
      expect(rx.got).toHaveLength(2);
      expect(rx.got[1]!.headers['webhook-id']).toBe(rx.got[0]!.headers['webhook-id']);
      verify(e.secret, rx.got[1]!);
      rx.release();
      await stuck;
      const log = await deliveries(tokens, e.id);
      expect(log[0]).toMatchObject({ status: 'delivered' });
    } finally {
      rx.release();
      await replica.close();
      await rx.close();
    }
  });

  it('an endpoint failing for 24 h is disabled, audited and its admins mailed; enabling it again resumes delivery', async () => {
    const { tenant, admin, tokens } = await adminOf();
    const rx = await receiver();
    const { clock, replica } = await replicaWithClock();
    try {
      rx.state.status = 500;
      const e = await createEndpoint(tokens, { url: rx.url, events: ['user.created'] });
      await newUser(app, tenant.id);
      await drain(replica);
      // Through the schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (27.6 h in all, with jitter).
      for (let i = 0; i < 8; i++) {
        clock.advance(13 * 3600);
        await drain(replica);
      }
      const endpoint = await app.inject({
        method: 'GET',
        url: `/api/v1/webhooks/${e.id}`,
        headers: bearer(tokens),
      });
      expect(endpoint.json()).toMatchObject({ enabled: false, disabled_reason: 'failing for 24 hours' });
      const mail = await smtp.waitFor(admin.email, (m) => m.subject.includes('webhook'));
      expect(mail.text).toContain(e.id);
      const log = await deliveries(tokens, e.id);
      expect(log[0]!.attempts).toBeGreaterThanOrEqual(3);
      // Nothing more is sent while disabled.
      const sent = rx.got.length;
      await newUser(app, tenant.id);
      clock.advance(3600);
      await drain(replica);
      expect(rx.got.length).toBe(sent);
      rx.state.status = 200;
      const on = await app.inject({
        method: 'PATCH',
        url: `/api/v1/webhooks/${e.id}`,
        headers: bearer(tokens),
        payload: { enabled: true },
      });
      expect(on.json()).toMatchObject({ enabled: true, failing_since: null, disabled_reason: null });
      await drain(replica);
      // The user created while it was disabled arrives now.
      expect(rx.got.length).toBe(sent + 1);
    } finally {
      await replica.close();
      await rx.close();
    }
  });

  it('rotation: for 24 h both secrets sign (either verifies), then only the new one; the secret is shown once', async () => {
    const { tenant, tokens } = await adminOf();
    const rx = await receiver();
    try {
      const e = await createEndpoint(tokens, { url: rx.url, events: ['user.created'] });
      const rotated = await app.inject({
        method: 'POST',
        url: `/api/v1/webhooks/${e.id}/secret`,
        headers: bearer(tokens),
      });
      expect(rotated.statusCode, rotated.body).toBe(200);
      const fresh = rotated.json().secret as string;
      expect(fresh).not.toBe(e.secret);
      await newUser(app, tenant.id);
      await drain();
      const during = rx.got.at(-1)!;
      expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
      verify(e.secret, during);
      verify(fresh, during);
      // A day later (the replica's clock): only the new secret signs.
      const { clock, replica } = await replicaWithClock();
      try {
        clock.advance(24 * 3600 + 60);
        await newUser(app, tenant.id);
        await drain(replica);
        const after = rx.got.at(-1)!;
        expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
        verify(fresh, after);
        expect(() => verify(e.secret, after)).toThrow();
      } finally {
        await replica.close();
      }
    } finally {
      await rx.close();
    }
  });

  it('replay of one event (same webhook-id) and a test event, both in the log', async () => {
    const { tenant, tokens } = await adminOf();
    const rx = await receiver();
    try {
      const e = await createEndpoint(tokens, { url: rx.url, events: ['user.created'] });
      await newUser(app, tenant.id);
      await drain();
      const first = rx.got[0]!;
      const replay = await app.inject({
        method: 'POST',
        url: `/api/v1/webhooks/${e.id}/replay`,
        headers: bearer(tokens),
        payload: { event_id: first.headers['webhook-id'] },
      });
      expect(replay.json()).toEqual({ replayed: 1, truncated: false });
      const test = await app.inject({
        method: 'POST',
        url: `/api/v1/webhooks/${e.id}/test`,
        headers: bearer(tokens),
      });
      expect(test.statusCode, test.body).toBe(201);
      await drain();
      expect(rx.got).toHaveLength(3);
      // The replay and the test event are sent side by side: in either order.
      const again = rx.got.slice(1).find((r) => r.headers['webhook-id'] === first.headers['webhook-id']);
      expect(again?.body).toBe(first.body);
      const testEvent = rx.got.slice(1).find((r) => r !== again)!;
      expect(JSON.parse(testEvent.body).type).toBe('webhook.test');
      verify(e.secret, testEvent);
      const unknown = await app.inject({
        method: 'POST',
        url: `/api/v1/webhooks/${e.id}/replay`,
        headers: bearer(tokens),
        payload: { event_id: 'evt_nope' },
      });
      expect(unknown.statusCode).toBe(404);
      const log = await deliveries(tokens, e.id);
      expect(log.map((d) => d.event_type).sort()).toEqual(['user.created', 'user.created', 'webhook.test']);
    } finally {
      await rx.close();
    }
  });

  it('audit stream: NDJSON batches in chain order whose hashes the receiver recomputes (sha256(prev_hash \\n canonical JSON))', async () => {
    const { tenant, tokens } = await adminOf();
    const rx = await receiver();
    try {
      const e = await createEndpoint(tokens, { url: rx.url, events: ['audit.record'] });
      for (let i = 0; i < 3; i++) await newUser(app, tenant.id);
      await login(app, tenant.id, 'nobody@example.test', 'Wrong-password-1').catch(() => undefined);
      await drain();
      expect(rx.got.length).toBeGreaterThanOrEqual(1);
      const lines = rx.got.flatMap((r) => {
        verifyRaw(e.secret, r);
        expect(r.headers['content-type']).toBe('application/x-ndjson');
        return r.body
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l));
      });
      expect(lines.length).toBeGreaterThanOrEqual(4);
      let prev: string | null = null;
      let seq: number | null = null;
      for (const l of lines) {
        expect(l.type).toBe('audit.record');
        const rec = l.data.record;
        if (prev !== null) expect(rec.prev_hash).toBe(prev);
        if (seq !== null) expect(rec.seq).toBe(seq + 1);
        const { id: _id, prev_hash, hash, ...body } = rec;
        const recomputed = createHash('sha256')
          .update(prev_hash)
          .update('\n')
          .update(canonicalJson(body))
          .digest('hex');
        expect(recomputed).toBe(hash);
        prev = hash;
        seq = rec.seq;
      }
    } finally {
      await rx.close();
    }
  });
});

describe('the delivery log and personal data', () => {
  /** The payloads of an endpoint's deliveries, read as the database holds them. */
  async function payloads(tenantId: number, endpointId: string) {
    const r = await app.ctx.database.withTenant(tenantId, (tx) =>
      tx.execute<{ status: string; payload: string }>(
        sql`select status, payload from webhook_deliveries where tenant_id = ${tenantId} and endpoint_id = ${endpointId} order by created_at, id`,
      ),
    );
    return r.rows;
  }

  it('GDPR erasure scrubs the user from every delivery, sent or still owed (the pseudonym in their place), and an event still owed is sent scrubbed', async () => {
    const { tenant, admin } = await newTenant(app, { superuser: true });
    const tokens = await login(app, tenant.id, admin.email);
    const rx = await receiver();
    const down = await receiver();
    down.state.status = 500;
    try {
      const sent = await createEndpoint(tokens, { url: rx.url, events: ['user.created', 'audit.record'] });
      const owed = await createEndpoint(tokens, { url: down.url, events: ['user.created'] });
      const email = `erase-me-${Date.now()}@example.test`;
      const created = await app.inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: bearer(tokens),
        payload: { email, password: 'Correct-Horse-42-battery', first_name: 'Zebulon', last_name: 'Quaxley' },
      });
      expect(created.statusCode, created.body).toBe(201);
      const bystander = await newUser(app, tenant.id);
      await drain();
      expect(rx.got.some((r) => r.body.includes(email))).toBe(true);
      const before = [...(await payloads(tenant.id, sent.id)), ...(await payloads(tenant.id, owed.id))];
      expect(before.filter((d) => d.payload.includes(email)).length).toBeGreaterThanOrEqual(3);
      expect((await payloads(tenant.id, owed.id)).map((d) => d.status)).toContain('pending');

      const erased = await app.inject({
        method: 'DELETE',
        url: '/api/v1/gdpr/delete',
        headers: bearer(tokens),
        payload: { user_id: created.json().id, reason: 'Webhook payload scrub check', confirm: true },
      });
      expect(erased.statusCode, erased.body).toBe(200);
      const { pseudonym, modules } = erased.json().data;
      expect(modules).toContain('webhooks');

      const after = [...(await payloads(tenant.id, sent.id)), ...(await payloads(tenant.id, owed.id))];
      expect(after).toHaveLength(before.length);
      for (const d of after) {
        expect(d.payload).not.toContain(email);
        expect(d.payload).not.toContain('Zebulon');
        expect(d.payload).not.toContain('Quaxley');
      }
      expect(after.filter((d) => d.payload.includes(pseudonym)).length).toBeGreaterThanOrEqual(3);
      // Other people's values stay: the scrub is the erased user's alone.
      expect(after.some((d) => d.payload.includes(bystander.email))).toBe(true);
      // Every payload is still the JSON (or NDJSON) it was.
      for (const d of after) for (const line of d.payload.trim().split('\n')) JSON.parse(line);

      // The event still owed goes out scrubbed once the receiver is back.
      down.state.status = 200;
      const { clock, replica } = await replicaWithClock();
      try {
        clock.advance(3600);
        await drain(replica);
      } finally {
        await replica.close();
      }
      const late = down.got.filter((r) => r.headers['webhook-id'] && r.body.includes(pseudonym));
      expect(late.length).toBeGreaterThanOrEqual(1);
      verify(owed.secret, late[late.length - 1]!);
      expect(down.got[down.got.length - 1]!.body).not.toContain(email);
    } finally {
      await rx.close();
      await down.close();
    }
  });

  it('retention: finished deliveries older than WEBHOOK_DELIVERY_RETENTION_DAYS are deleted by the workers; pending and recent ones stay', async () => {
    const { tenant, tokens } = await adminOf();
    const rx = await receiver();
    try {
      const e = await createEndpoint(tokens, { url: rx.url, events: ['user.created'] });
      for (let i = 0; i < 3; i++) await newUser(app, tenant.id);
      await drain();
      const ids = (await deliveries(tokens, e.id)).map((d) => d.id);
      expect(ids).toHaveLength(3);
      const [old, oldPending, recent] = ids as [string, string, string];
      // Two made 31 days old, one of them still owed (pending, not due yet).
      await app.ctx.database.withSystem((tx) =>
        tx.execute(sql`
          update webhook_deliveries set created_at = now() - interval '31 days'
          where id in (${old}, ${oldPending})`),
      );
      await app.ctx.database.withSystem((tx) =>
        tx.execute(sql`
          update webhook_deliveries set status = 'pending', next_attempt_at = now() + interval '1 day'
          where id = ${oldPending}`),
      );
      // A fresh replica's worker prunes on its first step (then at most once a minute).
      const replica = await createTestApp({ SMTP_URL: smtp.url, WEBHOOK_DELIVERY_RETENTION_DAYS: '30' }, app);
      try {
        // (Another test file's worker, which serves every tenant too, may have pruned them first: the rows are
        // what is checked below, not this step's count.)
        await webhookWorker(replica.ctx).tick();
        // Its next step within the minute does not scan again.
        expect((await webhookWorker(replica.ctx).tick()).pruned).toBe(0);
      } finally {
        await replica.close();
      }
      const left = (await deliveries(tokens, e.id)).map((d) => d.id);
      expect(left.sort()).toEqual([oldPending, recent].sort());
    } finally {
      await rx.close();
    }
  });
});
