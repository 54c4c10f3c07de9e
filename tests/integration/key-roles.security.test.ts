/**
 * Issue 18, finding 2: a tenant-owned API key could carry any role, and SCIM acted with that role in full, so
 * whoever held `roles.assign` and `api_keys.write` minted an `owner` key and pushed themselves into `owner` (in the
 * platform tenant: an `admin` became platform operator). Now a key's role takes what assigning the role takes,
 * a SCIM group push never grants a role the key's role could not (403 `mutability`, nothing saved), and keys made
 * before the fix are reported by `massacorp keys audit` (its in-process half here, the CLI in cli.test.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditTenantKeyGrants } from '../../src/modules/api-keys/index.js';
import { createTestApp } from '../helpers/app.js';
import { newUser, uniq } from '../helpers/factories.js';
import { type Caller, platformOperator, roleId, tenantOwner, userWith } from '../helpers/rbac.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app?.close();
});

const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const PROVISIONER = [
  'api_keys.read',
  'api_keys.write',
  'users.read',
  'users.write',
  'roles.read',
  'roles.assign',
];

type Scim = (method: string, url: string, body?: unknown) => Promise<LightMyRequestResponse>;
function scimClient(rawKey: string): Scim {
  return (method, url, body) =>
    app.inject({
      method: method as never,
      url: `/scim/v2${url}`,
      headers: {
        authorization: `Bearer ${rawKey}`,
        ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}),
      },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
}

const code = (prefix: string) => uniq(prefix).replace(/[^a-z0-9_]/g, '_');

/** A custom role made by the owner with exactly these permissions; its id. */
async function customRole(owner: Caller, permissions: string[]): Promise<string> {
  const c = code('r');
  const res = await owner.call('POST', '/api/v1/roles', { code: c, name: c, permissions });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

/** A signed-in user holding exactly one custom role with these permissions. */
async function userWithPermissions(owner: Caller, permissions: string[]): Promise<Caller> {
  const role = await customRole(owner, permissions);
  const u = await userWith(app, owner.tenantId);
  const res = await owner.call('POST', `/api/v1/users/${u.userId}/roles`, { role_id: role });
  expect(res.statusCode, res.body).toBe(201);
  return u;
}

async function tenantKey(c: Caller, roleIdValue: string) {
  return c.call('POST', '/api/v1/api-keys', {
    name: uniq('scim'),
    owner: 'tenant',
    role_id: roleIdValue,
    scopes: ['scim'],
  });
}

async function keyCount(tenantId: number): Promise<number> {
  const r = await app.ctx.database.query<{ n: string }>(
    'select count(*)::text as n from api_keys where tenant_id = $1',
    [tenantId],
  );
  return Number(r[0]!.n);
}

async function refusals(tenantId: number, action: string): Promise<number> {
  const r = await app.ctx.database.query<{ n: string }>(
    `select count(*)::text as n from audit_log
      where tenant_id = $1 and event_type = 'access.change_refused' and resource_id = $2`,
    [tenantId, action],
  );
  return Number(r[0]!.n);
}

async function roleCodes(owner: Caller, userId: number): Promise<string[]> {
  const res = await owner.call('GET', `/api/v1/users/${userId}/roles`);
  expect(res.statusCode, res.body).toBe(200);
  return (res.json().roles as { code: string }[]).map((r) => r.code);
}

async function members(scim: Scim, group: string): Promise<string[]> {
  const res = await scim('GET', `/Groups/${group}`);
  expect(res.statusCode, res.body).toBe(200);
  return (res.json().members as { value: string }[]).map((m) => m.value).sort();
}

function expectMutability(res: LightMyRequestResponse) {
  expect(res.statusCode, res.body).toBe(403);
  expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
  expect(res.json()).toMatchObject({ status: '403', scimType: 'mutability' });
}

/** The two ways an IdP pushes a member into an existing group. */
function pushes(group: string, displayName: string, userId: number, current: number[]) {
  return [
    [
      'PATCH',
      `/Groups/${group}`,
      { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: String(userId) }] }] },
    ],
    [
      'PUT',
      `/Groups/${group}`,
      { schemas: [GROUP], displayName, members: [...current, userId].map((u) => ({ value: String(u) })) },
    ],
  ] as const;
}

/**
 * A directory group (API.md §20) pushed by `scim` with `members`, then mapped by `mapper` (a tenant admin who may
 * grant them) to `roleIds`: what an IdP's group becomes once the tenant admin maps it.
 */
async function mappedGroup(
  scim: Scim,
  mapper: { call: (m: string, u: string, b?: unknown) => Promise<LightMyRequestResponse> },
  roleIds: string[],
  memberIds: number[],
) {
  const displayName = uniq('group');
  const made = await scim('POST', '/Groups', {
    schemas: [GROUP],
    displayName,
    members: memberIds.map((u) => ({ value: String(u) })),
  });
  expect(made.statusCode, made.body).toBe(201);
  const id = made.json().id as string;
  const mapped = await mapper.call('PUT', `/api/v1/directory/groups/${id}/roles`, { role_ids: roleIds });
  expect(mapped.statusCode, mapped.body).toBe(200);
  return { id, displayName };
}

describe('finding 2: a key carries only a role its creator could grant', () => {
  it('finding 2 — a tenant key cannot carry a role its creator could not grant (owner role: 403 PERMISSION_DENIED, nothing written, refusal audited)', async () => {
    const { owner } = await tenantOwner(app);
    // The reproduction's creator: may create keys and assign roles, and may put `scim` on a key.
    const creator = await userWithPermissions(owner, PROVISIONER);
    const before = await keyCount(owner.tenantId);

    const res = await tenantKey(creator, await roleId(owner, 'owner'));
    expect(res.statusCode, res.body).toBe(403);
    expect(res.json().error).toBe('PERMISSION_DENIED');
    expect(res.json().details.permissions).toContain('*');
    // `admin` gives tenants.manage, sso.write, ... the creator lacks: refused as well.
    const admin = await tenantKey(creator, await roleId(owner, 'admin'));
    expect(admin.statusCode, admin.body).toBe(403);
    expect(admin.json().details.permissions).toEqual(expect.arrayContaining(['tenants.manage', 'sso.write']));

    expect(await keyCount(owner.tenantId)).toBe(before);
    expect(await refusals(owner.tenantId, 'api_key.create')).toBe(2);
    expect(await roleCodes(owner, creator.userId)).not.toContain('owner');

    // A role within the creator's permissions is still fine (and a key may mint what its creator could).
    const within = await tenantKey(creator, await customRole(owner, ['users.read', 'roles.assign']));
    expect(within.statusCode, within.body).toBe(201);
    expect(await keyCount(owner.tenantId)).toBe(before + 1);
  });

  it('finding 2 — in the platform tenant an admin cannot mint an owner key, so cannot become platform operator through SCIM', async () => {
    const operator = await platformOperator(app);
    const admin = await userWith(app, operator.tenantId, ['admin']);
    const before = await keyCount(operator.tenantId);

    const res = await tenantKey(admin, await roleId(operator, 'owner'));
    expect(res.statusCode, res.body).toBe(403);
    expect(res.json().error).toBe('PERMISSION_DENIED');
    expect(await keyCount(operator.tenantId)).toBe(before);
    expect(await refusals(operator.tenantId, 'api_key.create')).toBe(1);
    // Still no operator: the platform routes stay closed to the admin.
    expect((await admin.call('GET', '/api/v1/tenants')).statusCode).toBe(403);
    expect(await roleCodes(operator, admin.userId)).toEqual(['admin']);

    // The admin's own role is theirs to put on a key (everything it gives, the admin holds).
    const own = await tenantKey(admin, await roleId(operator, 'admin'));
    expect(own.statusCode, own.body).toBe(201);
  });
});

describe('finding 2: a SCIM group push grants only what the key could grant', () => {
  it('finding 2 — a key with the admin role pushing into a group mapped to owner in the platform tenant: 403 mutability (PATCH, PUT, DELETE), membership unchanged, audited', async () => {
    const operator = await platformOperator(app);
    const admin = await userWith(app, operator.tenantId, ['admin']);
    const created = await tenantKey(admin, await roleId(operator, 'admin'));
    expect(created.statusCode, created.body).toBe(201);
    const scim = scimClient(created.json().raw_key);
    const ownerRole = await roleId(operator, 'owner');
    // The operator maps an IdP group holding them to `owner`.
    const group = await mappedGroup(scim, operator, [ownerRole], [operator.userId]);
    const holders = await members(scim, group.id);
    expect(holders).toEqual([String(operator.userId)]);

    for (const [method, url, body] of pushes(group.id, group.displayName, admin.userId, [operator.userId]))
      expectMutability(await scim(method, url, body));
    // Deleting a group that grants owner is managing the role too.
    expectMutability(await scim('DELETE', `/Groups/${group.id}`));

    expect(await members(scim, group.id)).toEqual(holders);
    expect(await roleCodes(operator, admin.userId)).toEqual(['admin']);
    expect((await admin.call('GET', '/api/v1/tenants')).statusCode).toBe(403);
    expect(await refusals(operator.tenantId, 'scim.group_push')).toBe(3);
  });

  it('finding 2 — a key whose role lacks what a group gives cannot push it (403 mutability), and still pushes a group within its role', async () => {
    const { owner } = await tenantOwner(app);
    const keyRole = await customRole(owner, [
      'users.read',
      'users.write',
      'roles.read',
      'roles.assign',
      'directory.read',
      'directory.write',
    ]);
    const created = await tenantKey(owner, keyRole);
    expect(created.statusCode, created.body).toBe(201);
    const scim = scimClient(created.json().raw_key);
    const member = await newUser(app, owner.tenantId);

    for (const code of ['admin', 'owner']) {
      const group = await mappedGroup(scim, owner, [await roleId(owner, code)], []);
      for (const [method, url, body] of pushes(group.id, group.displayName, member.id, []))
        expectMutability(await scim(method, url, body));
      expect(await members(scim, group.id)).toEqual([]);
    }
    expect(await roleCodes(owner, member.id)).toEqual([]);
    expect(await refusals(owner.tenantId, 'scim.group_push')).toBe(4);

    // Within the key's role: pushed, and the mapped role granted.
    const readers = await customRole(owner, ['users.read']);
    const readersCode = (await owner.call('GET', `/api/v1/roles/${readers}`)).json().code;
    const group = await mappedGroup(scim, owner, [readers], []);
    const ok = await scim('PATCH', `/Groups/${group.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: String(member.id) }] }],
    });
    expect(ok.statusCode, ok.body).toBe(204);
    expect(await roleCodes(owner, member.id)).toEqual([readersCode]);
  });

  it('finding 2 — a SCIM user create or replace carrying groups or roles grants nothing', async () => {
    const { owner } = await tenantOwner(app);
    const created = await tenantKey(owner, await roleId(owner, 'admin'));
    const scim = scimClient(created.json().raw_key);
    const ownerRole = await roleId(owner, 'owner');
    const adminRole = await roleId(owner, 'admin');
    const claims = {
      groups: [
        { value: ownerRole, display: 'owner' },
        { value: adminRole, display: 'admin' },
      ],
      roles: [{ value: 'owner', primary: true }, { value: 'admin' }],
    };
    const email = `${uniq('scim')}@example.test`;
    const made = await scim('POST', '/Users', { schemas: [USER], userName: email, ...claims });
    expect(made.statusCode, made.body).toBe(201);
    const id = Number(made.json().id);
    expect(await roleCodes(owner, id)).toEqual([]);
    const replaced = await scim('PUT', `/Users/${id}`, { schemas: [USER], userName: email, ...claims });
    expect(replaced.statusCode, replaced.body).toBe(200);
    const patched = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', value: claims }],
    });
    expect(patched.statusCode).toBeLessThan(500);
    expect(await roleCodes(owner, id)).toEqual([]);
  });
});

describe('finding 2: keys made before the fix are reported (massacorp keys audit)', () => {
  /** Writes a tenant-owned key row directly, as a key minted before creation checked its role. */
  async function seedKey(tenantId: number, role: string, createdBy: number | null, name = uniq('legacy')) {
    const hash = createHash('sha256').update(randomBytes(32)).digest('hex');
    const rows = await app.ctx.database.withTenant(tenantId, (tx) =>
      tx.execute<{ id: number }>(sql`
        insert into api_keys (tenant_id, name, key_hash, key_prefix, scopes, owner, role_id, created_by_user_id)
        values (${tenantId}, ${name}, ${hash}, 'mc_sk_legacy', '{scim}', 'tenant', ${role}, ${createdBy})
        returning id`),
    );
    return Number(rows.rows[0]!.id);
  }

  it('finding 2 — keys audit lists over-powered tenant keys with the permissions in excess, creators gone or inactive too, and nothing else', async () => {
    const { owner } = await tenantOwner(app);
    const creator = await userWithPermissions(owner, PROVISIONER);
    const ownerRole = await roleId(owner, 'owner');
    const viewerRole = await roleId(owner, 'viewer');
    const within = await customRole(owner, ['users.read']);

    const overPowered = await seedKey(owner.tenantId, ownerRole, creator.userId, 'pre-fix owner key');
    const orphan = await seedKey(owner.tenantId, within, null, 'creator deleted');
    const leaver = await newUser(app, owner.tenantId, { roles: ['admin'] });
    const leaverKey = await seedKey(owner.tenantId, viewerRole, leaver.id, 'creator inactive');
    await app.ctx.database.withTenant(owner.tenantId, (tx) =>
      tx.execute(
        sql`update users set is_active = false where tenant_id = ${owner.tenantId} and id = ${leaver.id}`,
      ),
    );
    // Not reported: within the creator's grant, revoked, or user-owned.
    await seedKey(owner.tenantId, within, creator.userId, 'fine');
    const revoked = await seedKey(owner.tenantId, ownerRole, creator.userId, 'revoked');
    await app.ctx.database.withTenant(owner.tenantId, (tx) =>
      tx.execute(
        sql`update api_keys set revoked_at = now() where tenant_id = ${owner.tenantId} and id = ${revoked}`,
      ),
    );
    const before = await app.ctx.database.query<{ n: string }>(
      `select count(*)::text as n from audit_log where tenant_id = $1`,
      [owner.tenantId],
    );

    const findings = await auditTenantKeyGrants(app.ctx, { tenantId: owner.tenantId });
    expect(findings.map((f) => f.key_id).sort((a, b) => a - b)).toEqual(
      [overPowered, orphan, leaverKey].sort((a, b) => a - b),
    );
    const byId = new Map(findings.map((f) => [f.key_id, f]));
    expect(byId.get(overPowered)).toMatchObject({
      tenant_id: owner.tenantId,
      name: 'pre-fix owner key',
      role_code: 'owner',
      reason: 'exceeds_creator',
      created_by_user_id: creator.userId,
    });
    expect(byId.get(overPowered)!.excess).toEqual(expect.arrayContaining(['tenants.manage', 'users.delete']));
    expect(byId.get(overPowered)!.excess).not.toContain('users.write'); // the creator holds it
    expect(byId.get(overPowered)!.excess).not.toContain('platform.tenants'); // never effective in a tenant
    expect(byId.get(orphan)).toMatchObject({ reason: 'creator_gone', excess: ['users.read'] });
    expect(byId.get(leaverKey)).toMatchObject({ reason: 'creator_inactive', role_code: 'viewer' });

    // Read-only: nothing written.
    const after = await app.ctx.database.query<{ n: string }>(
      `select count(*)::text as n from audit_log where tenant_id = $1`,
      [owner.tenantId],
    );
    expect(after[0]!.n).toBe(before[0]!.n);
  });
});
