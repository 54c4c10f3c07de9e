/**
 * Every repository function, run "on another network" (Kratos' persister contract): tenant A holds a row in
 * every tenant table; each read and write of every repository is then called from tenant B.
 *
 * For each function, in CONTRACT below:
 * - control: the call in A's transaction, with A's tenant id and ids, finds A's data (a read) or changes A's rows
 *   (a write, rolled back). Without it a "nothing found" below would prove nothing (wrong ids, empty fixture).
 * - scope: withTenant(B) and tenantId B, with A's ids → a read finds nothing of A; a write changes none of A's
 *   rows (its transaction's view of A compared with the baseline) or is refused by the database.
 * - backstop: withTenant(B) but tenantId A (a forgotten or wrong `where tenant_id`) → the same, through RLS alone.
 * Functions without a tenant argument (cross-tenant by nature, e.g. lookups by key hash) run in a system
 * transaction for the control and in B's transaction for the backstop. Functions on global tables must be
 * refused in a tenant transaction, or only read global rows.
 *
 * The contract is complete by construction: a repository file, or an exported function, with no entry here
 * fails the first test. The last tests take the tenant tables from the catalogue (tests/helpers/rls-catalogue.ts),
 * so a table added by any migration is covered: A must have a row in it (the fixture), and B's transactions
 * neither see nor change it with raw SQL.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as apiKeys from '../../src/modules/api-keys/repository.js';
import * as audit from '../../src/modules/audit/repository.js';
import * as features from '../../src/modules/features/repository.js';
import * as invitations from '../../src/modules/invitations/repository.js';
import * as mfa from '../../src/modules/mfa/repository.js';
import * as oidcClients from '../../src/modules/oidc-clients/repository.js';
import * as oidcProvider from '../../src/modules/oidc-provider/repository.js';
import * as passwordReset from '../../src/modules/password-reset/repository.js';
import * as rbac from '../../src/modules/rbac/repository.js';
import * as scim from '../../src/modules/scim/repository.js';
import * as sessions from '../../src/modules/sessions/repository.js';
import * as sso from '../../src/modules/sso/repository.js';
import * as social from '../../src/modules/sso/social/repository.js';
import * as tenants from '../../src/modules/tenants/repository.js';
import * as users from '../../src/modules/users/repository.js';
import * as webhooks from '../../src/modules/webhooks/repository.js';
import { parsePool } from '../../src/modules/wireguard/pool.js';
import * as wireguard from '../../src/modules/wireguard/repository.js';
import * as pii from '../../src/platform/audit/pii.js';
import * as auditWriter from '../../src/platform/audit/writer.js';
import { SYSTEM_AUDIT_CONTEXT } from '../../src/platform/audit/writer.js';
import type { Tx } from '../../src/platform/db/client.js';
import { createTestApp } from '../helpers/app.js';
import { newTenant, newUser, uniq } from '../helpers/factories.js';
import { tenantTables } from '../helpers/rls-catalogue.js';

let app: FastifyInstance;

/** Tenant A's data: the ids every case aims at. */
interface Fx {
  a: number;
  b: number;
  slugA: string;
  adminId: number;
  memberId: number;
  memberEmail: string;
  sessionId: string;
  session: { deviceType: string; browser: string; os: string };
  refreshId: string;
  refreshHash: string;
  parentRoleId: string;
  childRoleId: string;
  childCode: string;
  recoveryId: string;
  credentialRowId: string;
  credentialId: string;
  apiKeyId: number;
  apiKeyHash: string;
  flagKey: string;
  peerId: string;
  peerName: string;
  peerPublicKey: string;
  resetHash: string;
  connectionId: string;
  connectionName: string;
  domain: string;
  domainId: string;
  ssoIdentityId: string;
  issuer: string;
  ssoSubject: string;
  externalId: string;
  scimUserName: string;
  directoryGroupId: string;
  directoryGroupName: string;
  piiRef: string;
  webhookEndpointId: string;
  webhookDeliveryId: string;
  webhookEventId: string;
  auditHeadA: number;
  invitationId: string;
  invitationHash: string;
  invitationEmail: string;
  oidcClientRowId: string;
  oidcClientId: string;
  oidcSecretHash: string;
  artefactId: string;
  artefactGrantId: string;
  artefactUid: string;
  /** Strings found only in A's data (uuids, hashes, unique names): seeing one from B is a leak. */
  markers: string[];
}
let fx: Fx;

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

async function seed(): Promise<Fx> {
  const A = await newTenant(app);
  const B = await newTenant(app);
  const a = A.tenant.id;
  const member = await newUser(app, a);
  const db = app.ctx.database;
  const flagKey = `contract.${hex(4)}`;
  await db.withSystem((tx) =>
    features.insertFlag(tx, {
      key: flagKey,
      description: 'contract',
      defaultEnabled: false,
      rolloutPercent: null,
    }),
  );
  // Retention leaves an anchor (audit_anchors is written only by audit_prune, as the owner).
  await db.withSystem((tx) => tx.execute(sql`select audit_prune(${a}, 1, 'contract')`));
  const childCode = `contract_${hex(4)}`;
  const connectionName = `conn-${hex(4)}`;
  const domain = `${hex(5)}.contract.test`;
  const issuer = `https://idp-${hex(4)}.example.test`;
  const ssoSubject = `sub-${hex(6)}`;
  const externalId = `ext-${hex(6)}`;
  const scimUserName = `scim-user-${hex(6)}`;
  const webhookEventId = `evt_contract_${hex(6)}`;
  const directoryGroupName = `Directory ${hex(6)}`;
  const refreshHash = hex(32);
  const apiKeyHash = hex(32);
  const resetHash = hex(32);
  const piiRef = `pii:${hex(12)}`;
  const invitationHash = hex(32);
  const invitationEmail = `${uniq('invited')}@contract.test`;
  const oidcClientId = `mc_contract_${hex(8)}`;
  const oidcSecretHash = hex(32);
  const artefactId = `op_contract_${hex(8)}`;
  const artefactGrantId = `grant_contract_${hex(8)}`;
  const artefactUid = `uid_contract_${hex(8)}`;
  const peerPublicKey = randomBytes(32).toString('base64');
  const peerName = `peer-${hex(4)}`;
  const credentialId = `cred-${hex(8)}`;
  const session = { deviceType: 'desktop', browser: `Browser ${hex(3)}`, os: 'Linux' };
  const rest = await db.withTenant(a, async (tx) => {
    const parent = await rbac.insertRole(tx, a, {
      code: `parent_${hex(4)}`,
      name: 'Contract parent',
      description: null,
      permissions: ['users.read'],
      parentRoleId: null,
      mfaRequired: false,
    });
    const child = await rbac.insertRole(tx, a, {
      code: childCode,
      name: 'Contract child',
      description: null,
      permissions: [],
      parentRoleId: parent.id,
      mfaRequired: false,
    });
    await rbac.upsertAssignment(tx, a, {
      userId: member.id,
      roleId: child.id,
      expiresAt: null,
      grantedBy: null,
    });
    const s = await sessions.insertSession(tx, a, {
      userId: member.id,
      expiresAt: new Date(Date.now() + 3600_000),
      lastSeenAt: new Date(),
      ipAddress: '192.0.2.1',
      userAgent: 'contract',
      signInMethod: 'password',
      ssoConnectionId: null,
      ...session,
    });
    const refreshId = randomUUID();
    await sessions.insertRefreshToken(tx, a, {
      id: refreshId,
      sessionId: s.id,
      tokenHash: refreshHash,
      expiresAt: new Date(Date.now() + 3600_000),
    });
    await mfa.insertPendingTotp(tx, a, member.id, `enc:v1:contract:${hex(8)}`);
    await mfa.replaceRecoveryCodes(tx, a, member.id, [hex(32), hex(32)]);
    const [recovery] = await mfa.listRecoveryCodes(tx, a, member.id);
    const cred = await mfa.insertCredential(tx, a, {
      userId: member.id,
      credentialId,
      publicKey: `pk-${hex(8)}`,
      counter: 1,
      transports: [],
      deviceType: 'singleDevice',
      backedUp: false,
      name: 'Contract key',
    });
    const key = await apiKeys.insertApiKey(tx, a, {
      name: 'contract',
      keyHash: apiKeyHash,
      keyPrefix: 'mc_sk_contract',
      scopes: ['users.read'],
      owner: 'user',
      userId: member.id,
      roleId: null,
      createdByUserId: A.admin.id,
      expiresAt: null,
    });
    await apiKeys.insertApiKey(tx, a, {
      name: 'contract tenant key',
      keyHash: hex(32),
      keyPrefix: 'mc_sk_contract2',
      scopes: ['users.read'],
      owner: 'tenant',
      userId: null,
      roleId: child.id,
      createdByUserId: A.admin.id,
      expiresAt: null,
    });
    await features.upsertOverride(tx, a, { flagKey, scope: 'tenant', targetId: '' }, true);
    await features.upsertOverride(tx, a, { flagKey, scope: 'role', targetId: child.id }, true);
    await features.upsertOverride(tx, a, { flagKey, scope: 'user', targetId: String(member.id) }, true);
    const peer = await wireguard.insertPeer(tx, a, {
      name: peerName,
      publicKey: peerPublicKey,
      assignedIp: `10.${100 + (randomBytes(1)[0]! % 100)}.${randomBytes(1)[0]}.${1 + (randomBytes(1)[0]! % 250)}`,
      userId: member.id,
      peerType: 'client',
    });
    await passwordReset.insertToken(tx, a, {
      userId: member.id,
      tokenHash: resetHash,
      expiresAt: new Date(Date.now() + 3600_000),
    });
    const conn = await sso.insertConnection(tx, {
      tenantId: a,
      type: 'oidc',
      name: connectionName,
      oidcIssuer: issuer,
      oidcClientId: 'contract',
      domainToken: hex(16),
      ssoRequired: true,
    });
    const dom = await sso.insertDomain(tx, a, conn.id, domain);
    await sso.markDomainVerified(tx, a, dom.id, 'dns');
    const ident = await sso.insertIdentity(
      tx,
      a,
      member.id,
      { connectionId: conn.id, provider: 'sso' },
      { issuer, subject: ssoSubject },
      member.email,
    );
    await sso.insertIdentity(
      tx,
      a,
      member.id,
      { connectionId: null, provider: 'github' },
      { issuer: 'https://github.com', subject: `gh-${hex(6)}` },
      member.email,
    );
    await scim.saveProfile(tx, a, member.id, {
      externalId,
      userName: scimUserName,
      attributes: { title: 'Contract' },
    });
    const dirGroup = await scim.insertGroup(tx, a, { displayName: directoryGroupName, externalId: null });
    await scim.addGroupMembers(tx, a, dirGroup.id, [member.id]);
    await scim.setGroupRoleIds(tx, a, dirGroup.id, [child.id]);
    // Disabled, and its delivery not due for a month: the delivery workers other test files step (they serve
    // every tenant) must neither fan out nor send for it while this file compares A's rows with its baseline.
    const hook = await webhooks.insertEndpoint(tx, a, {
      url: 'https://hooks.example.test/contract',
      events: ['*'],
      secretSealed: `sealed-${hex(6)}`,
      cursorSeq: 0,
      enabled: false,
    });
    const [hookDelivery] = await webhooks.insertDeliveries(
      tx,
      a,
      hook.id,
      [
        {
          eventId: webhookEventId,
          eventType: 'user.created',
          payload: '{}',
          contentType: 'application/json',
          firstSeq: 1,
          lastSeq: 1,
        },
      ],
      new Date(),
    );
    await tx.execute(
      sql`update webhook_deliveries set next_attempt_at = now() + interval '30 days' where id = ${hookDelivery!}`,
    );
    await pii.storePii(tx, a, member.id, [{ ref: piiRef, kind: 'email', value: member.email }]);
    const invitation = await invitations.insertInvitation(tx, a, {
      email: invitationEmail,
      roleIds: [child.id],
      tokenHash: invitationHash,
      invitedBy: A.admin.id,
      expiresAt: later(),
    });
    const oidcClient = await oidcClients.insertClient(tx, a, {
      clientId: oidcClientId,
      name: 'Contract client',
      type: 'confidential',
      redirectUris: ['https://rp.example.test/cb'],
      grantTypes: ['authorization_code'],
      tokenEndpointAuthMethod: 'client_secret_basic',
      allowedScopes: ['openid'],
      secretHash: oidcSecretHash,
    });
    // An artefact of the tenant's OpenID Provider (a grant of the member to the client).
    await oidcProvider.upsertArtefact(tx, a, {
      model: 'Grant',
      id: artefactId,
      payload: { accountId: String(member.id), clientId: oidcClientId, openid: { scope: 'openid' } },
      grantId: artefactGrantId,
      uid: artefactUid,
      accountId: member.id,
      clientId: oidcClientId,
      expiresAt: later(),
    });
    await auditWriter.writeAudit(tx, a, SYSTEM_AUDIT_CONTEXT, {
      eventType: 'contract.seeded',
      metadata: { email: member.email },
    });
    // The verification mark a full re-verification sets (issue 25), at the record just written.
    await tx.execute(sql`insert into audit_verifications (tenant_id, through_seq, through_hash, full_at)
      select tenant_id, last_seq, last_hash, now() from audit_chain_heads where tenant_id = ${a}`);
    return {
      parent,
      child,
      s,
      refreshId,
      recovery: recovery!,
      cred,
      key,
      peer,
      conn,
      dom,
      ident: ident!,
      dirGroup,
      hook,
      hookDelivery: hookDelivery!,
      invitation,
      oidcClient,
    };
  });
  const out = {
    a,
    b: B.tenant.id,
    slugA: A.tenant.slug,
    adminId: A.admin.id,
    memberId: member.id,
    memberEmail: member.email,
    sessionId: rest.s.id,
    session,
    refreshId: rest.refreshId,
    refreshHash,
    parentRoleId: rest.parent.id,
    childRoleId: rest.child.id,
    childCode,
    recoveryId: rest.recovery.id,
    credentialRowId: rest.cred.id,
    credentialId,
    apiKeyId: rest.key.id,
    apiKeyHash,
    flagKey,
    peerId: rest.peer.id,
    peerName,
    peerPublicKey,
    resetHash,
    connectionId: rest.conn.id,
    connectionName,
    domain,
    domainId: rest.dom.id,
    ssoIdentityId: rest.ident.id,
    issuer,
    ssoSubject,
    externalId,
    scimUserName,
    directoryGroupId: rest.dirGroup.id,
    directoryGroupName,
    piiRef,
    webhookEndpointId: rest.hook.id,
    webhookDeliveryId: rest.hookDelivery,
    webhookEventId,
    auditHeadA: await db.withTenant(a, (tx) => webhooks.auditHead(tx, a)),
    invitationId: rest.invitation.id,
    invitationHash,
    invitationEmail,
    oidcClientRowId: rest.oidcClient.id,
    oidcClientId,
    oidcSecretHash,
    artefactId,
    artefactGrantId,
    artefactUid,
  };
  const markers = [
    out.slugA,
    out.memberEmail,
    A.admin.email,
    out.sessionId,
    out.refreshId,
    refreshHash,
    out.parentRoleId,
    out.childRoleId,
    childCode,
    rest.parent.code,
    out.recoveryId,
    rest.recovery.codeHash,
    out.credentialRowId,
    credentialId,
    apiKeyHash,
    out.peerId,
    peerName,
    peerPublicKey,
    resetHash,
    out.connectionId,
    connectionName,
    domain,
    out.domainId,
    out.ssoIdentityId,
    ssoSubject,
    externalId,
    scimUserName,
    rest.dirGroup.id,
    directoryGroupName,
    piiRef,
    rest.hook.id,
    rest.hookDelivery,
    webhookEventId,
    rest.invitation.id,
    invitationHash,
    invitationEmail,
    rest.oidcClient.id,
    oidcClientId,
    oidcSecretHash,
    artefactId,
    artefactGrantId,
    artefactUid,
  ];
  return { ...out, markers };
}

// ---------------------------------------------------------------------------------------------------------------
// The contract: one entry per exported function of every repository.

type Run = (tx: Tx, tenantId: number, fx: Fx) => Promise<unknown>;
type SystemRun = (tx: Tx, fx: Fx) => Promise<unknown>;
type Found = (result: unknown, fx: Fx) => boolean;

type Case =
  /** Tenant-scoped read: finds A's data in the control, nothing of A from B. */
  | { kind: 'read'; run: Run; found?: Found }
  /** Tenant-scoped write: changes A's rows in the control (`control: 'succeeds'`: only runs), none from B. */
  | { kind: 'write'; run: Run; control?: 'changes' | 'succeeds'; controlIn?: 'tenant' | 'system' }
  /** No tenant argument, cross-tenant by nature: control in a system transaction, backstop in B's. */
  | { kind: 'system-read'; run: SystemRun; found?: Found; why: string }
  | { kind: 'system-write'; run: SystemRun; why: string }
  /** A global table: in a tenant transaction, reads see only global rows, writes are refused. */
  | { kind: 'global'; run: SystemRun; inTenant: 'reads' | 'refused'; why: string }
  /** Touches no tenant row (an advisory lock, an allocation answer): from B, no error and nothing of A. */
  | { kind: 'no-rows'; run: Run; why: string }
  /** Not SQL. */
  | { kind: 'pure'; why: string };

const read = (run: Run, found?: Found): Case => ({ kind: 'read', run, found });
const write = (
  run: Run,
  opts: { control?: 'changes' | 'succeeds'; controlIn?: 'tenant' | 'system' } = {},
): Case => ({
  kind: 'write',
  run,
  ...opts,
});
const later = () => new Date(Date.now() + 86_400_000);
const isTrue: Found = (r) => r === true;
const positive: Found = (r) => typeof r === 'number' && r > 0;

const CONTRACT: Record<string, Record<string, Case>> = {
  'src/modules/users/repository.ts': {
    findUserByEmail: read((tx, t, f) => users.findUserByEmail(tx, t, f.memberEmail)),
    findUserById: read((tx, t, f) => users.findUserById(tx, t, f.memberId)),
    findUserEmails: read(
      (tx, t, f) => users.findUserEmails(tx, t, [f.memberId]),
      (r, f) => (r as Map<number, string>).get(f.memberId) === f.memberEmail,
    ),
    insertUser: write((tx, t) =>
      users.insertUser(tx, t, { email: `${uniq('new')}@x.test`, passwordHash: null }),
    ),
    updateUserPassword: write((tx, t, f) => users.updateUserPassword(tx, t, f.memberId, 'hash')),
    touchLastLogin: write((tx, t, f) => users.touchLastLogin(tx, t, f.memberId, 'rehashed')),
    listUsers: read((tx, t) =>
      users.listUsers(tx, t, {
        skip: 0,
        limit: 100,
        sort: '-last_login_at',
        annotate: { hasMfa: mfa.mfaEnabledSql },
      }),
    ),
    updateUser: write((tx, t, f) => users.updateUser(tx, t, f.memberId, { firstName: 'Mallory' })),
    findUserForUpdate: read((tx, t, f) => users.findUserForUpdate(tx, t, f.memberId)),
    deleteUser: write((tx, t, f) => users.deleteUser(tx, t, f.memberId)),
    findUserWithRoleCodes: read((tx, t, f) => users.findUserWithRoleCodes(tx, t, f.memberId)),
    countActiveUsers: read((tx, t, f) => users.countActiveUsers(tx, t, [f.memberId, f.adminId]), positive),
    userIdsInDomains: read(
      (tx, t, f) => users.userIdsInDomains(tx, t, [f.memberEmail.slice(f.memberEmail.indexOf('@') + 1)]),
      (r, f) => Array.isArray(r) && r.includes(f.memberId),
    ),
    // Found: every trigram of the member's own address (its random part) is in the sample.
    searchTrigramSample: read(
      (tx, t) => users.searchTrigramSample(tx, t),
      (r, f) => {
        const grams = new Set((r as { counts: { trigram: string }[] }).counts.map((c) => c.trigram));
        const word = f.memberEmail
          .toLowerCase()
          .split(/[^a-z0-9]+/)
          .reduce((x, y) => (y.length > x.length ? y : x), '');
        return word.length >= 6 && [...word].slice(0, -2).every((_, i) => grams.has(word.slice(i, i + 3)));
      },
    ),
  },
  'src/modules/sessions/repository.ts': {
    insertSession: write((tx, t, f) =>
      sessions.insertSession(tx, t, {
        userId: f.memberId,
        expiresAt: later(),
        lastSeenAt: new Date(),
        ipAddress: null,
        userAgent: null,
        deviceType: 'desktop',
        browser: null,
        os: null,
        signInMethod: 'password',
        ssoConnectionId: null,
      }),
    ),
    insertRefreshToken: write((tx, t, f) =>
      sessions.insertRefreshToken(tx, t, {
        id: randomUUID(),
        sessionId: f.sessionId,
        tokenHash: hex(32),
        expiresAt: later(),
      }),
    ),
    claimRefreshToken: write((tx, t, f) => sessions.claimRefreshToken(tx, t, f.refreshId, f.refreshHash)),
    findRefreshToken: read((tx, t, f) => sessions.findRefreshToken(tx, t, f.refreshId, f.refreshHash)),
    markReplaced: write((tx, t, f) => sessions.markReplaced(tx, t, f.refreshId, randomUUID())),
    findSession: read((tx, t, f) => sessions.findSession(tx, t, f.sessionId)),
    listUserSessions: read((tx, t, f) => sessions.listUserSessions(tx, t, f.memberId, true)),
    touchSession: write((tx, t, f) => sessions.touchSession(tx, t, f.sessionId, later())),
    markSeen: write((tx, t, f) => sessions.markSeen(tx, t, f.sessionId, later())),
    revokeSessions: write((tx, t, f) => sessions.revokeSessions(tx, t, { userId: f.memberId }, 'contract')),
    revokeSessionsNotThrough: write((tx, t, f) =>
      sessions.revokeSessionsNotThrough(tx, t, [f.memberId], { ssoConnectionId: f.connectionId }, 'contract'),
    ),
    revokeAllTenantSessions: write((tx, t) => sessions.revokeAllTenantSessions(tx, t, 'contract')),
    countActive: read((tx, t, f) => sessions.countActive(tx, t, f.memberId), positive),
    hasOtherSessionFromDevice: read(
      (tx, t, f) => sessions.hasOtherSessionFromDevice(tx, t, f.memberId, randomUUID(), f.session),
      isTrue,
    ),
  },
  'src/modules/tenants/repository.ts': {
    findTenantById: read(
      (tx, t) => tenants.findTenantById(tx, t),
      (r, f) => (r as { id?: number } | null)?.id === f.a,
    ),
    findTenantBySlug: {
      kind: 'system-read',
      run: (tx, f) => tenants.findTenantBySlug(tx, f.slugA),
      why: 'who is this slug? asked before any tenant is known (withSystem)',
    },
    insertTenant: {
      kind: 'system-write',
      run: (tx) => tenants.insertTenant(tx, { slug: uniq('tn'), name: 'contract' }),
      why: 'creating a tenant is an operator action (withSystem)',
    },
    countTenants: {
      kind: 'system-read',
      run: (tx) => tenants.countTenants(tx),
      // From a tenant transaction the count can only be 1 (itself): more means it saw other tenants.
      found: (r) => typeof r === 'number' && r > 1,
      why: 'platform statistics (withSystem)',
    },
    findTenantForUpdate: read(
      (tx, t) => tenants.findTenantForUpdate(tx, t),
      (r, f) => (r as { id?: number } | null)?.id === f.a,
    ),
    updateTenant: write((tx, t) => tenants.updateTenant(tx, t, { name: 'Renamed by contract' })),
    listTenantsPage: {
      kind: 'system-read',
      run: (tx) => tenants.listTenantsPage(tx, { skip: 0, limit: 10_000 }),
      found: (r, f) => (r as { rows: { id: number }[] }).rows.some((x) => x.id === f.a),
      why: 'platform operators list tenants (withSystem)',
    },
    // The app role may not delete tenants at all, so its control runs as the system.
    deleteTenantRow: write((tx, t) => tenants.deleteTenantRow(tx, t), { controlIn: 'system' }),
  },
  'src/modules/rbac/repository.ts': {
    // The system roles of A exist already: ON CONFLICT DO NOTHING leaves A as it is.
    insertSystemRoles: write((tx, t) => rbac.insertSystemRoles(tx, t), { control: 'succeeds' }),
    findRoleById: read((tx, t, f) => rbac.findRoleById(tx, t, f.childRoleId)),
    findRoleByCode: read((tx, t, f) => rbac.findRoleByCode(tx, t, f.childCode)),
    listRoles: read((tx, t) => rbac.listRoles(tx, t)),
    insertRole: write((tx, t) =>
      rbac.insertRole(tx, t, {
        code: `c_${hex(4)}`,
        name: 'x',
        description: null,
        permissions: [],
        parentRoleId: null,
        mfaRequired: false,
      }),
    ),
    updateRole: write((tx, t, f) => rbac.updateRole(tx, t, f.childRoleId, { name: 'Renamed' })),
    deleteRole: write((tx, t, f) => rbac.deleteRole(tx, t, f.childRoleId)),
    // The walk always starts with the id it is given; reaching the parent is what reads A's roles.
    ancestorIds: read(
      (tx, t, f) => rbac.ancestorIds(tx, t, f.childRoleId),
      (r, f) => (r as string[]).includes(f.parentRoleId),
    ),
    lockRoleGraph: { kind: 'no-rows', run: (tx, t) => rbac.lockRoleGraph(tx, t), why: 'advisory lock only' },
    loadUserRoleGrants: read((tx, t, f) => rbac.loadUserRoleGrants(tx, t, f.memberId)),
    loadRoleChainGrants: read((tx, t, f) => rbac.loadRoleChainGrants(tx, t, f.childRoleId)),
    upsertAssignment: write((tx, t, f) =>
      rbac.upsertAssignment(tx, t, {
        userId: f.memberId,
        roleId: f.parentRoleId,
        expiresAt: null,
        grantedBy: null,
      }),
    ),
    deleteAssignment: write((tx, t, f) => rbac.deleteAssignment(tx, t, f.memberId, f.childRoleId)),
    setGroupSource: write((tx, t, f) => rbac.setGroupSource(tx, t, f.memberId, f.parentRoleId, true)),
    listAssignments: read((tx, t, f) => rbac.listAssignments(tx, t, f.memberId)),
    roleCodesOf: read((tx, t, f) => rbac.roleCodesOf(tx, t, [f.memberId])),
    // A SQL fragment other modules embed: run it the way users' findUserWithRoleCodes does.
    activeRoleCodesSql: read(async (tx, t, f) => {
      const r = await tx.execute<{ codes: string[] | string }>(
        sql`select ${rbac.activeRoleCodesSql(sql`${t}::integer`, sql`${f.memberId}::integer`)} as codes`,
      );
      return r.rows[0]?.codes;
    }),
    holderIds: read(
      (tx, t, f) => rbac.holderIds(tx, t, f.childRoleId),
      (r, f) => (r as number[]).includes(f.memberId),
    ),
    heldRoleIds: read((tx, t, f) => rbac.heldRoleIds(tx, t, { userId: f.memberId, roleId: null })),
    roleExists: read((tx, t, f) => rbac.roleExists(tx, t, f.childRoleId), isTrue),
  },
  'src/modules/mfa/repository.ts': {
    findTotp: read((tx, t, f) => mfa.findTotp(tx, t, f.memberId)),
    // A SQL fragment the users list embeds per row: run it the way that list does (A's member has a security key).
    mfaEnabledSql: read(async (tx, t, f) => {
      const r = await tx.execute<{ enabled: boolean }>(
        sql`select ${mfa.mfaEnabledSql(sql`${t}::integer`, sql`${f.memberId}::integer`)} as enabled`,
      );
      return r.rows[0]?.enabled;
    }, isTrue),
    // The admin has no TOTP yet: the control creates A's row.
    insertPendingTotp: write((tx, t, f) => mfa.insertPendingTotp(tx, t, f.adminId, 'enc:v1:contract:x')),
    claimTotpStep: write((tx, t, f) => mfa.claimTotpStep(tx, t, f.memberId, 99_999_999, true)),
    enableTotp: write((tx, t, f) => mfa.enableTotp(tx, t, f.memberId)),
    lockUserFactors: {
      kind: 'no-rows',
      run: (tx, t, f) => mfa.lockUserFactors(tx, t, f.memberId),
      why: 'advisory lock only',
    },
    deleteTotp: write((tx, t, f) => mfa.deleteTotp(tx, t, f.memberId)),
    replaceRecoveryCodes: write((tx, t, f) => mfa.replaceRecoveryCodes(tx, t, f.memberId, [hex(32)])),
    deleteRecoveryCodes: write((tx, t, f) => mfa.deleteRecoveryCodes(tx, t, f.memberId)),
    listRecoveryCodes: read((tx, t, f) => mfa.listRecoveryCodes(tx, t, f.memberId)),
    consumeRecoveryCode: write((tx, t, f) => mfa.consumeRecoveryCode(tx, t, f.recoveryId)),
    countUnusedRecoveryCodes: read((tx, t, f) => mfa.countUnusedRecoveryCodes(tx, t, f.memberId), positive),
    listCredentials: read((tx, t, f) => mfa.listCredentials(tx, t, f.memberId)),
    countCredentials: read((tx, t, f) => mfa.countCredentials(tx, t, f.memberId), positive),
    findCredentialByCredentialId: read((tx, t, f) =>
      mfa.findCredentialByCredentialId(tx, t, f.memberId, f.credentialId),
    ),
    insertCredential: write((tx, t, f) =>
      mfa.insertCredential(tx, t, {
        userId: f.memberId,
        credentialId: `cred-${hex(8)}`,
        publicKey: 'pk',
        counter: 0,
        transports: [],
        deviceType: 'singleDevice',
        backedUp: false,
        name: 'x',
      }),
    ),
    bumpCredentialCounter: write((tx, t, f) => mfa.bumpCredentialCounter(tx, t, f.credentialRowId, 1000)),
    deleteCredential: write((tx, t, f) => mfa.deleteCredential(tx, t, f.memberId, f.credentialRowId)),
    deleteCredentials: write((tx, t, f) => mfa.deleteCredentials(tx, t, f.memberId)),
    mfaFlags: read(
      (tx, t, f) => mfa.mfaFlags(tx, t, f.memberId),
      (r) => {
        const x = r as { totpEnabled: boolean; hasKeys: boolean; roleRequires: boolean };
        return x.totpEnabled || x.hasKeys || x.roleRequires;
      },
    ),
  },
  'src/modules/api-keys/repository.ts': {
    insertApiKey: write((tx, t, f) =>
      apiKeys.insertApiKey(tx, t, {
        name: 'x',
        keyHash: hex(32),
        keyPrefix: 'mc_sk_x',
        scopes: [],
        owner: 'user',
        userId: f.memberId,
        roleId: null,
        createdByUserId: f.adminId,
        expiresAt: null,
      }),
    ),
    findByHash: {
      kind: 'system-read',
      run: (tx, f) => apiKeys.findByHash(tx, f.apiKeyHash),
      why: 'the raw key does not name its tenant: the authenticator looks it up by hash first (withSystem)',
    },
    findApiKey: read((tx, t, f) => apiKeys.findApiKey(tx, t, f.apiKeyId)),
    listApiKeys: read((tx, t) => apiKeys.listApiKeys(tx, t, { includeRevoked: true, skip: 0, limit: 100 })),
    revokeApiKey: write((tx, t, f) => apiKeys.revokeApiKey(tx, t, f.apiKeyId, 'contract')),
    revokeUserKeys: write((tx, t, f) => apiKeys.revokeUserKeys(tx, t, f.memberId, 'contract')),
    listUserKeys: read((tx, t, f) => apiKeys.listUserKeys(tx, t, f.memberId)),
    listLiveTenantKeys: read((tx, t) => apiKeys.listLiveTenantKeys(tx, t)),
    keyNames: read(
      (tx, t, f) => apiKeys.keyNames(tx, t, { ids: [f.apiKeyId] }),
      (r, f) => Array.isArray(r) && r.some((k) => k.id === f.apiKeyId),
    ),
    touchLastUsed: write((tx, t, f) => apiKeys.touchLastUsed(tx, t, f.apiKeyId, later())),
  },
  'src/modules/audit/repository.ts': {
    listPage: read((tx, t) => audit.listPage(tx, t, {}, null, 500)),
    exportPage: read((tx, t) => audit.exportPage(tx, t, {}, 0, 500)),
    exportNdjsonPage: read((tx, t) => audit.exportNdjsonPage(tx, t, {}, 0, 500)),
  },
  'src/modules/features/repository.ts': {
    listFlags: {
      kind: 'global',
      run: (tx) => features.listFlags(tx),
      inTenant: 'reads',
      why: 'flag catalogue',
    },
    findFlag: {
      kind: 'global',
      run: (tx, f) => features.findFlag(tx, f.flagKey),
      inTenant: 'reads',
      why: 'flag catalogue',
    },
    insertFlag: {
      kind: 'global',
      run: (tx) =>
        features.insertFlag(tx, {
          key: `x.${hex(4)}`,
          description: '',
          defaultEnabled: true,
          rolloutPercent: null,
        }),
      inTenant: 'refused',
      why: 'operators write the catalogue (withSystem)',
    },
    updateFlag: {
      kind: 'global',
      run: (tx, f) => features.updateFlag(tx, f.flagKey, { defaultEnabled: true }),
      inTenant: 'refused',
      why: 'operators write the catalogue (withSystem)',
    },
    deleteFlag: {
      kind: 'global',
      run: (tx, f) => features.deleteFlag(tx, f.flagKey),
      inTenant: 'refused',
      why: 'operators write the catalogue (withSystem)',
    },
    listTenantOverrides: read((tx, t) => features.listTenantOverrides(tx, t)),
    upsertOverride: write((tx, t, f) =>
      features.upsertOverride(
        tx,
        t,
        { flagKey: f.flagKey, scope: 'user', targetId: String(f.memberId) },
        false,
      ),
    ),
    deleteOverride: write((tx, t, f) =>
      features.deleteOverride(tx, t, { flagKey: f.flagKey, scope: 'tenant', targetId: '' }),
    ),
    // Every flag comes back (the catalogue is global); A's overrides on A's flag must not.
    loadFlagFacts: read(
      (tx, t, f) => features.loadFlagFacts(tx, t, f.memberId, [f.childRoleId]),
      (r, f) =>
        (r as { key: string; tenant: boolean | null; user: boolean | null; roles: boolean[] }[]).some(
          (x) => x.key === f.flagKey && (x.tenant !== null || x.user !== null || x.roles.length > 0),
        ),
    ),
    loadCatalogueFacts: {
      kind: 'global',
      run: (tx) => features.loadCatalogueFacts(tx),
      inTenant: 'reads',
      why: 'flag catalogue',
    },
  },
  'src/modules/password-reset/repository.ts': {
    insertToken: write((tx, t, f) =>
      passwordReset.insertToken(tx, t, { userId: f.memberId, tokenHash: hex(32), expiresAt: later() }),
    ),
    expirePending: write((tx, t, f) => passwordReset.expirePending(tx, t, f.memberId)),
    voidPending: write((tx, t, f) => passwordReset.voidPending(tx, t, f.memberId)),
    countRecent: read((tx, t, f) => passwordReset.countRecent(tx, t, f.memberId, new Date(0)), positive),
    findByHash: read((tx, t, f) => passwordReset.findByHash(tx, t, f.resetHash)),
    claim: write((tx, t, f) => passwordReset.claim(tx, t, f.resetHash)),
  },
  'src/modules/invitations/repository.ts': {
    statusOf: { kind: 'pure', why: 'derives a status from a row already read' },
    insertInvitation: write((tx, t, f) =>
      invitations.insertInvitation(tx, t, {
        email: `${uniq('inv')}@contract.test`,
        roleIds: [],
        tokenHash: hex(32),
        invitedBy: f.adminId,
        expiresAt: later(),
      }),
    ),
    findInvitation: read((tx, t, f) => invitations.findInvitation(tx, t, f.invitationId)),
    lockInvitation: read((tx, t, f) => invitations.lockInvitation(tx, t, f.invitationId)),
    findByTokenHash: read((tx, t, f) => invitations.findByTokenHash(tx, t, f.invitationHash)),
    lockOpenByEmail: read((tx, t, f) => invitations.lockOpenByEmail(tx, t, f.invitationEmail)),
    revoke: write((tx, t, f) => invitations.revoke(tx, t, f.invitationId)),
    reissue: write((tx, t, f) =>
      invitations.reissue(tx, t, f.invitationId, { tokenHash: hex(32), expiresAt: later() }),
    ),
    claim: write((tx, t, f) => invitations.claim(tx, t, { tokenHash: f.invitationHash })),
    setAcceptedUser: write((tx, t, f) => invitations.setAcceptedUser(tx, t, f.invitationId, f.memberId)),
    invitationsOfPerson: read(
      (tx, t, f) => invitations.invitationsOfPerson(tx, t, f.memberId, f.invitationEmail),
      (r) => Array.isArray(r) && r.length > 0,
    ),
    deleteForPerson: write((tx, t, f) => invitations.deleteForPerson(tx, t, f.memberId, f.invitationEmail)),
    listInvitations: read(
      (tx, t) => invitations.listInvitations(tx, t, { limit: 10 }),
      (r, f) => (r as { rows: { id: string }[] }).rows.some((x) => x.id === f.invitationId),
    ),
  },
  'src/modules/scim/repository.ts': {
    profileOf: read((tx, t, f) => scim.profileOf(tx, t, f.memberId)),
    profilesOf: read((tx, t, f) => scim.profilesOf(tx, t, [f.memberId])),
    userIdByExternalId: read(
      (tx, t, f) => scim.userIdByExternalId(tx, t, f.externalId),
      (r, f) => r === f.memberId,
    ),
    userIdByUserName: read(
      (tx, t, f) => scim.userIdByUserName(tx, t, f.scimUserName.toUpperCase()),
      (r, f) => r === f.memberId,
    ),
    saveProfile: write((tx, t, f) =>
      scim.saveProfile(tx, t, f.memberId, { externalId: `ext-${hex(6)}`, userName: null, attributes: {} }),
    ),
    filterUserIds: read(
      (tx, t, f) =>
        scim.filterUserIds(tx, t, {
          where: sql`s.user_name = ${f.scimUserName}`,
          orderBy: sql`u.id`,
          offset: 0,
          limit: 10,
        }),
      (r, f) => (r as { ids: number[] }).ids.includes(f.memberId),
    ),
    userNamesOf: read((tx, t, f) => scim.userNamesOf(tx, t, [f.memberId])),
    insertGroup: write((tx, t) => scim.insertGroup(tx, t, { displayName: `g-${hex(4)}`, externalId: null })),
    groupById: read((tx, t, f) => scim.groupById(tx, t, f.directoryGroupId)),
    lockGroup: read((tx, t, f) => scim.lockGroup(tx, t, f.directoryGroupId)),
    groupIdByName: read(
      (tx, t, f) => scim.groupIdByName(tx, t, f.directoryGroupName.toLowerCase()),
      (r, f) => r === f.directoryGroupId,
    ),
    touchGroup: write((tx, t, f) =>
      scim.touchGroup(tx, t, f.directoryGroupId, { externalId: `x-${hex(3)}` }),
    ),
    deleteGroup: write((tx, t, f) => scim.deleteGroup(tx, t, f.directoryGroupId)),
    groupMemberIds: read(
      (tx, t, f) => scim.groupMemberIds(tx, t, f.directoryGroupId),
      (r, f) => (r as number[]).includes(f.memberId),
    ),
    addGroupMembers: write((tx, t, f) => scim.addGroupMembers(tx, t, f.directoryGroupId, [f.adminId])),
    removeGroupMembers: write((tx, t, f) => scim.removeGroupMembers(tx, t, f.directoryGroupId, [f.memberId])),
    groupRoleIds: read(
      (tx, t, f) => scim.groupRoleIds(tx, t, f.directoryGroupId),
      (r, f) => (r as string[]).includes(f.childRoleId),
    ),
    setGroupRoleIds: write((tx, t, f) => scim.setGroupRoleIds(tx, t, f.directoryGroupId, [f.parentRoleId])),
    rolesFromGroups: read(
      (tx, t, f) => scim.rolesFromGroups(tx, t, f.memberId, [f.childRoleId]),
      (r, f) => (r as Set<string>).has(f.childRoleId),
    ),
    filterGroupIds: read(
      (tx, t, f) =>
        scim.filterGroupIds(tx, t, {
          where: sql`g.display_name = ${f.directoryGroupName}`,
          orderBy: sql`g.id`,
          offset: 0,
          limit: 10,
        }),
      (r, f) => (r as { ids: string[] }).ids.includes(f.directoryGroupId),
    ),
    listGroups: read((tx, t) => scim.listGroups(tx, t, { limit: 10 })),
    memberCounts: read(
      (tx, t, f) => scim.memberCounts(tx, t, [f.directoryGroupId]),
      (r, f) => ((r as Map<string, number>).get(f.directoryGroupId) ?? 0) > 0,
    ),
  },
  'src/modules/webhooks/repository.ts': {
    insertEndpoint: write((tx, t) =>
      webhooks.insertEndpoint(tx, t, {
        url: 'https://hooks.example.test/new',
        events: ['*'],
        secretSealed: 'sealed',
        cursorSeq: 0,
      }),
    ),
    findEndpoint: read((tx, t, f) => webhooks.findEndpoint(tx, t, f.webhookEndpointId)),
    lockEndpoint: read((tx, t, f) => webhooks.lockEndpoint(tx, t, f.webhookEndpointId)),
    listEndpoints: read((tx, t) => webhooks.listEndpoints(tx, t)),
    updateEndpoint: write((tx, t, f) =>
      webhooks.updateEndpoint(tx, t, f.webhookEndpointId, { description: 'changed' }),
    ),
    deleteEndpoint: write((tx, t, f) => webhooks.deleteEndpoint(tx, t, f.webhookEndpointId)),
    endpointSecrets: read((tx, t, f) => webhooks.endpointSecrets(tx, t, f.webhookEndpointId)),
    rotateEndpointSecret: write((tx, t, f) =>
      webhooks.rotateEndpointSecret(tx, t, f.webhookEndpointId, 'sealed-new', later(), new Date()),
    ),
    lockTenantEndpoints: {
      kind: 'no-rows',
      run: (tx, t) => webhooks.lockTenantEndpoints(tx, t),
      why: 'advisory lock only',
    },
    countEndpoints: read((tx, t) => webhooks.countEndpoints(tx, t), positive),
    // B has a chain head of its own: only A's (longer) head is a leak.
    auditHead: read(
      (tx, t) => webhooks.auditHead(tx, t),
      (r, f) => r === f.auditHeadA,
    ),
    endpointsBehind: {
      kind: 'system-read',
      // A's endpoint is seeded disabled (see seed()): enabled here, in the case's own rolled-back transaction
      // (from B's, RLS lets the update touch nothing), so the control has something to find.
      run: async (tx, f) => {
        await tx.execute(sql`update webhook_endpoints set enabled = true where id = ${f.webhookEndpointId}`);
        return webhooks.endpointsBehind(tx, 100_000);
      },
      found: (r, f) => (r as { id: string }[]).some((e) => e.id === f.webhookEndpointId),
      why: 'the delivery workers serve every tenant',
    },
    lockForFanOut: read(
      (tx, t, f) => webhooks.lockForFanOut(tx, t, f.webhookEndpointId),
      (r) => r !== null,
    ),
    setCursor: write((tx, t, f) => webhooks.setCursor(tx, t, f.webhookEndpointId, 5)),
    auditAfter: read(
      (tx, t) => webhooks.auditAfter(tx, t, 0, 1000),
      (r, f) => (r as { tenantId: number }[]).some((x) => x.tenantId === f.a),
    ),
    pendingCount: read((tx, t, f) => webhooks.pendingCount(tx, t, f.webhookEndpointId), positive),
    insertDeliveries: write((tx, t, f) =>
      webhooks.insertDeliveries(
        tx,
        t,
        f.webhookEndpointId,
        [
          {
            eventId: 'evt_new',
            eventType: 'user.created',
            payload: '{}',
            contentType: 'application/json',
            firstSeq: 2,
            lastSeq: 2,
          },
        ],
        new Date(),
      ),
    ),
    findDelivery: read((tx, t, f) => webhooks.findDelivery(tx, t, f.webhookDeliveryId)),
    deliveryPage: read((tx, t, f) => webhooks.deliveryPage(tx, t, f.webhookEndpointId, { limit: 10 })),
    replaySources: read((tx, t, f) =>
      webhooks.replaySources(tx, t, f.webhookEndpointId, { eventId: f.webhookEventId }, 10),
    ),
    claimDue: {
      kind: 'system-write',
      run: (tx) => webhooks.claimDue(tx, new Date(Date.now() + 60_000), 60_000, 100_000),
      why: 'the delivery workers serve every tenant',
    },
    oldestPendingAge: {
      kind: 'system-read',
      run: (tx) => webhooks.oldestPendingAge(tx),
      // A's delivery (queued at seed time) is pending: its age is above 0; B's transaction sees none (0).
      found: (r) => typeof r === 'number' && r > 0,
      why: 'a metric over every tenant (a number, no row)',
    },
    recordAttempt: write((tx, t, f) =>
      webhooks.recordAttempt(
        tx,
        t,
        f.webhookDeliveryId,
        { lastStatus: 200, lastError: null, lastLatencyMs: 1, lastResponse: 'ok' },
        { delivered: new Date() },
      ),
    ),
    parkDelivery: write((tx, t, f) => webhooks.parkDelivery(tx, t, f.webhookDeliveryId, later())),
    pruneFinished: {
      kind: 'system-write',
      // A's seeded delivery is pending (never pruned): marked delivered in the case's own rolled-back transaction
      // (from B's, RLS lets the update touch nothing), so the control has something to delete.
      run: async (tx, f) => {
        await tx.execute(
          sql`update webhook_deliveries set status = 'delivered' where id = ${f.webhookDeliveryId}`,
        );
        return webhooks.pruneFinished(tx, later(), 100_000);
      },
      why: 'the delivery workers serve every tenant',
    },
    deliveriesContaining: read(
      (tx, t) => webhooks.deliveriesContaining(tx, t, ['{}']),
      (r, f) => (r as { id: string }[]).some((d) => d.id === f.webhookDeliveryId),
    ),
    setDeliveryPayload: write((tx, t, f) =>
      webhooks.setDeliveryPayload(tx, t, f.webhookDeliveryId, '{"scrubbed":true}'),
    ),
    markFailing: write((tx, t, f) => webhooks.markFailing(tx, t, f.webhookEndpointId, new Date())),
  },
  'src/modules/oidc-clients/repository.ts': {
    insertClient: write((tx, t) =>
      oidcClients.insertClient(tx, t, {
        clientId: `mc_new_${hex(8)}`,
        name: 'New client',
        type: 'public',
        redirectUris: ['https://rp.example.test/new'],
        grantTypes: ['authorization_code'],
        tokenEndpointAuthMethod: 'none',
        allowedScopes: ['openid'],
      }),
    ),
    findClient: read((tx, t, f) => oidcClients.findClient(tx, t, f.oidcClientRowId)),
    lockClient: read((tx, t, f) => oidcClients.lockClient(tx, t, f.oidcClientRowId)),
    clientPage: read((tx, t) => oidcClients.clientPage(tx, t, { limit: 100 })),
    updateClient: write((tx, t, f) =>
      oidcClients.updateClient(tx, t, f.oidcClientRowId, { name: 'changed' }),
    ),
    deleteClient: write((tx, t, f) => oidcClients.deleteClient(tx, t, f.oidcClientRowId)),
    rotateClientSecret: write((tx, t, f) =>
      oidcClients.rotateClientSecret(tx, t, f.oidcClientRowId, hex(32), later(), new Date()),
    ),
    clientSecretHashes: read((tx, t, f) => oidcClients.clientSecretHashes(tx, t, f.oidcClientRowId)),
    lockTenantClients: {
      kind: 'no-rows',
      run: (tx, t) => oidcClients.lockTenantClients(tx, t),
      why: 'advisory lock only',
    },
    countClients: read((tx, t) => oidcClients.countClients(tx, t), positive),
    clientByClientId: read((tx, t, f) => oidcClients.clientByClientId(tx, t, f.oidcClientId)),
    machineClient: read((tx, t, f) => oidcClients.machineClient(tx, t, f.oidcClientId)),
  },
  'src/modules/oidc-provider/repository.ts': {
    upsertArtefact: write((tx, t, f) =>
      oidcProvider.upsertArtefact(tx, t, {
        model: 'Grant',
        id: f.artefactId,
        payload: { replaced: true },
        grantId: null,
        uid: null,
        accountId: null,
        clientId: null,
        expiresAt: later(),
      }),
    ),
    findArtefact: read((tx, t, f) =>
      oidcProvider.findArtefact(tx, t, 'Grant', { id: f.artefactId }, new Date()),
    ),
    consumeArtefact: write((tx, t, f) =>
      oidcProvider.consumeArtefact(tx, t, 'Grant', f.artefactId, new Date()),
    ),
    artefactGrantId: read(
      (tx, t, f) => oidcProvider.artefactGrantId(tx, t, 'Grant', f.artefactId),
      (r, f) => r === f.artefactGrantId,
    ),
    deleteArtefact: write((tx, t, f) => oidcProvider.deleteArtefact(tx, t, 'Grant', f.artefactId)),
    deleteGrantArtefacts: write((tx, t, f) => oidcProvider.deleteGrantArtefacts(tx, t, f.artefactGrantId)),
    deleteUserArtefacts: write((tx, t, f) => oidcProvider.deleteUserArtefacts(tx, t, f.memberId), {
      control: 'changes',
    }),
    userGrants: read((tx, t, f) => oidcProvider.userGrants(tx, t, f.memberId)),
    pruneExpiredArtefacts: {
      kind: 'system-write',
      // A's seeded artefact is not expired: the prune is checked to run, and from B's transaction to touch nothing.
      run: (tx) => oidcProvider.pruneExpiredArtefacts(tx, 100, new Date()),
      why: 'the periodic prune serves every tenant',
    },
  },
  'src/modules/sso/repository.ts': {
    findConnection: read((tx, t, f) => sso.findConnection(tx, t, f.connectionId)),
    lockConnection: read((tx, t, f) => sso.lockConnection(tx, t, f.connectionId)),
    listConnections: read((tx, t) => sso.listConnections(tx, t)),
    connectionNameTaken: read((tx, t, f) => sso.connectionNameTaken(tx, t, f.connectionName), isTrue),
    // The row carries its tenant: from B with tenant A in it, RLS's WITH CHECK must refuse it.
    insertConnection: write((tx, t) =>
      sso.insertConnection(tx, {
        tenantId: t,
        type: 'oidc',
        name: `c-${hex(4)}`,
        oidcIssuer: 'https://idp.example.test',
        oidcClientId: 'x',
        domainToken: hex(8),
      }),
    ),
    updateConnection: write((tx, t, f) =>
      sso.updateConnection(tx, t, f.connectionId, { name: `r-${hex(4)}` }),
    ),
    deleteConnection: write((tx, t, f) => sso.deleteConnection(tx, t, f.connectionId)),
    domainsOf: read((tx, t, f) => sso.domainsOf(tx, t, [f.connectionId])),
    findTenantDomain: read((tx, t, f) => sso.findTenantDomain(tx, t, f.domain)),
    insertDomain: write((tx, t, f) => sso.insertDomain(tx, t, f.connectionId, `${hex(5)}.contract.test`)),
    deleteDomain: write((tx, t, f) => sso.deleteDomain(tx, t, f.connectionId, f.domain)),
    markDomainVerified: write((tx, t, f) => sso.markDomainVerified(tx, t, f.domainId, 'contract')),
    verifiedDomainRoute: {
      kind: 'system-read',
      run: (tx, f) => sso.verifiedDomainRoute(tx, f.domain),
      why: 'discovery: which tenant owns this domain, before any tenant is known (withSystem)',
    },
    findConnectionAnyTenant: {
      kind: 'system-read',
      run: (tx, f) => sso.findConnectionAnyTenant(tx, f.connectionId),
      why: 'platform operators (withSystem)',
    },
    requiredSsoForDomain: read((tx, t, f) => sso.requiredSsoForDomain(tx, t, f.domain)),
    findIdentity: read((tx, t, f) =>
      sso.findIdentity(tx, t, { connectionId: f.connectionId, provider: 'sso' }, f.issuer, f.ssoSubject),
    ),
    insertIdentity: write((tx, t, f) =>
      sso.insertIdentity(
        tx,
        t,
        f.memberId,
        { connectionId: null, provider: 'google' },
        { issuer: 'https://accounts.google.com', subject: `g-${hex(6)}` },
        null,
      ),
    ),
    touchIdentity: write((tx, t, f) => sso.touchIdentity(tx, t, f.ssoIdentityId, null)),
    identitiesOfUser: read((tx, t, f) => sso.identitiesOfUser(tx, t, f.memberId)),
    deleteIdentitiesOfUser: write((tx, t, f) => sso.deleteIdentitiesOfUser(tx, t, f.memberId)),
    deleteIdentity: write((tx, t, f) => sso.deleteIdentity(tx, t, f.memberId, f.ssoIdentityId)),
  },
  'src/modules/sso/social/repository.ts': {
    socialIdentitiesOfUser: read((tx, t, f) => social.socialIdentitiesOfUser(tx, t, f.memberId)),
    lockIdentitiesOfUser: read((tx, t, f) => social.lockIdentitiesOfUser(tx, t, f.memberId)),
    lockUserRow: {
      kind: 'no-rows',
      run: (tx, t, f) => social.lockUserRow(tx, t, f.memberId),
      why: 'row lock, returns nothing',
    },
    deleteProviderIdentities: write((tx, t, f) =>
      social.deleteProviderIdentities(tx, t, f.memberId, 'github'),
    ),
  },
  'src/modules/wireguard/repository.ts': {
    findPeer: read((tx, t, f) => wireguard.findPeer(tx, t, f.peerId)),
    nameTaken: read((tx, t, f) => wireguard.nameTaken(tx, t, f.peerName), isTrue),
    listPeers: read((tx, t) => wireguard.listPeers(tx, t, { skip: 0, limit: 100, includeRevoked: true })),
    listUserPeers: read((tx, t, f) => wireguard.listUserPeers(tx, t, f.memberId)),
    countPeers: read(
      (tx, t) => wireguard.countPeers(tx, t),
      (r) => (r as { total: number }).total > 0,
    ),
    lowestFreeOffset: {
      kind: 'no-rows',
      run: (tx) => wireguard.lowestFreeOffset(tx, parsePool('10.99.0.0/24')),
      why: 'the address pool is shared by design: a SECURITY DEFINER function answers an offset, never whose',
    },
    countAddressHolders: read((tx, t) => wireguard.countAddressHolders(tx, t), positive),
    insertPeer: write((tx, t) =>
      wireguard.insertPeer(tx, t, {
        name: `p-${hex(4)}`,
        publicKey: randomBytes(32).toString('base64'),
        assignedIp: `10.98.${randomBytes(1)[0]}.${1 + (randomBytes(1)[0]! % 250)}`,
        peerType: 'client',
      }),
    ),
    updatePeer: write((tx, t, f) => wireguard.updatePeer(tx, t, f.peerId, { description: 'contract' })),
    revokePeer: write((tx, t, f) => wireguard.revokePeer(tx, t, f.peerId)),
    deletePeer: write((tx, t, f) => wireguard.deletePeer(tx, t, f.peerId)),
    revokeActiveUserPeers: write((tx, t, f) => wireguard.revokeActiveUserPeers(tx, t, f.memberId)),
    revokeUserPeers: write((tx, t, f) => wireguard.revokeUserPeers(tx, t, f.memberId)),
    findServer: {
      kind: 'global',
      run: (tx) => wireguard.findServer(tx, 'wg0'),
      inTenant: 'refused',
      why: 'gateway identity (withSystem)',
    },
    insertServerIfAbsent: {
      kind: 'global',
      run: (tx) => wireguard.insertServerIfAbsent(tx, `c${hex(3)}`, hex(16), 'enc:x'),
      inTenant: 'refused',
      why: 'gateway identity (withSystem)',
    },
    allPeersForAgent: {
      kind: 'system-read',
      run: (tx) => wireguard.allPeersForAgent(tx),
      why: 'the agent configures one interface for every tenant (withSystem)',
    },
    managedKeys: {
      kind: 'global',
      run: (tx) => wireguard.managedKeys(tx, 'wg0'),
      inTenant: 'refused',
      why: 'agent bookkeeping (withSystem)',
    },
    markManaged: {
      kind: 'global',
      run: (tx, f) => wireguard.markManaged(tx, 'wg0', f.peerPublicKey),
      inTenant: 'refused',
      why: 'agent bookkeeping (withSystem)',
    },
    unmarkManaged: {
      kind: 'global',
      run: (tx, f) => wireguard.unmarkManaged(tx, 'wg0', f.peerPublicKey),
      inTenant: 'refused',
      why: 'agent bookkeeping (withSystem)',
    },
    recordStats: {
      kind: 'system-write',
      run: (tx, f) =>
        wireguard.recordStats(tx, f.peerPublicKey, {
          lastHandshakeAt: new Date(),
          rxBytes: 12_345,
          txBytes: 678,
          endpoint: '198.51.100.7:51820',
        }),
      why: 'the agent records statistics of every tenant by public key (withSystem)',
    },
  },
  // Not a module repository, but SQL on tenant tables that every module's audit goes through.
  'src/platform/audit/pii.ts': {
    isPiiRef: { kind: 'pure', why: 'string check' },
    extractPii: { kind: 'pure', why: 'metadata rewrite' },
    collectRefs: { kind: 'pure', why: 'metadata walk' },
    rehydrate: { kind: 'pure', why: 'metadata rewrite' },
    storePii: write((tx, t, f) =>
      pii.storePii(tx, t, f.memberId, [{ ref: `pii:${hex(12)}`, kind: 'email', value: 'x@y.test' }]),
    ),
    lookupPii: read((tx, t, f) => pii.lookupPii(tx, t, [f.piiRef])),
    piiValuesOf: read(
      (tx, t, f) => pii.piiValuesOf(tx, t, f.memberId, [f.memberEmail]),
      (r, f) => Array.isArray(r) && r.includes(f.memberEmail),
    ),
    erasePii: write((tx, t, f) => pii.erasePii(tx, t, f.memberId, [f.memberEmail])),
  },
  'src/platform/audit/writer.ts': {
    writeAudit: write((tx, t) =>
      auditWriter.writeAudit(tx, t, SYSTEM_AUDIT_CONTEXT, { eventType: 'contract.probe' }),
    ),
  },
};

/** The repositories the contract imports, by path (the completeness test compares them with the files). */
const MODULES: Record<string, Record<string, unknown>> = {
  'src/modules/users/repository.ts': users,
  'src/modules/sessions/repository.ts': sessions,
  'src/modules/tenants/repository.ts': tenants,
  'src/modules/rbac/repository.ts': rbac,
  'src/modules/mfa/repository.ts': mfa,
  'src/modules/api-keys/repository.ts': apiKeys,
  'src/modules/audit/repository.ts': audit,
  'src/modules/features/repository.ts': features,
  'src/modules/password-reset/repository.ts': passwordReset,
  'src/modules/invitations/repository.ts': invitations,
  'src/modules/scim/repository.ts': scim,
  'src/modules/webhooks/repository.ts': webhooks,
  'src/modules/oidc-clients/repository.ts': oidcClients,
  'src/modules/oidc-provider/repository.ts': oidcProvider,
  'src/modules/sso/repository.ts': sso,
  'src/modules/sso/social/repository.ts': social,
  'src/modules/wireguard/repository.ts': wireguard,
  'src/platform/audit/pii.ts': pii,
  'src/platform/audit/writer.ts': auditWriter,
};

// ---------------------------------------------------------------------------------------------------------------
// Running a case.

/** Does the value show anything of tenant A: a row of A (tenantId), or a string only A's data holds? */
function leaks(value: unknown, f: Fx): boolean {
  const seen = new Set<unknown>();
  const walk = (v: unknown): boolean => {
    if (typeof v === 'string') return f.markers.some((m) => v.includes(m));
    if (v === null || typeof v !== 'object' || seen.has(v)) return false;
    seen.add(v);
    if (v instanceof Date) return false;
    if (v instanceof Map) return [...v.entries()].some(([k, x]) => walk(k) || walk(x));
    if (v instanceof Set || Array.isArray(v)) return [...v].some(walk);
    const o = v as Record<string, unknown>;
    if (o.tenantId === f.a || o.tenant_id === f.a) return true;
    return Object.values(o).some(walk);
  };
  return walk(value);
}

/** A row of tenant A in a write's return value (an echo of A's ids given as input is not a leak). */
function returnsRowOfA(value: unknown, f: Fx): boolean {
  const walk = (v: unknown): boolean => {
    if (v === null || typeof v !== 'object' || v instanceof Date) return false;
    if (v instanceof Map) return [...v.values()].some(walk);
    if (Array.isArray(v)) return v.some(walk);
    const o = v as Record<string, unknown>;
    if (o.tenantId === f.a || o.tenant_id === f.a) return true;
    return Object.values(o).some(walk);
  };
  return walk(value);
}

let tables: { name: string; column: string }[] = [];
let baseline: Record<string, string> = {};

/** Every row of tenant A in every tenant table, as the executor sees them (its own uncommitted writes too). */
async function snapshotA(tx: Tx): Promise<Record<string, string>> {
  const cols = tables.map(
    (t) =>
      `(select coalesce(json_agg(x order by x::text), '[]'::json)::text from "${t.name}" x where x."${t.column}" = ${fx.a}) as "${t.name}"`,
  );
  const r = await tx.execute<Record<string, string>>(sql.raw(`select ${cols.join(', ')}`));
  return r.rows[0]!;
}

function changedTables(snap: Record<string, string>): string[] {
  return tables.map((t) => t.name).filter((n) => snap[n] !== baseline[n]);
}

const ROLLBACK = new Error('contract rollback');

/**
 * Runs fn in a transaction that is always rolled back; after fn, the transaction leaves the app role (RESET
 * ROLE: the test connects as a superuser) and takes A's snapshot, which includes fn's uncommitted writes.
 */
async function attempt(
  where: { tenant: number } | 'system',
  fn: (tx: Tx) => Promise<unknown>,
): Promise<{ ok: true; value: unknown; changed: string[] } | { ok: false; error: unknown }> {
  let out: { value: unknown; changed: string[] } | undefined;
  const body = async (tx: Tx) => {
    const value = await fn(tx);
    await tx.execute(sql`reset role`);
    out = { value, changed: changedTables(await snapshotA(tx)) };
    throw ROLLBACK;
  };
  try {
    if (where === 'system') await app.ctx.database.withSystem(body);
    else await app.ctx.database.withTenant(where.tenant, body);
  } catch (err) {
    if (err !== ROLLBACK) return { ok: false, error: err };
  }
  return { ok: true, ...out! };
}

/** The PostgreSQL SQLSTATE of a (drizzle-wrapped) driver error. */
function sqlState(err: unknown): string | undefined {
  let e = err as { code?: unknown; cause?: unknown } | undefined;
  for (let i = 0; e && i < 4; i++) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
    e = e.cause as typeof e;
  }
  return undefined;
}

function describeError(err: unknown): string {
  const e = err as Error & { cause?: Error };
  return `${sqlState(err) ?? 'no SQLSTATE'} ${e.cause?.message ?? e.message}`;
}

/**
 * A refusal by the database: RLS or privileges (42501), or an integrity constraint (class 23, e.g. a foreign
 * key that pairs tenant_id with the id). Anything else (a TypeError, a syntax error) is a broken case.
 */
function isRefusal(err: unknown): boolean {
  const code = sqlState(err);
  return code === '42501' || code?.startsWith('23') === true;
}

/** From B: refused, or ran without changing any row of A and without returning one. */
async function expectHarmlessWrite(label: string, tenantArg: number, run: Run) {
  const r = await attempt({ tenant: fx.b }, (tx) => run(tx, tenantArg, fx));
  if (!r.ok) {
    expect(isRefusal(r.error), `${label}: unexpected error ${describeError(r.error)}`).toBe(true);
    return;
  }
  expect(r.changed, `${label}: changed tenant A's rows in`).toEqual([]);
  expect(returnsRowOfA(r.value, fx), `${label}: returned a row of tenant A`).toBe(false);
}

async function expectNothingFound(label: string, tenantArg: number, run: Run, found: Found) {
  const r = await attempt({ tenant: fx.b }, (tx) => run(tx, tenantArg, fx));
  if (!r.ok) throw new Error(`${label}: ${describeError(r.error)}`);
  expect(found(r.value, fx), `${label}: found tenant A's data: ${safeJson(r.value)}`).toBe(false);
  expect(r.changed, `${label}: a read changed tenant A's rows`).toEqual([]);
  if (app.ctx.database.kind === 'postgres') {
    // readTenant pipelines the RLS context with the statements (another code path on PostgreSQL).
    const piped = await app.ctx.database.readTenant(fx.b, (tx) => run(tx, tenantArg, fx));
    expect(found(piped, fx), `${label} (readTenant): found tenant A's data: ${safeJson(piped)}`).toBe(false);
  }
}

function safeJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    x instanceof Map ? Object.fromEntries(x) : typeof x === 'bigint' ? String(x) : x,
  ).slice(0, 400);
}

async function runCase(name: string, c: Case) {
  const f = fx;
  switch (c.kind) {
    case 'pure':
      return;
    case 'read': {
      const found = c.found ?? leaks;
      const control = await attempt({ tenant: f.a }, (tx) => c.run(tx, f.a, f));
      if (!control.ok) throw new Error(`${name} control: ${describeError(control.error)}`);
      expect(
        found(control.value, f),
        `${name}: the control (in A) finds nothing; the case proves nothing`,
      ).toBe(true);
      await expectNothingFound(`${name} from B (tenantId B)`, f.b, c.run, found);
      await expectNothingFound(`${name} from B with tenantId A (RLS alone)`, f.a, c.run, found);
      return;
    }
    case 'write': {
      const control = await attempt(c.controlIn === 'system' ? 'system' : { tenant: f.a }, (tx) =>
        c.run(tx, f.a, f),
      );
      if (!control.ok) throw new Error(`${name} control: ${describeError(control.error)}`);
      if (c.control !== 'succeeds')
        expect(control.changed.length, `${name}: the control (in A) changes nothing of A`).toBeGreaterThan(0);
      await expectHarmlessWrite(`${name} from B (tenantId B)`, f.b, c.run);
      await expectHarmlessWrite(`${name} from B with tenantId A (RLS alone)`, f.a, c.run);
      return;
    }
    case 'system-read': {
      const found = c.found ?? leaks;
      const control = await attempt('system', (tx) => c.run(tx, f));
      if (!control.ok) throw new Error(`${name} control: ${describeError(control.error)}`);
      expect(found(control.value, f), `${name}: the control (system) finds nothing of A`).toBe(true);
      await expectNothingFound(`${name} in B's transaction (RLS alone)`, f.b, (tx) => c.run(tx, f), found);
      return;
    }
    case 'system-write': {
      const control = await attempt('system', (tx) => c.run(tx, f));
      if (!control.ok) throw new Error(`${name} control: ${describeError(control.error)}`);
      await expectHarmlessWrite(`${name} in B's transaction (RLS alone)`, f.b, (tx) => c.run(tx, f));
      return;
    }
    case 'global': {
      const r = await attempt({ tenant: f.b }, (tx) => c.run(tx, f));
      if (c.inTenant === 'refused') {
        expect(r.ok, `${name}: a tenant transaction may not touch this global table`).toBe(false);
        if (!r.ok) expect(sqlState(r.error), `${name}: ${describeError(r.error)}`).toBe('42501');
      } else {
        if (!r.ok) throw new Error(`${name}: ${describeError(r.error)}`);
        expect(leaks(r.value, f), `${name}: returned tenant data`).toBe(false);
      }
      return;
    }
    case 'no-rows': {
      for (const t of [f.b, f.a]) {
        const r = await attempt({ tenant: f.b }, (tx) => c.run(tx, t, f));
        if (!r.ok) throw new Error(`${name}: ${describeError(r.error)}`);
        expect(r.changed, `${name}: changed tenant A's rows`).toEqual([]);
        expect(leaks(r.value, f), `${name}: returned tenant A's data`).toBe(false);
      }
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------

beforeAll(async () => {
  app = await createTestApp();
  fx = await seed();
  tables = await app.ctx.database.withSystem((tx) => tenantTables(tx));
  baseline = await app.ctx.database.withSystem((tx) => snapshotA(tx));
}, 120_000);
afterAll(async () => {
  await app?.close();
});

const ROOT = path.resolve(import.meta.dirname, '../..');

function repositoryFiles(dir = path.join(ROOT, 'src/modules')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? repositoryFiles(path.join(dir, e.name))
      : e.name === 'repository.ts'
        ? [path.relative(ROOT, path.join(dir, e.name)).split(path.sep).join('/')]
        : [],
  );
}

describe('the cross-tenant contract covers every repository function', () => {
  it('every src/modules/**/repository.ts has a contract', () => {
    const missing = repositoryFiles().filter((p) => !CONTRACT[p]);
    expect(missing, `repositories without a cross-tenant contract (add them to CONTRACT)`).toEqual([]);
  });

  it('every exported function has a case, and every case an exported function', () => {
    const problems: string[] = [];
    for (const [file, mod] of Object.entries(MODULES)) {
      const exported = Object.entries(mod)
        .filter(([, v]) => typeof v === 'function')
        .map(([k]) => k);
      const cases = CONTRACT[file] ?? {};
      for (const fn of exported)
        if (!cases[fn])
          problems.push(
            `${file} exports ${fn} with no cross-tenant case: add it to CONTRACT in tests/integration/tenant-isolation.contract.test.ts`,
          );
      for (const fn of Object.keys(cases))
        if (!exported.includes(fn)) problems.push(`${file}: CONTRACT lists ${fn}, which it does not export`);
    }
    for (const file of Object.keys(CONTRACT))
      if (!MODULES[file]) problems.push(`${file}: not imported in MODULES`);
    expect(problems, problems.join('\n')).toEqual([]);
  });
});

for (const [file, cases] of Object.entries(CONTRACT)) {
  describe(`${file}, on another tenant`, () => {
    for (const [name, c] of Object.entries(cases)) {
      if (c.kind === 'pure') continue;
      const what = {
        read: 'finds nothing of A from B, scoped and with a wrong tenant filter',
        write: "changes none of A's rows from B, scoped and with a wrong tenant filter",
        'system-read': "sees nothing of A inside B's transaction",
        'system-write': "changes none of A's rows inside B's transaction",
        global:
          c.kind === 'global' && c.inTenant === 'refused'
            ? 'is refused in a tenant transaction'
            : 'reads only global rows',
        'no-rows': 'touches and returns nothing of A from B',
      }[c.kind];
      it(`${name} ${what}`, () => runCase(name, c));
    }
  });
}

describe('every tenant table from the catalogue, with raw SQL in B', () => {
  it('the fixture puts a row of tenant A in every tenant table (otherwise the checks below prove nothing)', () => {
    const empty = tables.filter((t) => baseline[t.name] === '[]').map((t) => t.name);
    expect(
      empty,
      'tenant tables with no row of tenant A: add one to seed() in tests/integration/tenant-isolation.contract.test.ts',
    ).toEqual([]);
  });

  it("select * inside withTenant(B) returns none of A's rows, with or without a filter, for every table", async () => {
    const leaked: string[] = [];
    for (const t of tables) {
      // No filter but "not mine": with RLS, nothing at all; and the forgotten-filter case aimed at A.
      for (const q of [
        `select count(*)::int as n from "${t.name}" where "${t.column}" is distinct from ${fx.b}`,
        `select count(*)::int as n from "${t.name}" where "${t.column}" = ${fx.a}`,
      ]) {
        const count = async (tx: Tx) => Number((await tx.execute<{ n: number }>(sql.raw(q))).rows[0]!.n);
        const n = await app.ctx.database.withTenant(fx.b, count);
        if (n !== 0) leaked.push(`${t.name}: ${n} row(s) of another tenant visible to B (${q})`);
        if (app.ctx.database.kind === 'postgres') {
          // readTenant pipelines the RLS context with the statement: another code path on PostgreSQL.
          const piped = await app.ctx.database.readTenant(fx.b, count);
          if (piped !== 0)
            leaked.push(`${t.name}: ${piped} row(s) of another tenant visible through readTenant (${q})`);
        }
      }
    }
    expect(leaked, leaked.join('\n')).toEqual([]);
  });

  it("update and delete of A's rows inside withTenant(B) touch nothing, for every table", async () => {
    const touched: string[] = [];
    for (const t of tables) {
      for (const stmt of [
        `update "${t.name}" set "${t.column}" = "${t.column}" where "${t.column}" = ${fx.a} returning 1`,
        `update "${t.name}" set "${t.column}" = ${fx.b} returning 1`,
        `delete from "${t.name}" where "${t.column}" = ${fx.a} returning 1`,
      ]) {
        const r = await attempt({ tenant: fx.b }, (tx) => tx.execute(sql.raw(stmt)));
        if (!r.ok) {
          // The app role may lack the privilege (audit_log: append-only) or a trigger refuses: nothing ran.
          if (!isRefusal(r.error) && !/append-only/.test(describeError(r.error)))
            touched.push(`${t.name}: ${stmt}: unexpected ${describeError(r.error)}`);
          continue;
        }
        if (r.changed.length) touched.push(`${t.name}: ${stmt} changed A's rows in ${r.changed.join(', ')}`);
      }
    }
    expect(touched, touched.join('\n')).toEqual([]);
  });

  it("a copy of one of A's rows, inserted inside withTenant(B), is refused, for every table", async () => {
    const accepted: string[] = [];
    for (const t of tables) {
      const row = await app.ctx.database.withSystem(async (tx) => {
        const r = await tx.execute<{ j: unknown }>(
          sql.raw(
            `select row_to_json(x)::text as j from "${t.name}" x where x."${t.column}" = ${fx.a} limit 1`,
          ),
        );
        return r.rows[0]?.j as string | undefined;
      });
      if (!row) continue; // reported by the fixture test above
      const r = await attempt({ tenant: fx.b }, (tx) =>
        tx.execute(
          sql`insert into ${sql.identifier(t.name)} overriding system value select * from json_populate_record(null::${sql.identifier(t.name)}, ${row}::json)`,
        ),
      );
      if (r.ok) accepted.push(`${t.name}: a row of tenant A was inserted from B`);
      else if (sqlState(r.error) !== '42501')
        accepted.push(`${t.name}: refused, but not by RLS or privileges: ${describeError(r.error)}`);
    }
    expect(accepted, accepted.join('\n')).toEqual([]);
  });
});
