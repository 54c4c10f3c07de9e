/**
 * The route declarer (src/platform/http/route.ts): what one declaration becomes in Fastify's route options (the
 * OpenAPI document and the declared-status check read them), and the statuses it sends itself.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeOptions, routes, succeeded } from '../../src/platform/http/route.js';
import { IdParams } from '../../src/platform/http/schemas.js';

const Item = Type.Object({ id: Type.Integer() });
const ref = { $ref: 'ErrorEnvelope' };
const statuses = (o: { schema?: unknown }) =>
  Object.keys((o.schema as { response: Record<string, unknown> }).response).map(Number);

describe('routeOptions', () => {
  it('builds the method, path, tag, summary, inputs and config of a route', () => {
    const o = routeOptions('users', 'PUT /:id', 'Change a user', {
      access: 'users.write',
      rateLimit: { bucket: 'login' },
      params: IdParams,
      query: Item,
      body: Item,
      ok: Item,
      errors: [404, 422],
    });
    expect(o.method).toBe('PUT');
    expect(o.url).toBe('/:id');
    expect(o.config).toEqual({ access: 'users.write', rateLimit: { bucket: 'login' } });
    const schema = o.schema as Record<string, unknown>;
    expect(schema.tags).toEqual(['users']);
    expect(schema.summary).toBe('Change a user');
    expect(schema.params).toBe(IdParams);
    expect(schema.querystring).toBe(Item);
    expect(schema.body).toBe(Item);
    expect(schema.response).toMatchObject({ 200: Item, 401: ref, 403: ref, 404: ref, 422: ref });
    expect(statuses(o)).toEqual([200, 401, 403, 404, 422]);
  });

  it('leaves out what a route does not declare', () => {
    const o = routeOptions('features', 'GET /evaluate', undefined, {
      access: 'self',
      keyScope: 'features.read',
      ok: Item,
    });
    expect(o.schema).toEqual({ tags: ['features'], response: expect.any(Object) });
    expect(o.config).toEqual({ access: 'self', keyScope: 'features.read' });
    expect('logLevel' in o || 'bodyLimit' in o).toBe(false);
  });

  it('derives 401 from any access but public, 403 from a permission', () => {
    const of = (access: 'public' | 'self' | 'users.read') =>
      statuses(
        routeOptions('t', 'GET /x', undefined, access === 'self' ? { access, keyScope: null } : { access }),
      );
    expect(of('public')).toEqual([]);
    expect(of('self')).toEqual([401]);
    expect(of('users.read')).toEqual([401, 403]);
    // A public route lists them itself when it answers them (a sign-in refusing credentials).
    expect(
      statuses(routeOptions('t', 'POST /login', undefined, { access: 'public', errors: [401, 403] })),
    ).toEqual([401, 403]);
  });

  it('refuses a route listing a status its access already declares', () => {
    expect(() =>
      routeOptions('t', 'GET /x', undefined, { access: 'self', keyScope: null, errors: [401] }),
    ).toThrow("Route GET /x lists 401, which its access 'self' already declares");
    expect(() =>
      routeOptions('t', 'GET /x', undefined, { access: 'users.read', errors: [403, 404] }),
    ).toThrow(/lists 403/);
  });

  it('maps each success to its status', () => {
    const o = routeOptions('t', 'POST /x', undefined, { access: 'public', ok: Item, accepted: Item });
    expect(statuses(o)).toEqual([200, 202]);
    expect(statuses(routeOptions('t', 'POST /x', undefined, { access: 'public', created: Item }))).toEqual([
      201,
    ]);
    const gone = routeOptions('t', 'DELETE /x', undefined, { access: 'public', noContent: true });
    expect((gone.schema as { response: Record<number, unknown> }).response[204]).toMatchObject({
      type: 'null',
    });
  });

  it('declares no responses on a hidden route, and refuses one that lists some', () => {
    const o = routeOptions('scim', 'GET /Users', undefined, { access: 'self', keyScope: null, hide: true });
    expect(o.schema).toEqual({ tags: ['scim'], hide: true });
    expect(() =>
      routeOptions('scim', 'GET /Users', undefined, {
        access: 'self',
        keyScope: null,
        hide: true,
        errors: [404],
      }),
    ).toThrow('Route GET /Users is hidden: it declares no responses');
  });

  it('keeps the route-level options it is given', () => {
    const o = routeOptions('t', 'POST /acs', undefined, {
      access: 'public',
      logLevel: 'warn',
      bodyLimit: 10,
    });
    expect(o.logLevel).toBe('warn');
    expect(o.bodyLimit).toBe(10);
  });
});

describe('routes', () => {
  const app = Fastify().withTypeProvider<TypeBoxTypeProvider>();
  app.addSchema({ $id: 'ErrorEnvelope', type: 'object', additionalProperties: true });
  beforeAll(async () => {
    await app.register(
      routes('items', (route) => {
        route('GET /:id', { access: 'public', params: IdParams, ok: Item }, (req) => ({ id: req.params.id }));
        route('POST /', 'Create', { access: 'public', body: Item, created: Item }, (req) => ({
          id: req.body.id,
        }));
        route('DELETE /:id', { access: 'public', params: IdParams, noContent: true }, () => undefined);
        route('POST /done', { access: 'public', ok: Type.Object({}, { additionalProperties: true }) }, () =>
          succeeded('done'),
        );
      }),
    );
    await app.ready();
  });
  afterAll(() => app.close());

  it('registers each route with its typed handler', async () => {
    const res = await app.inject({ method: 'GET', url: '/7' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: 7 });
  });

  it('answers 201 with what a created route returns', async () => {
    const res = await app.inject({ method: 'POST', url: '/', payload: { id: 3 } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ id: 3 });
  });

  it('answers 204 without a body once a noContent route resolves', async () => {
    const res = await app.inject({ method: 'DELETE', url: '/3' });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
  });

  it('succeeded is the success envelope', async () => {
    const res = await app.inject({ method: 'POST', url: '/done' });
    expect(res.json()).toEqual({ success: true, message: 'done', data: null });
    expect(succeeded('m', { n: 1 })).toEqual({ success: true, message: 'm', data: { n: 1 } });
  });
});
