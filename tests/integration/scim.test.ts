/**
 * Issue 13, SCIM 2.0 (API.md §17): the request sequences Okta and Entra ID really send, deactivation that ends
 * sessions and keys at once, groups as roles, RFC 7644 errors, tenant isolation and the `scim` scope.
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newUser, PASSWORD, uniq } from '../helpers/factories.js';
import { type Caller, roleId, tenantOwner } from '../helpers/rbac.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app?.close();
});

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

type Scim = (method: string, url: string, body?: unknown) => Promise<LightMyRequestResponse>;

function scimClient(rawKey: string): Scim {
  return (method, url, body) =>
    app.inject({
      method: method as never,
      url: `/scim/v2${url}`,
      headers: {
        authorization: `Bearer ${rawKey}`,
        ...(body !== undefined ? { 'content-type': 'application/scim+json; charset=utf-8' } : {}),
      },
      ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
}

async function createKey(owner: Caller, body: Record<string, unknown>): Promise<string> {
  const res = await owner.call('POST', '/api/v1/api-keys', { name: uniq('key'), ...body });
  if (res.statusCode !== 201) throw new Error(`key: ${res.statusCode} ${res.body}`);
  return res.json().raw_key;
}

/** A tenant, its owner, and a tenant-owned key with scope `scim` acting with the `admin` role. */
async function scimTenant() {
  const t = await tenantOwner(app);
  const admin = await roleId(t.owner, 'admin');
  const key = await createKey(t.owner, { scopes: ['scim'], owner: 'tenant', role_id: admin });
  return { ...t, key, scim: scimClient(key) };
}

function expectScimError(res: LightMyRequestResponse, status: number, scimType?: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
  const body = res.json();
  expect(body.schemas).toEqual([ERROR]);
  expect(body.status).toBe(String(status));
  expect(typeof body.detail).toBe('string');
  if (scimType) expect(body.scimType).toBe(scimType);
}

/** A tenant admin maps a directory group to roles by code (PUT /api/v1/directory/groups/{id}/roles). */
async function mapGroup(owner: Caller, groupId: string, codes: string[]) {
  const ids = [];
  for (const c of codes) ids.push(await roleId(owner, c));
  const res = await owner.call('PUT', `/api/v1/directory/groups/${groupId}/roles`, { role_ids: ids });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function rolesOf(owner: Caller, userId: string | number): Promise<string[]> {
  const res = await owner.call('GET', `/api/v1/users/${userId}/roles`);
  expect(res.statusCode, res.body).toBe(200);
  return (res.json().roles as { role_code?: string; code?: string }[]).map(
    (r) => r.role_code ?? r.code ?? '',
  );
}

describe('issue 13 scim: Okta sequence', () => {
  it('probes, creates, updates, deactivates (sessions and keys end at once) and pushes a group', async () => {
    const { owner, scim } = await scimTenant();
    const email = `${uniq('okta')}@example.test`;

    // Okta first looks the user up by userName.
    const probe = await scim(
      'GET',
      `/Users?filter=${encodeURIComponent(`userName eq "${email}"`)}&startIndex=1&count=100`,
    );
    expect(probe.statusCode, probe.body).toBe(200);
    expect(probe.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(probe.json()).toEqual({
      schemas: [LIST],
      totalResults: 0,
      itemsPerPage: 0,
      startIndex: 1,
      Resources: [],
    });

    // Okta's documented create body (password sync on).
    const created = await scim('POST', '/Users', {
      schemas: [USER],
      userName: email,
      name: { givenName: 'Olive', familyName: 'Okta' },
      emails: [{ primary: true, value: email, type: 'work' }],
      displayName: 'Olive Okta',
      locale: 'en-US',
      externalId: '00u1abcdOKTA',
      groups: [],
      password: PASSWORD,
      active: true,
    });
    expect(created.statusCode, created.body).toBe(201);
    const user = created.json();
    expect(user).toMatchObject({
      schemas: [USER],
      userName: email,
      externalId: '00u1abcdOKTA',
      active: true,
      name: { givenName: 'Olive', familyName: 'Okta' },
      emails: [{ value: email, primary: true }],
      meta: { resourceType: 'User' },
    });
    expect(created.headers.location).toBe(user.meta.location);
    expect(user.meta.location).toMatch(new RegExp(`/scim/v2/Users/${user.id}$`));

    // The same userName again: 409 uniqueness.
    expectScimError(
      await scim('POST', '/Users', { schemas: [USER], userName: email.toUpperCase() }),
      409,
      'uniqueness',
    );

    // Found by userName (any case) and by externalId.
    const byName = await scim(
      'GET',
      `/Users?filter=${encodeURIComponent(`USERNAME eq "${email.toUpperCase()}"`)}`,
    );
    expect(byName.json().totalResults).toBe(1);
    expect(byName.json().Resources[0].id).toBe(user.id);
    const byExt = await scim('GET', `/Users?filter=${encodeURIComponent('externalId eq "00u1abcdOKTA"')}`);
    expect(byExt.json().Resources.map((r: { id: string }) => r.id)).toEqual([user.id]);

    // Okta's profile push is a PUT of the whole user.
    const put = await scim('PUT', `/Users/${user.id}`, {
      schemas: [USER],
      id: user.id,
      userName: email,
      name: { givenName: 'Olive', familyName: 'Oktavia' },
      emails: [{ primary: true, value: email, type: 'work' }],
      active: true,
      externalId: '00u1abcdOKTA',
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json().name.familyName).toBe('Oktavia');

    // The user (given a role that may create keys) signs in and makes a key of their own; both work.
    const grant = await owner.call('POST', `/api/v1/users/${user.id}/roles`, {
      role_id: await roleId(owner, 'admin'),
    });
    expect(grant.statusCode, grant.body).toBe(201);
    const tokens = await login(app, owner.tenantId, email);
    const me = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(tokens) });
    expect(me.statusCode).toBe(200);
    const ownKey = (
      await app.inject({
        method: 'POST',
        url: '/api/v1/api-keys',
        headers: bearer(tokens),
        payload: { name: 'mine', scopes: ['profile.read'] },
      })
    ).json().raw_key as string;
    const keyMe = () =>
      app.inject({ method: 'GET', url: '/api/v1/users/me', headers: { 'x-api-key': ownKey } });
    expect((await keyMe()).statusCode).toBe(200);

    // Okta deactivates with a PATCH without path carrying {active:false}.
    const deactivated = await scim('PATCH', `/Users/${user.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    expect(deactivated.statusCode, deactivated.body).toBe(200);
    expect(deactivated.json().active).toBe(false);

    // The very next request with the session, and with the user's key, is refused.
    const after = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(tokens) });
    expect(after.statusCode).toBe(401);
    expect(after.json().error).toBe('SESSION_REVOKED');
    const keyAfter = await keyMe();
    expect(keyAfter.statusCode).toBe(403);
    expect(keyAfter.json().error).toBe('ACCOUNT_INACTIVE');
    // Nor can they sign in again.
    await expect(login(app, owner.tenantId, email)).rejects.toThrow();

    // The changes are audited with the SCIM key as the actor, in the users module's own records.
    const audit = await owner.call('GET', `/api/v1/audit/logs?resource_type=user&resource_id=${user.id}`);
    expect(audit.statusCode, audit.body).toBe(200);
    const events = audit.json().items as { event_type: string; actor_type: string }[];
    expect(events.map((e) => e.event_type)).toEqual(expect.arrayContaining(['user.created', 'user.updated']));
    expect(
      events.filter((e) => e.event_type.startsWith('user.')).every((e) => e.actor_type === 'api_key'),
    ).toBe(true);

    // Reactivation works too.
    const back = await scim('PATCH', `/Users/${user.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', value: { active: true } }],
    });
    expect(back.json().active).toBe(true);

    // Group push: Okta looks the group up, creates it (a directory group of its own), then adds and removes
    // members; a tenant admin has mapped it to `manager`, so membership grants that role.
    const g = await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "Engineering"')}`);
    expect(g.json().totalResults).toBe(0);
    const pushed = await scim('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Engineering',
      members: [],
    });
    expect(pushed.statusCode, pushed.body).toBe(201);
    const group = pushed.json();
    expect(group).toMatchObject({ schemas: [GROUP], displayName: 'Engineering', members: [] });
    await mapGroup(owner, group.id, ['manager']);
    const add = await scim('PATCH', `/Groups/${group.id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'add', path: 'members', value: [{ value: user.id, display: 'whatever the IdP says' }] },
      ],
    });
    expect(add.statusCode, add.body).toBe(204);
    expect(await rolesOf(owner, user.id)).toContain('manager');
    const read = await scim('GET', `/Groups/${group.id}`);
    // members.display is the server's (the userName), whatever the client sent.
    expect(read.json().members).toEqual([
      expect.objectContaining({ value: user.id, display: email, type: 'User' }),
    ]);
    const remove = await scim('PATCH', `/Groups/${group.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'remove', path: `members[value eq "${user.id}"]` }],
    });
    expect(remove.statusCode, remove.body).toBe(204);
    expect(await rolesOf(owner, user.id)).not.toContain('manager');
    // Removing again is a no-op, not an error (IdPs retry).
    const again = await scim('PATCH', `/Groups/${group.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'remove', path: `members[value eq "${user.id}"]` }],
    });
    expect(again.statusCode, again.body).toBe(204);
    // Okta renames with a path-less replace.
    const renamed = await scim('PATCH', `/Groups/${group.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', value: { id: group.id, displayName: 'Engineering EU' } }],
    });
    expect(renamed.statusCode, renamed.body).toBe(204);
    expect((await scim('GET', `/Groups/${group.id}`)).json().displayName).toBe('Engineering EU');
    // displayName is unique per tenant, case-insensitively.
    expectScimError(
      await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'engineering eu' }),
      409,
      'uniqueness',
    );
    // A role code as displayName means nothing special: just a group.
    const named = await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'owner' });
    expect(named.statusCode, named.body).toBe(201);
    expect(named.json().id).not.toBe(await roleId(owner, 'owner'));
  });
});

describe('issue 13 scim: Entra ID sequence', () => {
  it('matches, updates with "Replace" and "False", deactivates, moves group members, deletes', async () => {
    const { owner, scim } = await scimTenant();
    // Entra matches an existing account by userName, then manages it.
    const existing = await newUser(app, owner.tenantId, { email: `${uniq('entra')}@example.test` });
    const found = await scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${existing.email}"`)}`);
    expect(found.json().totalResults).toBe(1);
    const id = found.json().Resources[0].id as string;

    // Entra's PATCH: capitalised ops, extension attributes, no-path replace with dotted names.
    const patched = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'Add', path: 'externalId', value: 'e1b2c3d4-entra' },
        { op: 'Replace', path: 'displayName', value: 'Erin Entra' },
        { op: 'Replace', path: 'name.givenName', value: 'Erin' },
        { op: 'Add', path: `${ENTERPRISE}:department`, value: 'Ops' },
        { op: 'Replace', value: { 'name.familyName': 'Entra', active: 'True' } },
      ],
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({
      externalId: 'e1b2c3d4-entra',
      name: { givenName: 'Erin', familyName: 'Entra' },
      active: true,
    });

    // Entra's create body, with the enterprise extension.
    const email = `${uniq('entra-new')}@example.test`;
    const created = await scim('POST', '/Users', {
      schemas: [USER, ENTERPRISE],
      externalId: 'f00dfeed-entra',
      userName: email,
      active: true,
      displayName: 'Nia New',
      emails: [{ primary: true, type: 'work', value: email }],
      meta: { resourceType: 'User' },
      name: { formatted: 'Nia New', familyName: 'New', givenName: 'Nia' },
      roles: [],
      [ENTERPRISE]: { employeeNumber: '42', department: 'R&D', manager: { value: id } },
    });
    expect(created.statusCode, created.body).toBe(201);
    const newId = created.json().id as string;
    // Entra ignores nothing it sends twice: the same externalId on another user is a 409 uniqueness.
    expectScimError(
      await scim('POST', '/Users', {
        schemas: [USER],
        userName: `${uniq('x')}@example.test`,
        externalId: 'f00dfeed-entra',
      }),
      409,
      'uniqueness',
    );

    // Groups: Entra creates its groups, an admin maps them; Entra looks them up without members, then adds with
    // "Add" and removes with a value list.
    const viewers = await scim('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Viewers',
      externalId: 'grp-v',
    });
    expect(viewers.statusCode, viewers.body).toBe(201);
    expect(viewers.json().externalId).toBe('grp-v');
    const managers = await scim('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Managers',
      externalId: 'grp-m',
    });
    expect(managers.statusCode, managers.body).toBe(201);
    await mapGroup(owner, viewers.json().id, ['viewer']);
    await mapGroup(owner, managers.json().id, ['manager']);
    const viewerRes = await scim(
      'GET',
      `/Groups?excludedAttributes=members&filter=${encodeURIComponent('displayName eq "viewers"')}`,
    );
    expect(viewerRes.statusCode, viewerRes.body).toBe(200);
    const viewer = viewerRes.json().Resources[0];
    expect(viewer.members).toBeUndefined();
    const manager = (
      await scim('GET', `/Groups?filter=${encodeURIComponent('externalId eq "grp-m"')}`)
    ).json().Resources[0];
    const addViewer = await scim('PATCH', `/Groups/${viewer.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Add', path: 'members', value: [{ value: id }, { value: newId }] }],
    });
    expect(addViewer.statusCode, addViewer.body).toBe(204);
    expect(await rolesOf(owner, id)).toContain('viewer');
    // Move `id` from viewer to manager.
    const removeViewer = await scim('PATCH', `/Groups/${viewer.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Remove', path: 'members', value: [{ value: id }] }],
    });
    expect(removeViewer.statusCode, removeViewer.body).toBe(204);
    const addManager = await scim('PATCH', `/Groups/${manager.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Add', path: 'members', value: [{ value: id }] }],
    });
    expect(addManager.statusCode, addManager.body).toBe(204);
    expect(await rolesOf(owner, id)).toEqual(expect.arrayContaining(['manager']));
    expect(await rolesOf(owner, id)).not.toContain('viewer');
    expect(await rolesOf(owner, newId)).toContain('viewer');
    // Role changes are audited by the RBAC service with the key as actor.
    const audit = await owner.call(
      'GET',
      `/api/v1/audit/logs?resource_type=user&resource_id=${id}&event_type=role.unassigned`,
    );
    expect(audit.json().items.length).toBeGreaterThan(0);
    expect(audit.json().items[0].actor_type).toBe('api_key');
    // PUT of a group replaces its members.
    const put = await scim('PUT', `/Groups/${viewer.id}`, {
      schemas: [GROUP],
      displayName: 'Viewers',
      members: [],
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json().members).toEqual([]);
    expect(await rolesOf(owner, newId)).not.toContain('viewer');

    // The user has a WireGuard peer and signs in; Entra deactivates with "Replace" and the string "False":
    // the session and the peer end at once.
    const peer = await owner.call('POST', '/api/v1/wireguard/peers', {
      name: uniq('peer'),
      user_id: Number(id),
    });
    expect(peer.statusCode, peer.body).toBe(201);
    const tokens = await login(app, owner.tenantId, existing.email, existing.password);
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(tokens) })).statusCode,
    ).toBe(200);
    const off = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    });
    expect(off.statusCode, off.body).toBe(200);
    expect(off.json().active).toBe(false);
    const refused = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(tokens) });
    expect(refused.statusCode).toBe(401);
    const peerAfter = await owner.call('GET', `/api/v1/wireguard/peers/${peer.json().id}`);
    expect(peerAfter.json().revoked_at).not.toBeNull();

    // Entra's eventual hard delete: 204, then 404.
    expect((await scim('DELETE', `/Users/${newId}`)).statusCode).toBe(204);
    expectScimError(await scim('GET', `/Users/${newId}`), 404);
  });
});

describe('issue 13 scim: errors, scope, isolation, pagination', () => {
  it('unknown or unsupported filters are 400 invalidFilter', async () => {
    const { scim } = await scimTenant();
    for (const f of [
      'title pr',
      'password eq "x"',
      'garbage',
      'userName eq 12',
      'active gt true',
      'meta.created gt "yesterday"',
      'userName eq "a" and',
      '(((',
      'userName eq "x"; drop table users; --',
    ]) {
      expectScimError(await scim('GET', `/Users?filter=${encodeURIComponent(f)}`), 400, 'invalidFilter');
    }
    expectScimError(
      await scim('GET', `/Groups?filter=${encodeURIComponent('userName eq "x"')}`),
      400,
      'invalidFilter',
    );
  });

  it('malformed JSON and wrong types are SCIM 400s, never 500', async () => {
    const { scim, owner } = await scimTenant();
    const u = await newUser(app, owner.tenantId);
    const cases: [string, string, unknown, string][] = [
      ['POST', '/Users', '{"userName": ', 'invalidSyntax'],
      ['POST', '/Users', '[]', 'invalidSyntax'],
      ['POST', '/Users', { userName: 42 }, 'invalidValue'],
      ['POST', '/Users', { userName: 'not-an-email' }, 'invalidValue'],
      ['POST', '/Users', { userName: 'a@example.test', active: 'maybe' }, 'invalidValue'],
      ['POST', '/Users', { userName: 'a@example.test', name: 'Ann' }, 'invalidValue'],
      ['POST', '/Users', { userName: 'a\u0000b@example.test' }, 'invalidValue'],
      [
        'POST',
        '/Users',
        { userName: 'a@example.test', name: { givenName: 'x'.repeat(101) } },
        'invalidValue',
      ],
      ['POST', '/Users', { userName: `${uniq('w')}@example.test`, password: 'short' }, 'invalidValue'],
      ['PATCH', `/Users/${u.id}`, '{bad json', 'invalidSyntax'],
      ['PATCH', `/Users/${u.id}`, { Operations: 'replace' }, 'invalidSyntax'],
      ['PATCH', `/Users/${u.id}`, { Operations: [{ op: 'frobnicate', value: {} }] }, 'invalidSyntax'],
      ['PATCH', `/Users/${u.id}`, { Operations: [{ op: 'replace', value: 'x' }] }, 'invalidValue'],
      [
        'PATCH',
        `/Users/${u.id}`,
        { Operations: [{ op: 'replace', path: 'active', value: 'nope' }] },
        'invalidValue',
      ],
      ['PATCH', `/Users/${u.id}`, { Operations: [{ op: 'remove', path: 'userName' }] }, 'invalidValue'],
      [
        'PATCH',
        `/Users/${u.id}`,
        { Operations: [{ op: 'replace', path: 'emails[type eq', value: 'x' }] },
        '',
      ],
      ['PUT', `/Users/${u.id}`, { userName: null }, 'invalidValue'],
      ['GET', '/Users?count=abc', undefined, 'invalidValue'],
      ['POST', '/Groups', { displayName: 12 }, 'invalidValue'],
    ];
    for (const [method, url, body, scimType] of cases) {
      const res = await scim(method, url, body);
      expect(res.statusCode, `${method} ${url} ${JSON.stringify(body)}: ${res.body}`).toBe(400);
      expectScimError(res, 400, scimType || undefined);
    }
    const viewer = (await scim('POST', '/Groups', { displayName: uniq('Malformed') })).json().id;
    for (const body of [
      { Operations: [{ op: 'add', path: 'members', value: [{ value: 'abc' }] }] },
      { Operations: [{ op: 'add', path: 'members', value: [{ value: '999999999' }] }] },
      { Operations: [{ op: 'add', path: 'members', value: 'x' }] },
    ]) {
      const res = await scim('PATCH', `/Groups/${viewer}`, body);
      expect(res.statusCode, res.body).toBe(400);
      expectScimError(res, 400);
    }
    // An unknown id is a SCIM 404 whatever its shape.
    for (const url of [
      '/Users/abc',
      '/Users/0',
      '/Users/99999999',
      '/Groups/nope',
      `/Groups/${crypto.randomUUID()}`,
    ])
      expectScimError(await scim('GET', url), 404);
    expectScimError(await scim('GET', '/Nope'), 404);
  });

  it('only an API key with scope scim gets in: JWT 401, other keys 403, no credentials 401', async () => {
    const { owner } = await scimTenant();
    const jwt = await app.inject({ method: 'GET', url: '/scim/v2/Users', headers: bearer(owner.tokens) });
    expectScimError(jwt, 401);
    expectScimError(await app.inject({ method: 'GET', url: '/scim/v2/Users' }), 401);
    expectScimError(
      await app.inject({
        method: 'GET',
        url: '/scim/v2/Users',
        headers: { authorization: 'Bearer mc_sk_nope' },
      }),
      401,
    );
    const plain = await createKey(owner, { scopes: ['users:admin'] });
    expectScimError(await scimClient(plain)('GET', '/Users'), 403);
    const broad = await createKey(owner, { scopes: ['users.*', 'roles.assign', 'profile.read'] });
    expectScimError(await scimClient(broad)('GET', '/Users'), 403);
    expectScimError(await scimClient(broad)('POST', '/Users', { userName: 'x@example.test' }), 403);
    // A user-owned scim key acts with its owner's permissions: a plain member cannot mint one.
    const member = await newUser(app, owner.tenantId, { roles: ['member'] });
    const memberTokens = await login(app, owner.tenantId, member.email);
    const refused = await app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: bearer(memberTokens),
      payload: { name: 'scim', scopes: ['scim'] },
    });
    expect(refused.statusCode).toBe(403);
    // The owner's own user-owned scim key works.
    const mine = await createKey(owner, { scopes: ['scim'] });
    expect((await scimClient(mine)('GET', '/ServiceProviderConfig')).statusCode).toBe(200);
  });

  it('a key of tenant A never sees or touches tenant B (404)', async () => {
    const a = await scimTenant();
    const b = await scimTenant();
    const ua = await newUser(app, a.owner.tenantId);
    const roleA = (await a.scim('POST', '/Groups', { displayName: 'Isolated' })).json().id;
    const roleB = (await b.scim('POST', '/Groups', { displayName: 'Isolated' })).json().id;
    expect(roleB).not.toBe(roleA);
    expectScimError(await b.scim('PUT', `/Groups/${roleA}`, { displayName: 'Mine' }), 404);
    expectScimError(await b.scim('DELETE', `/Groups/${roleA}`), 404);
    expect((await b.owner.call('GET', `/api/v1/directory/groups/${roleA}`)).statusCode).toBe(404);
    expect(
      (await b.owner.call('PUT', `/api/v1/directory/groups/${roleA}/roles`, { role_ids: [] })).statusCode,
    ).toBe(404);
    expectScimError(await b.scim('GET', `/Users/${ua.id}`), 404);
    expectScimError(await b.scim('PUT', `/Users/${ua.id}`, { userName: ua.email }), 404);
    expectScimError(
      await b.scim('PATCH', `/Users/${ua.id}`, { Operations: [{ op: 'replace', value: { active: false } }] }),
      404,
    );
    expectScimError(await b.scim('DELETE', `/Users/${ua.id}`), 404);
    expectScimError(await b.scim('GET', `/Groups/${roleA}`), 404);
    expectScimError(
      await b.scim('PATCH', `/Groups/${roleA}`, {
        Operations: [{ op: 'add', path: 'members', value: [{ value: ua.id }] }],
      }),
      404,
    );
    const list = await b.scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${ua.email}"`)}`);
    expect(list.json().totalResults).toBe(0);
    // A's user as a member of B's group: not a user of B.
    expectScimError(
      await b.scim('PATCH', `/Groups/${roleB}`, {
        Operations: [{ op: 'add', path: 'members', value: [{ value: String(ua.id) }] }],
      }),
      400,
      'invalidValue',
    );
    // A's user is untouched.
    expect((await a.scim('GET', `/Users/${ua.id}`)).json().active).toBe(true);
  });

  it('a group push is all or nothing: a refused member undoes the additions of the same request', async () => {
    const { owner, scim } = await scimTenant();
    const group = (await scim('POST', '/Groups', { displayName: 'Atomic' })).json();
    await mapGroup(owner, group.id, ['viewer']);
    const ok = await newUser(app, owner.tenantId);
    const res = await scim('PATCH', `/Groups/${group.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: String(ok.id) }, { value: '999999999' }] }],
    });
    expectScimError(res, 400, 'invalidValue');
    expect(await rolesOf(owner, ok.id)).not.toContain('viewer');
    expect((await scim('GET', `/Groups/${group.id}`)).json().members).toEqual([]);
  });

  it('leaving a group that grants owner keeps the role a user also holds directly', async () => {
    const t = await tenantOwner(app);
    const ownerRole = await roleId(t.owner, 'owner');
    const key = await createKey(t.owner, { scopes: ['scim'], owner: 'tenant', role_id: ownerRole });
    const scim = scimClient(key);
    const group = (await scim('POST', '/Groups', { displayName: 'Owners' })).json();
    await mapGroup(t.owner, group.id, ['owner']);
    const added = await scim('PATCH', `/Groups/${group.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: String(t.owner.userId) }] }],
    });
    expect(added.statusCode, added.body).toBe(204);
    const left = await scim('PATCH', `/Groups/${group.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'remove', path: 'members' }],
    });
    expect(left.statusCode, left.body).toBe(204);
    expect(await rolesOf(t.owner, t.owner.userId)).toContain('owner');
  });

  it('a key that may assign but not read roles is refused a group replace before anything changes', async () => {
    const t = await tenantOwner(app);
    const code = uniq('pusher')
      .toLowerCase()
      .replace(/[^a-z0-9_]/g, '_');
    const made = await t.owner.call('POST', '/api/v1/roles', {
      code,
      name: code,
      permissions: ['users.read', 'users.write', 'roles.assign'],
    });
    expect(made.statusCode, made.body).toBe(201);
    const key = await createKey(t.owner, { scopes: ['scim'], owner: 'tenant', role_id: made.json().id });
    // A group the key may hand out (its permissions are within the key's).
    const tag = uniq('tag')
      .toLowerCase()
      .replace(/[^a-z0-9_]/g, '_');
    const group = await t.owner.call('POST', '/api/v1/roles', {
      code: tag,
      name: tag,
      permissions: ['users.read'],
    });
    expect(group.statusCode, group.body).toBe(201);
    const member = await newUser(app, t.owner.tenantId);
    const res = await scimClient(key)('PUT', `/Groups/${group.json().id}`, {
      schemas: [GROUP],
      displayName: tag,
      members: [{ value: String(member.id) }],
    });
    expectScimError(res, 403);
    expect(await rolesOf(t.owner, member.id)).not.toContain(tag);
  });

  it('paginates with startIndex and count (1-based)', async () => {
    const { scim } = await scimTenant();
    for (let i = 0; i < 5; i++) {
      const res = await scim('POST', '/Users', { schemas: [USER], userName: `${uniq('page')}@example.test` });
      expect(res.statusCode).toBe(201);
    }
    const all = (await scim('GET', '/Users')).json();
    expect(all.totalResults).toBe(6); // the owner and five
    expect(all.itemsPerPage).toBe(6);
    const ids = all.Resources.map((r: { id: string }) => r.id);
    const p1 = (await scim('GET', '/Users?startIndex=1&count=2')).json();
    expect(p1).toMatchObject({ totalResults: 6, itemsPerPage: 2, startIndex: 1 });
    expect(p1.Resources.map((r: { id: string }) => r.id)).toEqual(ids.slice(0, 2));
    const p3 = (await scim('GET', '/Users?startIndex=5&count=2')).json();
    expect(p3.Resources.map((r: { id: string }) => r.id)).toEqual(ids.slice(4, 6));
    const beyond = (await scim('GET', '/Users?startIndex=50&count=2')).json();
    expect(beyond).toMatchObject({ totalResults: 6, itemsPerPage: 0, startIndex: 50, Resources: [] });
    const zero = (await scim('GET', '/Users?startIndex=0&count=0')).json();
    expect(zero).toMatchObject({ totalResults: 6, itemsPerPage: 0, startIndex: 1 });
    for (const name of ['G1', 'G2', 'G3']) await scim('POST', '/Groups', { displayName: name });
    const groups = (await scim('GET', '/Groups?startIndex=2&count=2&excludedAttributes=members')).json();
    expect(groups).toMatchObject({ totalResults: 3, itemsPerPage: 2, startIndex: 2 });
    expect(groups.Resources.map((r: { displayName: string }) => r.displayName)).toEqual(['G2', 'G3']);
  });

  it('serves the discovery documents', async () => {
    const { scim } = await scimTenant();
    const spc = await scim('GET', '/ServiceProviderConfig');
    expect(spc.statusCode).toBe(200);
    expect(spc.json()).toMatchObject({
      patch: { supported: true },
      filter: { supported: true },
      bulk: { supported: false },
      authenticationSchemes: [{ type: 'oauthbearertoken' }],
    });
    const rt = (await scim('GET', '/ResourceTypes')).json();
    expect(rt.Resources.map((r: { id: string }) => r.id)).toEqual(['User', 'Group']);
    const schemas = (await scim('GET', '/Schemas')).json();
    expect(schemas.Resources.map((r: { id: string }) => r.id)).toEqual([USER, ENTERPRISE, GROUP]);
    expect((await scim('GET', `/Schemas/${USER}`)).statusCode).toBe(200);
  });
});

describe('issue 13 scim: externalId storage', () => {
  it('scim_external_ids is behind row-level security like every tenant table', async () => {
    const { scim } = await scimTenant();
    const res = await scim('POST', '/Users', {
      userName: `${uniq('rls')}@example.test`,
      externalId: uniq('ext'),
    });
    expect(res.statusCode).toBe(201);
    const count = (role: boolean) =>
      app.ctx.database.db.transaction(async (tx) => {
        if (role) await tx.execute(sql`select set_config('role', 'massacorp_app', true)`);
        return (await tx.execute<{ n: number }>(sql`select count(*)::int as n from scim_external_ids`))
          .rows[0]!.n;
      });
    expect(await count(true)).toBe(0);
    expect(await count(false)).toBeGreaterThan(0);
  });
});
