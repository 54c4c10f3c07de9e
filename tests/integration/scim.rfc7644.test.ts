/**
 * Issue 19, SCIM: directory groups of their own mapped to roles (API.md §20), and RFC 7643/7644 as a generic
 * client uses it: attributes/excludedAttributes, POST /.search, userName, stored attributes, passwords, ETags,
 * the filter grammar, sorting. Request shapes are the RFC's own, never tuned to MassaCorp.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { login, newUser, uniq } from '../helpers/factories.js';
import { type Caller, roleId, tenantOwner, userWith } from '../helpers/rbac.js';

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
const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

type Scim = (
  method: string,
  url: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<LightMyRequestResponse>;

/** A generic SCIM client: JSON bodies as application/scim+json, a bearer token, nothing else. */
function client(token: string): Scim {
  return (method, url, body, headers = {}) =>
    app.inject({
      method: method as never,
      url: `/scim/v2${url}`,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/scim+json',
        ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
}

/** A tenant with default settings and a tenant-owned scim key acting as `admin`. */
async function scimTenant() {
  const t = await tenantOwner(app);
  const res = await t.owner.call('POST', '/api/v1/api-keys', {
    name: uniq('scim'),
    scopes: ['scim'],
    owner: 'tenant',
    role_id: await roleId(t.owner, 'admin'),
  });
  expect(res.statusCode, res.body).toBe(201);
  return { owner: t.owner, scim: client(res.json().raw_key) };
}

function scimError(res: LightMyRequestResponse, status: number, scimType?: string) {
  expect(res.statusCode, res.body).toBe(status);
  const body = res.json();
  expect(body.schemas).toEqual([ERROR]);
  expect(body.status).toBe(String(status));
  if (scimType) expect(body.scimType).toBe(scimType);
  return body;
}

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
  return (res.json().roles as { code: string }[]).map((r) => r.code).sort();
}

const ids = (list: { Resources: { id: string }[] }) => list.Resources.map((r) => r.id);
const q = (filter: string) => `filter=${encodeURIComponent(filter)}`;

describe('issue 19 scim: a generic RFC 7643/7644 client, default tenant settings', () => {
  it('creates, reads, lists, filters, replaces, patches and deletes users and groups, with passwords', async () => {
    const { scim, owner } = await scimTenant();
    const domain = `${uniq('corp')}.example`;
    const password = 'Tr0ub4dor&3-horse-staple';

    // Create (RFC 7643 §8.2's full user shape, a userName that is not an address).
    const created = await scim('POST', '/Users', {
      schemas: [USER, ENTERPRISE],
      userName: 'bjensen',
      externalId: 'bjensen-ext',
      name: {
        formatted: 'Ms. Barbara J Jensen III',
        familyName: 'Jensen',
        givenName: 'Barbara',
        middleName: 'Jane',
        honorificPrefix: 'Ms.',
        honorificSuffix: 'III',
      },
      displayName: 'Babs Jensen',
      nickName: 'Babs',
      emails: [
        { value: `bjensen@${domain}`, type: 'work', primary: true },
        { value: `babs@home.${domain}`, type: 'home' },
      ],
      phoneNumbers: [{ value: '555-555-8377', type: 'work' }],
      userType: 'Employee',
      title: 'Tour Guide',
      preferredLanguage: 'en-US',
      locale: 'en-US',
      timezone: 'America/Los_Angeles',
      active: true,
      password,
      [ENTERPRISE]: {
        employeeNumber: '701984',
        costCenter: '4130',
        organization: 'Universal Studios',
        division: 'Theme Park',
        department: 'Tour Operations',
        manager: { value: '26118915-6090-4610-87e4-49d8ca9f808d' },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const user = created.json();
    expect(created.headers.location).toBe(user.meta.location);
    expect(created.headers.etag).toBe(user.meta.version);
    expect(user.meta.version).toMatch(/^W\/".+"$/);
    expect(user).toMatchObject({
      schemas: [USER, ENTERPRISE],
      userName: 'bjensen',
      externalId: 'bjensen-ext',
      name: {
        formatted: 'Ms. Barbara J Jensen III',
        givenName: 'Barbara',
        familyName: 'Jensen',
        middleName: 'Jane',
      },
      displayName: 'Babs Jensen',
      nickName: 'Babs',
      title: 'Tour Guide',
      userType: 'Employee',
      preferredLanguage: 'en-US',
      locale: 'en-US',
      timezone: 'America/Los_Angeles',
      phoneNumbers: [{ value: '555-555-8377', type: 'work' }],
      emails: [
        { value: `bjensen@${domain}`, type: 'work', primary: true },
        { value: `babs@home.${domain}`, type: 'home' },
      ],
      active: true,
      [ENTERPRISE]: {
        employeeNumber: '701984',
        department: 'Tour Operations',
        manager: { value: expect.any(String) },
      },
    });
    expect(user.password).toBeUndefined();
    // The password was set under the tenant's policy: the primary email signs in with it.
    await login(app, owner.tenantId, `bjensen@${domain}`, password);

    // Read: the same representation.
    const read = await scim('GET', `/Users/${user.id}`);
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual(user);
    expect(read.headers.etag).toBe(user.meta.version);

    // List and filter.
    const list = (await scim('GET', '/Users')).json();
    expect(list.schemas).toEqual([LIST]);
    expect(ids(list)).toContain(user.id);
    const byName = (await scim('GET', `/Users?${q('userName eq "BJENSEN"')}`)).json();
    expect(ids(byName)).toEqual([user.id]);
    const complex = (
      await scim(
        'GET',
        `/Users?${q(`(emails.value ew "@${domain}" or externalId eq "nobody") and not (active eq false) and name.givenName pr`)}`,
      )
    ).json();
    expect(ids(complex)).toEqual([user.id]);
    // Any stored address matches emails.value, not only the sign-in one.
    expect(ids((await scim('GET', `/Users?${q(`emails.value eq "babs@home.${domain}"`)}`)).json())).toEqual([
      user.id,
    ]);

    // Replace (PUT), with a new password; removed attributes are gone from the answer.
    const replaced = await scim('PUT', `/Users/${user.id}`, {
      schemas: [USER],
      userName: 'bjensen',
      name: { givenName: 'Barbara', familyName: 'Jensen-Smith' },
      emails: [{ value: `bjensen@${domain}`, type: 'work', primary: true }],
      active: true,
      password: 'An0ther-long-passphrase!',
    });
    expect(replaced.statusCode, replaced.body).toBe(200);
    const r = replaced.json();
    expect(r.name).toEqual({ givenName: 'Barbara', familyName: 'Jensen-Smith' });
    for (const gone of ['title', 'nickName', 'phoneNumbers', 'displayName', ENTERPRISE])
      expect(r[gone]).toBeUndefined();
    expect(r.schemas).toEqual([USER]);
    expect(r.externalId).toBe('bjensen-ext'); // PUT without externalId keeps it (it is the IdP's key)
    expect(r.meta.version).not.toBe(user.meta.version);
    await login(app, owner.tenantId, `bjensen@${domain}`, 'An0ther-long-passphrase!');

    // Patch (RFC 7644 §3.5.2 shapes): add, replace with a path, remove.
    const patched = await scim('PATCH', `/Users/${user.id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'add', path: 'title', value: 'Lead Guide' },
        { op: 'replace', path: 'name.familyName', value: 'Jensen' },
        { op: 'add', path: 'phoneNumbers', value: [{ value: '555-555-4444', type: 'mobile' }] },
        { op: 'remove', path: 'externalId' },
        { op: 'replace', path: 'password', value: 'Thrid-passphrase-99' },
      ],
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({
      title: 'Lead Guide',
      name: { familyName: 'Jensen' },
      phoneNumbers: [{ value: '555-555-4444', type: 'mobile' }],
    });
    expect(patched.json().externalId).toBeUndefined();
    await login(app, owner.tenantId, `bjensen@${domain}`, 'Thrid-passphrase-99');

    // Groups: create (with a member), read, list, filter, replace, patch, delete.
    const other = (
      await scim('POST', '/Users', {
        schemas: [USER],
        userName: `jsmith@${domain}`,
        name: { givenName: 'J' },
      })
    ).json();
    const g = await scim('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Tour Guides',
      externalId: 'grp-tour',
      members: [{ value: user.id, display: 'ignored' }],
    });
    expect(g.statusCode, g.body).toBe(201);
    const group = g.json();
    expect(group).toMatchObject({
      schemas: [GROUP],
      displayName: 'Tour Guides',
      externalId: 'grp-tour',
      members: [{ value: user.id, display: 'bjensen' }],
      meta: { resourceType: 'Group', version: expect.stringMatching(/^W\//) },
    });
    expect((await scim('GET', `/Groups/${group.id}`)).json()).toEqual(group);
    expect(ids((await scim('GET', '/Groups')).json())).toEqual([group.id]);
    expect(ids((await scim('GET', `/Groups?${q(`members.value eq "${user.id}"`)}`)).json())).toEqual([
      group.id,
    ]);
    expect(ids((await scim('GET', `/Groups?${q('displayName sw "tour"')}`)).json())).toEqual([group.id]);
    const put = await scim('PUT', `/Groups/${group.id}`, {
      schemas: [GROUP],
      displayName: 'Guides',
      externalId: 'grp-tour',
      members: [{ value: user.id }, { value: other.id }],
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(
      put
        .json()
        .members.map((m: { value: string }) => m.value)
        .sort(),
    ).toEqual([user.id, other.id].sort());
    const gp = await scim('PATCH', `/Groups/${group.id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'remove', path: `members[value eq "${other.id}"]` },
        { op: 'replace', path: 'displayName', value: 'Senior Guides' },
      ],
    });
    expect([200, 204]).toContain(gp.statusCode);
    const after = (await scim('GET', `/Groups/${group.id}`)).json();
    expect(after).toMatchObject({ displayName: 'Senior Guides', members: [{ value: user.id }] });
    expect((await scim('DELETE', `/Groups/${group.id}`)).statusCode).toBe(204);
    scimError(await scim('GET', `/Groups/${group.id}`), 404);

    // Delete the users: 204, then 404.
    expect((await scim('DELETE', `/Users/${user.id}`)).statusCode).toBe(204);
    scimError(await scim('GET', `/Users/${user.id}`), 404);
    expect((await scim('DELETE', `/Users/${other.id}`)).statusCode).toBe(204);
  });
});

describe('issue 19 scim: RFC 7644 features', () => {
  it('attributes and excludedAttributes on reads, lists, searches and writes, with sub-attributes', async () => {
    const { scim } = await scimTenant();
    const u = (
      await scim('POST', '/Users', {
        schemas: [USER],
        userName: `${uniq('attr')}@example.test`,
        name: { givenName: 'Ada', familyName: 'Lovelace' },
        title: 'Countess',
        [ENTERPRISE]: { department: 'Maths' },
      })
    ).json();
    const only = (await scim('GET', `/Users/${u.id}?attributes=name.givenName,emails.value`)).json();
    expect(only).toEqual({
      schemas: u.schemas,
      id: u.id,
      name: { givenName: 'Ada' },
      emails: [{ value: u.userName }],
    });
    const ext = (await scim('GET', `/Users/${u.id}?attributes=${ENTERPRISE}:department,userName`)).json();
    expect(ext).toEqual({
      schemas: u.schemas,
      id: u.id,
      userName: u.userName,
      [ENTERPRISE]: { department: 'Maths' },
    });
    const without = (
      await scim('GET', `/Users/${u.id}?excludedAttributes=name.familyName,title,meta`)
    ).json();
    expect(without.name).toEqual({ givenName: 'Ada' });
    expect(without.title).toBeUndefined();
    expect(without.meta).toBeUndefined();
    expect(without.id).toBe(u.id);
    // id and schemas are always returned.
    const always = (await scim('GET', `/Users/${u.id}?excludedAttributes=id,schemas,userName`)).json();
    expect(always.id).toBe(u.id);
    expect(always.schemas).toEqual(u.schemas);
    expect(always.userName).toBeUndefined();
    const listed = (await scim('GET', `/Users?attributes=userName&${q(`id eq "${u.id}"`)}`)).json();
    expect(listed.Resources).toEqual([{ schemas: u.schemas, id: u.id, userName: u.userName }]);
    const created = await scim('POST', '/Users?attributes=userName', {
      schemas: [USER],
      userName: `${uniq('a2')}@example.test`,
    });
    expect(Object.keys(created.json()).sort()).toEqual(['id', 'schemas', 'userName']);
    const g = (await scim('POST', '/Groups', { displayName: 'Attr', members: [{ value: u.id }] })).json();
    expect((await scim('GET', `/Groups/${g.id}?excludedAttributes=members`)).json().members).toBeUndefined();
    expect((await scim('GET', `/Groups/${g.id}?attributes=members.value`)).json()).toEqual({
      schemas: [GROUP],
      id: g.id,
      members: [{ value: u.id }],
    });
  });

  it('POST /.search at the root, under /Users and under /Groups', async () => {
    const { scim } = await scimTenant();
    const name = `${uniq('search')}@example.test`;
    const u = (await scim('POST', '/Users', { schemas: [USER], userName: name })).json();
    const g = (await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Searchers' })).json();
    const users = await scim('POST', '/Users/.search', {
      schemas: [SEARCH],
      attributes: ['userName'],
      filter: `userName eq "${name}"`,
      startIndex: 1,
      count: 10,
    });
    expect(users.statusCode, users.body).toBe(200);
    expect(users.json()).toMatchObject({
      schemas: [LIST],
      totalResults: 1,
      Resources: [{ id: u.id, userName: name }],
    });
    expect(users.json().Resources[0].name).toBeUndefined();
    const groups = await scim('POST', '/Groups/.search', {
      schemas: [SEARCH],
      filter: 'displayName eq "searchers"',
      excludedAttributes: ['members'],
    });
    expect(ids(groups.json())).toEqual([g.id]);
    const root = await scim('POST', '/.search', {
      schemas: [SEARCH],
      filter: 'meta.created ge "2000-01-01T00:00:00Z"',
    });
    expect(root.statusCode, root.body).toBe(200);
    expect(ids(root.json())).toEqual(expect.arrayContaining([u.id, g.id]));
    const rootUsers = await scim('POST', '/.search', { schemas: [SEARCH], filter: `userName eq "${name}"` });
    expect(ids(rootUsers.json())).toEqual([u.id]);
    scimError(
      await scim('POST', '/.search', { schemas: [SEARCH], filter: 'nope eq "x"' }),
      400,
      'invalidFilter',
    );
  });

  it('userName is any unique string (case-insensitive); the sign-in email follows the issue rule', async () => {
    const { scim, owner } = await scimTenant();
    const tag = uniq('un');
    const a = await scim('POST', '/Users', {
      schemas: [USER],
      userName: `${tag} Jane`,
      emails: [
        { value: `home-${tag}@example.test`, type: 'home' },
        { value: `work-${tag}@example.test`, type: 'work' },
      ],
    });
    expect(a.statusCode, a.body).toBe(201);
    expect(a.json().userName).toBe(`${tag} Jane`);
    // No primary: the first work address is the sign-in email.
    const me = await owner.call('GET', `/api/v1/users/${a.json().id}`);
    expect(me.json().email).toBe(`work-${tag}@example.test`);
    scimError(
      await scim('POST', '/Users', {
        schemas: [USER],
        userName: `${tag} JANE`,
        emails: [{ value: `x-${tag}@example.test`, primary: true }],
      }),
      409,
      'uniqueness',
    );
    // Neither an address as userName nor a primary/work email: 400 invalidValue.
    scimError(
      await scim('POST', '/Users', { schemas: [USER], userName: `${tag}-nomail` }),
      400,
      'invalidValue',
    );
    scimError(
      await scim('POST', '/Users', {
        schemas: [USER],
        userName: `${tag}-home`,
        emails: [{ value: `h-${tag}@example.test`, type: 'home' }],
      }),
      400,
      'invalidValue',
    );
    // An address as userName is the email.
    const b = await scim('POST', '/Users', { schemas: [USER], userName: `Mixed.${tag}@Example.TEST` });
    expect(b.statusCode, b.body).toBe(201);
    expect((await owner.call('GET', `/api/v1/users/${b.json().id}`)).json().email).toBe(
      `mixed.${tag}@example.test`,
    );
    expect(b.json().userName).toBe(`Mixed.${tag}@Example.TEST`);
  });

  it('PATCH remove active is 400 mutability; removed attributes are absent, never {}', async () => {
    const { scim } = await scimTenant();
    const u = (
      await scim('POST', '/Users', {
        schemas: [USER],
        userName: `${uniq('rm')}@example.test`,
        name: { givenName: 'Rem', formatted: 'Rem Ove' },
        title: 'T',
        [ENTERPRISE]: { department: 'D' },
      })
    ).json();
    const res = await scim('PATCH', `/Users/${u.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'remove', path: 'active' }],
    });
    scimError(res, 400, 'mutability');
    expect((await scim('GET', `/Users/${u.id}`)).json().active).toBe(true);
    const removed = await scim('PATCH', `/Users/${u.id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'remove', path: 'name' },
        { op: 'remove', path: 'title' },
        { op: 'remove', path: `${ENTERPRISE}:department` },
      ],
    });
    expect(removed.statusCode, removed.body).toBe(200);
    const body = removed.json();
    expect(body.name).toBeUndefined();
    expect(body.title).toBeUndefined();
    expect(body[ENTERPRISE]).toBeUndefined();
    expect(body.schemas).toEqual([USER]);
  });

  it('passwords follow the tenant policy (400 invalidValue naming the rules); changePassword is supported', async () => {
    const { scim } = await scimTenant();
    const weak = scimError(
      await scim('POST', '/Users', {
        schemas: [USER],
        userName: `${uniq('pw')}@example.test`,
        password: 'short',
      }),
      400,
      'invalidValue',
    );
    expect(weak.detail).toMatch(/too_short/);
    const u = (
      await scim('POST', '/Users', { schemas: [USER], userName: `${uniq('pw')}@example.test` })
    ).json();
    scimError(
      await scim('PATCH', `/Users/${u.id}`, {
        schemas: [PATCH],
        Operations: [{ op: 'replace', path: 'password', value: 'alllowercaseletters' }],
      }),
      400,
      'invalidValue',
    );
    scimError(
      await scim('PUT', `/Users/${u.id}`, { schemas: [USER], userName: u.userName, password: 'x' }),
      400,
      'invalidValue',
    );
    const spc = (await scim('GET', '/ServiceProviderConfig')).json();
    expect(spc).toMatchObject({
      changePassword: { supported: true },
      etag: { supported: true },
      sort: { supported: true },
      filter: { supported: true },
    });
  });

  it('meta.version is a weak ETag; If-Match is honoured (412 on a stale version)', async () => {
    const { scim } = await scimTenant();
    const u = (
      await scim('POST', '/Users', { schemas: [USER], userName: `${uniq('etag')}@example.test` })
    ).json();
    const v1 = u.meta.version as string;
    const ok = await scim(
      'PATCH',
      `/Users/${u.id}`,
      { schemas: [PATCH], Operations: [{ op: 'add', path: 'title', value: 'one' }] },
      { 'if-match': v1 },
    );
    expect(ok.statusCode, ok.body).toBe(200);
    const v2 = ok.json().meta.version as string;
    expect(v2).not.toBe(v1);
    scimError(
      await scim('PUT', `/Users/${u.id}`, { schemas: [USER], userName: u.userName }, { 'if-match': v1 }),
      412,
    );
    scimError(await scim('DELETE', `/Users/${u.id}`, undefined, { 'if-match': v1 }), 412);
    expect((await scim('GET', `/Users/${u.id}`)).json().title).toBe('one');
    const g = (await scim('POST', '/Groups', { displayName: 'Etag' })).json();
    scimError(await scim('PUT', `/Groups/${g.id}`, { displayName: 'Etag2' }, { 'if-match': 'W/"999"' }), 412);
    const star = await scim('PUT', `/Groups/${g.id}`, { displayName: 'Etag2' }, { 'if-match': '*' });
    expect(star.statusCode, star.body).toBe(200);
    expect(star.headers.etag).toBe(star.json().meta.version);
    expect(star.json().meta.version).not.toBe(g.meta.version);
  });

  it('filters: and/or/not, grouping and every operator, parameterised; sortBy/sortOrder', async () => {
    const { scim } = await scimTenant();
    const tag = uniq('f').replace('-', '');
    const mk = async (given: string, family: string, active: boolean) =>
      (
        await scim('POST', '/Users', {
          schemas: [USER],
          userName: `${given.slice(0, 3).toLowerCase()}.${tag}@example.test`,
          name: { givenName: given, familyName: family },
          externalId: `${tag}-${given}`,
          active,
        })
      ).json();
    const ann = await mk('Ann', 'Zeta', true);
    const bob = await mk('Bob', 'Young', false);
    const cat = await mk("Cat'); drop table users; --", 'Xu', true);
    const find = async (f: string) => {
      const res = await scim('GET', `/Users?${q(f)}&sortBy=name.givenName`);
      expect(res.statusCode, `${f}: ${res.body}`).toBe(200);
      return ids(res.json());
    };
    const scoped = `userName ew ".${tag}@example.test"`;
    expect(await find(`${scoped} and name.givenName eq "ann"`)).toEqual([ann.id]);
    expect(await find(`${scoped} and name.givenName ne "Ann"`)).toEqual([bob.id, cat.id]);
    expect(await find(`${scoped} and name.familyName co "OUN"`)).toEqual([bob.id]);
    expect(await find(`${scoped} and userName sw "b"`)).toEqual([bob.id]);
    expect(await find(`${scoped} and externalId pr`)).toEqual([ann.id, bob.id, cat.id]);
    expect(await find(`${scoped} and name.familyName gt "Y"`)).toEqual([ann.id, bob.id]);
    expect(await find(`${scoped} and name.familyName ge "Young"`)).toEqual([ann.id, bob.id]);
    expect(await find(`${scoped} and name.familyName lt "Y"`)).toEqual([cat.id]);
    expect(await find(`${scoped} and name.familyName le "Xu"`)).toEqual([cat.id]);
    expect(await find(`${scoped} and (active eq false or name.givenName sw "Cat")`)).toEqual([
      bob.id,
      cat.id,
    ]);
    expect(await find(`${scoped} and not (active eq true)`)).toEqual([bob.id]);
    expect(await find(`${scoped} and emails[value sw "ann."]`)).toEqual([ann.id]);
    expect(await find(`${scoped} and name.givenName eq "Cat'); drop table users; --"`)).toEqual([cat.id]);
    expect(
      await find(
        `${scoped} and meta.created gt "2000-01-01T00:00:00Z" and meta.lastModified le "2999-01-01T00:00:00Z"`,
      ),
    ).toHaveLength(3);
    expect(await find(`${scoped} and id eq "${bob.id}"`)).toEqual([bob.id]);
    expect(
      await find(`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "ann.${tag}@example.test"`),
    ).toEqual([ann.id]);
    const desc = await scim('GET', `/Users?${q(scoped)}&sortBy=name.familyName&sortOrder=descending`);
    expect(ids(desc.json())).toEqual([ann.id, bob.id, cat.id]);
    const asc = await scim('GET', `/Users?${q(scoped)}&sortBy=name.familyName&sortOrder=ascending`);
    expect(ids(asc.json())).toEqual([cat.id, bob.id, ann.id]);
    scimError(await scim('GET', `/Users?sortBy=password`), 400, 'invalidFilter');
    // Groups: displayName, externalId, members.value, with not/or.
    const g1 = (
      await scim('POST', '/Groups', {
        displayName: `${tag} One`,
        externalId: 'e1',
        members: [{ value: ann.id }],
      })
    ).json();
    const g2 = (
      await scim('POST', '/Groups', { displayName: `${tag} Two`, members: [{ value: bob.id }] })
    ).json();
    const gfind = async (f: string) => ids((await scim('GET', `/Groups?${q(f)}&sortBy=displayName`)).json());
    expect(await gfind(`members.value eq "${ann.id}" or externalId eq "nope"`)).toEqual([g1.id]);
    expect(await gfind(`not (members.value eq "${ann.id}")`)).toEqual([g2.id]);
    expect(await gfind(`displayName ew "two"`)).toEqual([g2.id]);
    expect(await gfind('externalId pr')).toEqual([g1.id]);
  });
});

describe('issue 19 directory groups: mapping to roles, sources of assignments', () => {
  it('membership grants the mapped roles; leaving or deleting takes them unless held another way', async () => {
    const { scim, owner } = await scimTenant();
    const u = (
      await scim('POST', '/Users', { schemas: [USER], userName: `${uniq('src')}@example.test` })
    ).json();
    const eng = (
      await scim('POST', '/Groups', { displayName: 'Engineering', members: [{ value: u.id }] })
    ).json();
    const ops = (await scim('POST', '/Groups', { displayName: 'Ops', members: [{ value: u.id }] })).json();
    expect(await rolesOf(owner, u.id)).toEqual([]);
    // Mapping grants at once to the members (audited with source directory_group).
    const mapped = await mapGroup(owner, eng.id, ['manager', 'viewer']);
    expect(mapped.roles.map((r: { code: string }) => r.code).sort()).toEqual(['manager', 'viewer']);
    expect(mapped.members).toEqual([{ user_id: Number(u.id), user_name: u.userName }]);
    expect(await rolesOf(owner, u.id)).toEqual(['manager', 'viewer']);
    await mapGroup(owner, ops.id, ['viewer']);
    const audit = await owner.call(
      'GET',
      `/api/v1/audit/logs?resource_type=user&resource_id=${u.id}&event_type=role.assigned`,
    );
    expect(audit.json().items[0].metadata).toMatchObject({ source: 'directory_group' });
    // viewer is also held directly.
    const direct = await owner.call('POST', `/api/v1/users/${u.id}/roles`, {
      role_id: await roleId(owner, 'viewer'),
    });
    expect(direct.statusCode, direct.body).toBe(201);
    // Leaving Engineering: manager goes; viewer stays (Ops and the direct assignment).
    await scim('PATCH', `/Groups/${eng.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'remove', path: `members[value eq "${u.id}"]` }],
    });
    expect(await rolesOf(owner, u.id)).toEqual(['viewer']);
    // Deleting Ops: viewer stays (direct).
    expect((await scim('DELETE', `/Groups/${ops.id}`)).statusCode).toBe(204);
    expect(await rolesOf(owner, u.id)).toEqual(['viewer']);
    // Back in Engineering, then the direct viewer assignment is removed: viewer stays through the group.
    await scim('PATCH', `/Groups/${eng.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: u.id }] }],
    });
    const removed = await owner.call(
      'DELETE',
      `/api/v1/users/${u.id}/roles/${await roleId(owner, 'viewer')}`,
    );
    expect(removed.statusCode, removed.body).toBe(204);
    expect(await rolesOf(owner, u.id)).toEqual(['manager', 'viewer']);
    // Unmapping takes them away; deleting the group after that changes nothing more.
    await mapGroup(owner, eng.id, []);
    expect(await rolesOf(owner, u.id)).toEqual([]);
    await mapGroup(owner, eng.id, ['viewer']);
    expect(await rolesOf(owner, u.id)).toEqual(['viewer']);
    expect((await scim('DELETE', `/Groups/${eng.id}`)).statusCode).toBe(204);
    expect(await rolesOf(owner, u.id)).toEqual([]);
  });

  it('/api/v1/directory/groups: directory.read lists and searches, directory.write maps within what one may grant', async () => {
    const { scim, owner } = await scimTenant();
    for (const n of ['Alpha team', 'Beta team', 'Gamma']) await scim('POST', '/Groups', { displayName: n });
    const all = await owner.call('GET', '/api/v1/directory/groups?limit=2');
    expect(all.statusCode, all.body).toBe(200);
    expect(all.json().groups).toHaveLength(2);
    const next = await owner.call('GET', `/api/v1/directory/groups?limit=2&cursor=${all.json().next_cursor}`);
    expect(next.json().groups).toHaveLength(1);
    expect(next.json().next_cursor).toBeNull();
    const team = await owner.call('GET', '/api/v1/directory/groups?search=TEAM');
    expect(
      team
        .json()
        .groups.map((g: { display_name: string }) => g.display_name)
        .sort(),
    ).toEqual(['Alpha team', 'Beta team']);
    const gid = team.json().groups[0].id as string;
    // A viewer reads (directory.read) but cannot map (directory.write): 403.
    const viewer = await userWith(app, owner.tenantId, ['viewer']);
    expect((await viewer.call('GET', `/api/v1/directory/groups/${gid}`)).statusCode).toBe(200);
    const refused = await viewer.call('PUT', `/api/v1/directory/groups/${gid}/roles`, { role_ids: [] });
    expect(refused.statusCode).toBe(403);
    // A manager-like role with directory.write cannot map a group to owner (cannot grant `*`).
    const code = `dw_${uniq('r').replace(/[^a-z0-9]/g, '')}`;
    const made = await owner.call('POST', '/api/v1/roles', {
      code,
      name: code,
      permissions: ['directory.read', 'directory.write', 'roles.read', 'users.read'],
    });
    expect(made.statusCode, made.body).toBe(201);
    const mapper = await userWith(app, owner.tenantId, []);
    await owner.call('POST', `/api/v1/users/${mapper.userId}/roles`, { role_id: made.json().id });
    const mapperTokens = await login(app, owner.tenantId, mapper.email);
    const put = await app.inject({
      method: 'PUT',
      url: `/api/v1/directory/groups/${gid}/roles`,
      headers: { authorization: `Bearer ${mapperTokens.access_token}` },
      payload: { role_ids: [await roleId(owner, 'owner')] },
    });
    expect(put.statusCode, put.body).toBe(403);
    expect(put.json().error).toBe('PERMISSION_DENIED');
    expect((await owner.call('GET', `/api/v1/directory/groups/${gid}`)).json().roles).toEqual([]);
    // Unknown role: 422; unknown group: 404; malformed id: 422.
    expect(
      (await owner.call('PUT', `/api/v1/directory/groups/${gid}/roles`, { role_ids: [crypto.randomUUID()] }))
        .statusCode,
    ).toBe(422);
    expect((await owner.call('GET', `/api/v1/directory/groups/${crypto.randomUUID()}`)).statusCode).toBe(404);
    expect((await owner.call('GET', '/api/v1/directory/groups/nope')).statusCode).toBe(422);
  });

  it('a SCIM key whose role cannot grant a mapped role cannot push members into that group (403 mutability)', async () => {
    const { owner, scim: adminScim } = await scimTenant();
    const code = `push_${uniq('r').replace(/[^a-z0-9]/g, '')}`;
    const made = await owner.call('POST', '/api/v1/roles', {
      code,
      name: code,
      permissions: ['users.read', 'users.write', 'directory.read', 'directory.write', 'roles.assign'],
    });
    const key = await owner.call('POST', '/api/v1/api-keys', {
      name: uniq('k'),
      scopes: ['scim'],
      owner: 'tenant',
      role_id: made.json().id,
    });
    const scim = client(key.json().raw_key);
    const g = (await adminScim('POST', '/Groups', { displayName: 'Admins' })).json();
    await mapGroup(owner, g.id, ['admin']);
    const u = await newUser(app, owner.tenantId);
    const res = await scim('PATCH', `/Groups/${g.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: String(u.id) }] }],
    });
    scimError(res, 403, 'mutability');
    expect(await rolesOf(owner, u.id)).toEqual([]);
    // An unmapped group is the key's to fill.
    const free = (
      await scim('POST', '/Groups', { displayName: 'Free', members: [{ value: String(u.id) }] })
    ).json();
    expect(free.members).toHaveLength(1);
  });
});
