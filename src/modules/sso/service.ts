/**
 * SSO connections and their domains (API.md §17): CRUD by tenant admins (`sso.read` / `sso.write`), every change
 * audited in its transaction; DNS TXT verification of domains, or a platform operator's word; discovery by email
 * domain; the SP-initiated authorize step every protocol shares. The OIDC client secret is sealed at rest
 * (SecretBox, AAD naming the row) and never returned.
 */

import { randomBytes, randomUUID } from 'node:crypto';
import { writeAudit } from '../../platform/audit/writer.js';
import type { SignInVia } from '../../platform/context.js';
import type { Executor } from '../../platform/db/client.js';
import { pgErrorOf } from '../../platform/db/errors.js';
import { type AppError, notFound, platformErrors, validationError } from '../../platform/http/errors.js';
import { canGrant, resolveRolePermissions, roleIdByCode } from '../rbac/index.js';
import { isPlatformTenant } from '../tenants/index.js';
import { editorRecord, type SsoEditor } from './ceiling.js';
import { newTestResultId, testResultPageOf } from './connection-test.js';
import type { SsoDeps } from './deps.js';
import { verifyDomainTxt } from './dns.js';
import { ssoError } from './errors.js';
import { assertFetchable } from './fetchable.js';
import { type FlowState, flowFor, type LinkTarget, newState, saveFlowState } from './flows.js';
import * as repo from './repository.js';
import { endNonSsoSessions, publishEnded, ssoRequirementSwitchedOn } from './required.js';
import { acsUrlOf, certificateFingerprint, metadataUrlOf } from './saml/service-provider.js';
import type { ConnectionReadT, CreateConnection, UpdateConnection } from './schemas.js';
import type { ConnectionRow, DomainRow, NewConnection } from './tables.js';

/**
 * The OIDC callbacks' common prefix. Each connection has its own callback, this path + `/{connection id}`: the
 * connection that redeems a code is named by where the identity provider sent it, never by the state alone, so
 * an answer of one IdP can never be handed to another connection (IdP mix-up, RFC 9700 §4.4; issue 18).
 */
export const OIDC_CALLBACK_PATH = '/api/v1/sso/oidc/callback';
/** A connection's redirect URI at its identity provider (sent on the authorization and the token requests). */
export const oidcCallbackUrl = (publicUrl: string, connectionId: string) =>
  `${publicUrl}${OIDC_CALLBACK_PATH}/${connectionId}`;
/** Where the identity provider posts SAML responses, and where a connection's SP metadata is (API.md §17). */
export const VERIFY_RECORD_PREFIX = '_massacorp-verify';

/** The AAD the OIDC client secret is sealed with (also src/cli/keys.ts, for key rotation). */
export const oidcSecretAad = (connectionId: string) => `sso:oidc-secret:${connectionId}`;

/**
 * Who manages connections: the RBAC actor of the request (rbac's actorOf), plus the role of a tenant-owned API
 * key (the grant ceiling of ./ceiling.ts re-reads it at sign-in).
 */
export type SsoActor = SsoEditor;

function domainConflict(err: unknown): AppError | null {
  const pg = pgErrorOf(err);
  if (pg?.code !== '23505') return null;
  if (pg.constraint === 'sso_domains_verified_key') return ssoError('SSO_DOMAIN_TAKEN');
  if (pg.constraint === 'sso_domains_tenant_domain_key')
    return platformErrors.error('ALREADY_EXISTS', { field: 'domain' });
  if (pg.constraint === 'sso_connections_tenant_name_key')
    return platformErrors.error('ALREADY_EXISTS', { field: 'name' });
  return null;
}

const normaliseDomain = (d: string) => d.trim().toLowerCase().replace(/\.$/, '');

// ---- serialisation ----

function domainRead(d: DomainRow) {
  return {
    domain: d.domain,
    verified: d.verifiedAt !== null,
    verified_at: d.verifiedAt?.toISOString() ?? null,
    txt_record_name: `${VERIFY_RECORD_PREFIX}.${d.domain}`,
    created_at: d.createdAt.toISOString(),
  };
}

/** A connection's settings in their wire form: what the API answers and what the audit records both show. */
function settingsOf(c: ConnectionRow) {
  return {
    type: c.type,
    name: c.name,
    enabled: c.enabled,
    default_role: c.defaultRole,
    jit_provisioning: c.jitProvisioning,
    sso_required: c.ssoRequired,
    trust_mfa: c.trustMfa,
    redirect_uris: c.redirectUris,
  };
}

export function connectionRead(ctx: SsoDeps, c: ConnectionRow, domains: DomainRow[]): ConnectionReadT {
  return {
    id: c.id,
    ...settingsOf(c),
    domains: domains.filter((d) => d.connectionId === c.id).map(domainRead),
    domain_token: c.domainToken,
    oidc:
      c.type === 'oidc'
        ? {
            issuer: c.oidcIssuer ?? '',
            client_id: c.oidcClientId ?? '',
            has_client_secret: c.oidcClientSecretSealed !== null,
            callback_url: oidcCallbackUrl(ctx.config.publicUrl, c.id),
          }
        : null,
    saml:
      c.type === 'saml'
        ? {
            idp_entity_id: c.samlIdpEntityId,
            idp_sso_url: c.samlIdpSsoUrl,
            idp_certificate: c.samlIdpCertificate,
            idp_certificate_next: c.samlIdpCertificateNext,
            idp_metadata_url: c.samlIdpMetadataUrl,
            attribute_map: c.samlAttributeMap,
            sp_entity_id: c.samlSpEntityId,
            acs_url: acsUrlOf(ctx.config.publicUrl),
            metadata_url: metadataUrlOf(ctx.config.publicUrl, c.id),
          }
        : null,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}

/** The audit view of a connection: no secret, only whether there is one. */
function auditView(c: ConnectionRow) {
  return {
    ...settingsOf(c),
    oidc_issuer: c.oidcIssuer,
    oidc_client_id: c.oidcClientId,
    has_client_secret: c.oidcClientSecretSealed !== null,
    saml_idp_entity_id: c.samlIdpEntityId,
    saml_idp_sso_url: c.samlIdpSsoUrl,
    saml_sp_entity_id: c.samlSpEntityId,
    saml_idp_metadata_url: c.samlIdpMetadataUrl,
    saml_attribute_map: c.samlAttributeMap,
    // Certificates are public, but long: the audit says which ones are pinned by their SHA-256.
    saml_idp_certificates: [c.samlIdpCertificate, c.samlIdpCertificateNext]
      .filter((pem): pem is string => !!pem)
      .map(certificateFingerprint),
  };
}

// ---- validation ----

/**
 * A redirect_uri where a one-time code may be sent: https, or http to a loopback host (native and development
 * clients, RFC 8252); no fragment, no credentials. Compared exactly at authorize time.
 */
function assertRedirectUri(uri: string, field: string): void {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw validationError(field, 'not an absolute URL', 'value_error.url');
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
  if (!(u.protocol === 'https:' || (u.protocol === 'http:' && loopback)))
    throw validationError(field, 'must be https (http only to a loopback host)', 'value_error.url');
  if (u.hash || u.username || u.password)
    throw validationError(field, 'must not carry a fragment or credentials', 'value_error.url');
}

/**
 * default_role must be a role of the tenant, and one the actor could grant (no escalation through JIT). Runs
 * before the change's transaction: the role's permissions are resolved in a transaction of their own.
 */
async function assertDefaultRole(ctx: SsoDeps, actor: SsoActor, code: string): Promise<void> {
  // An identity provider never makes owners: ownership is handed over by an owner, never provisioned.
  if (code === 'owner')
    throw validationError('body.default_role', 'owner cannot be a default role', 'value_error');
  const { roleId, platform } = await ctx.database.withTenant(actor.tenantId, async (tx) => ({
    roleId: await roleIdByCode(tx, actor.tenantId, code),
    platform: await isPlatformTenant(tx, actor.tenantId),
  }));
  if (!roleId) throw validationError('body.default_role', 'unknown role code', 'not_found');
  const perms = await resolveRolePermissions(ctx, actor.tenantId, roleId);
  const missing = [...perms].filter((p) => !canGrant(actor.permissions, p, platform));
  if (missing.length > 0)
    throw platformErrors.error('PERMISSION_DENIED', {
      reason: 'default_role grants what you do not hold',
      missing,
    });
}

function assertAbsoluteUrl(url: string, field: string): void {
  try {
    new URL(url);
  } catch {
    throw validationError(field, 'not an absolute URL', 'value_error.url');
  }
}

function validateProtocolFields(
  ctx: SsoDeps,
  type: ConnectionRow['type'],
  body: CreateConnection | UpdateConnection,
) {
  if (type === 'oidc' && body.saml !== undefined)
    throw validationError('body.saml', 'not allowed on an oidc connection', 'value_error');
  if (type === 'saml' && body.oidc !== undefined)
    throw validationError('body.oidc', 'not allowed on a saml connection', 'value_error');
  if (body.oidc?.issuer !== undefined) assertFetchable(ctx, body.oidc.issuer, 'body.oidc.issuer');
  if (body.saml?.idp_sso_url !== undefined) assertAbsoluteUrl(body.saml.idp_sso_url, 'body.saml.idp_sso_url');
  for (const [i, uri] of (body.redirect_uris ?? []).entries())
    assertRedirectUri(uri, `body.redirect_uris.${i}`);
  flowFor(type)?.validateConnection?.(ctx, body as Record<string, unknown>, type);
}

// ---- connections ----

export async function listConnections(ctx: SsoDeps, tenantId: number) {
  return ctx.database.withTenant(tenantId, async (tx) => {
    const rows = await repo.listConnections(tx, tenantId);
    const domains = await repo.domainsOf(
      tx,
      tenantId,
      rows.map((r) => r.id),
    );
    return { connections: rows.map((r) => connectionRead(ctx, r, domains)), total: rows.length };
  });
}

async function loadConnection(tx: Executor, tenantId: number, id: string, lock = false) {
  const row = lock
    ? await repo.lockConnection(tx, tenantId, id)
    : await repo.findConnection(tx, tenantId, id);
  if (!row) throw notFound('sso_connection');
  return row;
}

export async function getConnection(ctx: SsoDeps, tenantId: number, id: string) {
  return ctx.database.withTenant(tenantId, async (tx) => {
    const row = await loadConnection(tx, tenantId, id);
    return connectionRead(ctx, row, await repo.domainsOf(tx, tenantId, [id]));
  });
}

/** The body with what its protocol completes (SAML: the IdP's metadata, pasted or fetched), before any check. */
async function prepared<B extends CreateConnection | UpdateConnection>(
  ctx: SsoDeps,
  type: ConnectionRow['type'],
  body: B,
): Promise<B> {
  const flow = flowFor(type);
  return flow?.prepareConnection ? flow.prepareConnection(ctx, body) : body;
}

export async function createConnection(ctx: SsoDeps, actor: SsoActor, input: CreateConnection) {
  const body = await prepared(ctx, input.type, input);
  validateProtocolFields(ctx, body.type, body);
  if (body.type === 'saml')
    for (const field of ['idp_entity_id', 'idp_sso_url', 'idp_certificate'] as const)
      if (!body.saml?.[field])
        throw validationError(
          `body.saml.${field}`,
          'required (or give idp_metadata_xml or idp_metadata_url)',
          'missing',
        );
  if (body.type === 'oidc' && !body.oidc)
    throw validationError('body.oidc', 'required for an oidc connection', 'missing');
  if (body.type === 'saml' && !body.saml)
    throw validationError('body.saml', 'required for a saml connection', 'missing');
  const domains = [...new Set((body.domains ?? []).map(normaliseDomain))];
  await assertDefaultRole(ctx, actor, body.default_role ?? 'member');
  const id = randomUUID();
  const { tenantId } = actor;
  const ended: string[] = [];
  try {
    const created = await ctx.database.withTenant(tenantId, async (tx) => {
      const defaultRole = body.default_role ?? 'member';
      if (await repo.connectionNameTaken(tx, tenantId, body.name))
        throw platformErrors.error('ALREADY_EXISTS', { field: 'name' });
      const row = await repo.insertConnection(tx, {
        id,
        tenantId,
        type: body.type,
        name: body.name,
        enabled: body.enabled ?? true,
        defaultRole,
        jitProvisioning: body.jit_provisioning ?? true,
        ssoRequired: body.sso_required ?? false,
        trustMfa: body.trust_mfa ?? false,
        redirectUris: [...new Set(body.redirect_uris ?? [])],
        oidcIssuer: body.oidc?.issuer ?? null,
        oidcClientId: body.oidc?.client_id ?? null,
        oidcClientSecretSealed: body.oidc
          ? ctx.secretBox.encrypt(body.oidc.client_secret, oidcSecretAad(id))
          : null,
        samlIdpEntityId: body.saml?.idp_entity_id ?? null,
        samlIdpSsoUrl: body.saml?.idp_sso_url ?? null,
        samlIdpCertificate: body.saml?.idp_certificate ?? null,
        samlSpEntityId: body.saml?.sp_entity_id ?? null,
        samlIdpCertificateNext: body.saml?.idp_certificate_next ?? null,
        samlIdpMetadataUrl: body.saml?.idp_metadata_url ?? null,
        samlAttributeMap: body.saml?.attribute_map ?? null,
        domainToken: `massacorp-verify=${randomBytes(24).toString('base64url')}`,
        createdByUserId: actor.userId,
        // The grant ceiling: what this editor could grant bounds what the connection may give (./ceiling.ts).
        ...(await editorRecord(ctx, tx, actor, new Date())),
      });
      const domainRows: DomainRow[] = [];
      for (const d of domains) domainRows.push(await repo.insertDomain(tx, tenantId, id, d));
      await writeAudit(tx, tenantId, actor.audit, {
        eventType: 'sso.connection_created',
        resourceType: 'sso_connection',
        resourceId: id,
        metadata: { after: auditView(row), domains },
      });
      // Its domains are new, hence unverified: nothing ends yet; the rule is the same for every switch.
      if (ssoRequirementSwitchedOn(null, row))
        ended.push(...(await endNonSsoSessions(tx, tenantId, row, actor.audit, 'connection_created')));
      return connectionRead(ctx, row, domainRows);
    });
    await publishEnded(ctx, ended);
    return created;
  } catch (err) {
    throw domainConflict(err) ?? err;
  }
}

export async function updateConnection(ctx: SsoDeps, actor: SsoActor, id: string, input: UpdateConnection) {
  const { tenantId } = actor;
  // Only SAML connections take `saml` (checked below, with the connection's type); its metadata is read here,
  // outside the transaction, since it may be fetched.
  const body = input.saml !== undefined ? await prepared(ctx, 'saml', input) : input;
  if (body.default_role !== undefined) await assertDefaultRole(ctx, actor, body.default_role);
  const ended: string[] = [];
  try {
    const updated = await ctx.database.withTenant(tenantId, async (tx) => {
      const before = await loadConnection(tx, tenantId, id, true);
      validateProtocolFields(ctx, before.type, body);
      if (body.name !== undefined && (await repo.connectionNameTaken(tx, tenantId, body.name, id)))
        throw platformErrors.error('ALREADY_EXISTS', { field: 'name' });
      // Every edit makes its author the connection's last editor: the grant ceiling follows them (./ceiling.ts).
      const patch: Partial<NewConnection> = await editorRecord(ctx, tx, actor, new Date());
      if (body.name !== undefined) patch.name = body.name;
      if (body.enabled !== undefined) patch.enabled = body.enabled;
      if (body.default_role !== undefined) patch.defaultRole = body.default_role;
      if (body.jit_provisioning !== undefined) patch.jitProvisioning = body.jit_provisioning;
      if (body.sso_required !== undefined) patch.ssoRequired = body.sso_required;
      if (body.trust_mfa !== undefined) patch.trustMfa = body.trust_mfa;
      if (body.redirect_uris !== undefined) patch.redirectUris = [...new Set(body.redirect_uris)];
      if (body.oidc?.issuer !== undefined) patch.oidcIssuer = body.oidc.issuer;
      if (body.oidc?.client_id !== undefined) patch.oidcClientId = body.oidc.client_id;
      if (body.oidc?.client_secret !== undefined)
        patch.oidcClientSecretSealed = ctx.secretBox.encrypt(body.oidc.client_secret, oidcSecretAad(id));
      if (body.saml?.idp_entity_id !== undefined) patch.samlIdpEntityId = body.saml.idp_entity_id;
      if (body.saml?.idp_sso_url !== undefined) patch.samlIdpSsoUrl = body.saml.idp_sso_url;
      if (body.saml?.idp_certificate !== undefined) patch.samlIdpCertificate = body.saml.idp_certificate;
      if (body.saml?.sp_entity_id !== undefined) patch.samlSpEntityId = body.saml.sp_entity_id;
      if (body.saml?.idp_certificate_next !== undefined)
        patch.samlIdpCertificateNext = body.saml.idp_certificate_next;
      if (body.saml?.idp_metadata_url !== undefined) patch.samlIdpMetadataUrl = body.saml.idp_metadata_url;
      if (body.saml?.attribute_map !== undefined) patch.samlAttributeMap = body.saml.attribute_map;
      const after = await repo.updateConnection(tx, tenantId, id, patch);
      await writeAudit(tx, tenantId, actor.audit, {
        eventType: 'sso.connection_updated',
        resourceType: 'sso_connection',
        resourceId: id,
        metadata: {
          before: auditView(before),
          after: auditView(after),
          client_secret_changed: body.oidc?.client_secret !== undefined,
        },
      });
      if (ssoRequirementSwitchedOn(before, after))
        ended.push(...(await endNonSsoSessions(tx, tenantId, after, actor.audit, 'connection_updated')));
      return connectionRead(ctx, after, await repo.domainsOf(tx, tenantId, [id]));
    });
    await publishEnded(ctx, ended);
    return updated;
  } catch (err) {
    throw domainConflict(err) ?? err;
  }
}

export async function deleteConnection(ctx: SsoDeps, actor: SsoActor, id: string): Promise<void> {
  const { tenantId } = actor;
  await ctx.database.withTenant(tenantId, async (tx) => {
    const before = await loadConnection(tx, tenantId, id, true);
    const domains = await repo.domainsOf(tx, tenantId, [id]);
    await repo.deleteConnection(tx, tenantId, id);
    await writeAudit(tx, tenantId, actor.audit, {
      eventType: 'sso.connection_deleted',
      resourceType: 'sso_connection',
      resourceId: id,
      metadata: { before: auditView(before), domains: domains.map((d) => d.domain) },
    });
  });
}

/** The connection's OIDC client secret, unsealed (for the token endpoint only). */
export function openClientSecret(ctx: SsoDeps, c: ConnectionRow): string | null {
  return c.oidcClientSecretSealed
    ? ctx.secretBox.decrypt(c.oidcClientSecretSealed, oidcSecretAad(c.id))
    : null;
}

// ---- domains ----

export async function listDomains(ctx: SsoDeps, tenantId: number, id: string) {
  return ctx.database.withTenant(tenantId, async (tx) => {
    await loadConnection(tx, tenantId, id);
    return { domains: (await repo.domainsOf(tx, tenantId, [id])).map(domainRead) };
  });
}

export async function addDomain(ctx: SsoDeps, actor: SsoActor, id: string, raw: string) {
  const domain = normaliseDomain(raw);
  const { tenantId } = actor;
  try {
    return await ctx.database.withTenant(tenantId, async (tx) => {
      await loadConnection(tx, tenantId, id, true);
      if (await repo.findTenantDomain(tx, tenantId, domain))
        throw platformErrors.error('ALREADY_EXISTS', { field: 'domain' });
      const row = await repo.insertDomain(tx, tenantId, id, domain);
      await writeAudit(tx, tenantId, actor.audit, {
        eventType: 'sso.domain_added',
        resourceType: 'sso_connection',
        resourceId: id,
        metadata: { domain },
      });
      return domainRead(row);
    });
  } catch (err) {
    throw domainConflict(err) ?? err;
  }
}

export async function removeDomain(ctx: SsoDeps, actor: SsoActor, id: string, raw: string): Promise<void> {
  const domain = normaliseDomain(raw);
  const { tenantId } = actor;
  await ctx.database.withTenant(tenantId, async (tx) => {
    await loadConnection(tx, tenantId, id, true);
    if (!(await repo.deleteDomain(tx, tenantId, id, domain))) throw notFound('sso_domain');
    await writeAudit(tx, tenantId, actor.audit, {
      eventType: 'sso.domain_removed',
      resourceType: 'sso_connection',
      resourceId: id,
      metadata: { domain },
    });
  });
}

/**
 * Checks `_massacorp-verify.<domain>` TXT = the connection's domain_token, then marks the domain verified. A failed
 * check is audited, and thrown once its audit record has committed.
 */
export async function verifyDomain(ctx: SsoDeps, actor: SsoActor, id: string, raw: string) {
  const domain = normaliseDomain(raw);
  const { tenantId } = actor;
  const { connection, row } = await ctx.database.withTenant(tenantId, async (tx) => {
    const connection = await loadConnection(tx, tenantId, id);
    const row = await repo.findTenantDomain(tx, tenantId, domain);
    if (!row || row.connectionId !== id) throw notFound('sso_domain');
    return { connection, row };
  });
  if (row.verifiedAt) return domainRead(row);
  const check = await verifyDomainTxt(ctx, `${VERIFY_RECORD_PREFIX}.${domain}`, connection.domainToken);
  let verified: ReturnType<typeof domainRead> | null;
  const ended: string[] = [];
  try {
    verified = await ctx.database.withTenant(tenantId, async (tx) => {
      if (!check.ok) {
        await writeAudit(tx, tenantId, actor.audit, {
          eventType: 'sso.domain_verification_failed',
          success: false,
          resourceType: 'sso_connection',
          resourceId: id,
          metadata: { domain, reason: check.reason },
        });
        return null;
      }
      // Removed while its TXT record was being looked up: nothing left to verify.
      const marked = await repo.markDomainVerified(tx, tenantId, row.id, 'dns');
      if (!marked) throw notFound('sso_domain');
      await writeAudit(tx, tenantId, actor.audit, {
        eventType: 'sso.domain_verified',
        resourceType: 'sso_connection',
        resourceId: id,
        metadata: { domain, method: 'dns' },
      });
      // The connection as it is now (it may have changed during the DNS lookup).
      const now = await repo.findConnection(tx, tenantId, id);
      if (now)
        ended.push(...(await endNonSsoSessions(tx, tenantId, now, actor.audit, 'domain_verified', [domain])));
      return domainRead(marked);
    });
  } catch (err) {
    throw domainConflict(err) ?? err;
  }
  await publishEnded(ctx, ended);
  if (!verified)
    throw ssoError('SSO_DOMAIN_VERIFICATION_FAILED', { record: `${VERIFY_RECORD_PREFIX}.${domain}` });
  return verified;
}

/**
 * A platform operator marks a domain of any tenant's connection verified (no DNS). Audited in the domain's
 * tenant and in the operator's.
 */
export async function operatorVerifyDomain(
  ctx: SsoDeps,
  operator: SsoActor,
  connectionId: string,
  raw: string,
) {
  const domain = normaliseDomain(raw);
  const target = await ctx.database.withSystem((tx) => repo.findConnectionAnyTenant(tx, connectionId));
  if (!target) throw notFound('sso_connection');
  const ended: string[] = [];
  try {
    const result = await ctx.database.withTenant(target.tenantId, async (tx) => {
      const row = await repo.findTenantDomain(tx, target.tenantId, domain);
      if (!row || row.connectionId !== connectionId) throw notFound('sso_domain');
      if (row.verifiedAt) return domainRead(row);
      const verified = await repo.markDomainVerified(
        tx,
        target.tenantId,
        row.id,
        `operator:${operator.tenantId}:${operator.userId ?? 'key'}`,
      );
      if (!verified) throw notFound('sso_domain');
      await writeAudit(
        tx,
        target.tenantId,
        { ...operator.audit, actorType: 'system', actorId: null },
        {
          eventType: 'sso.domain_verified',
          resourceType: 'sso_connection',
          resourceId: connectionId,
          metadata: {
            domain,
            method: 'operator',
            operator_tenant_id: operator.tenantId,
            operator_user_id: operator.userId,
          },
        },
      );
      const now = await repo.findConnection(tx, target.tenantId, connectionId);
      if (now)
        ended.push(
          ...(await endNonSsoSessions(
            tx,
            target.tenantId,
            now,
            { ...operator.audit, actorType: 'system', actorId: null },
            'domain_verified',
            [domain],
          )),
        );
      return domainRead(verified);
    });
    await publishEnded(ctx, ended);
    if (target.tenantId !== operator.tenantId) {
      await ctx.database.withTenant(operator.tenantId, (tx) =>
        writeAudit(tx, operator.tenantId, operator.audit, {
          eventType: 'sso.operator_domain_verified',
          resourceType: 'sso_connection',
          resourceId: connectionId,
          metadata: { domain, tenant_id: target.tenantId },
        }),
      );
    }
    return result;
  } catch (err) {
    throw domainConflict(err) ?? err;
  }
}

// ---- discovery and authorize ----

/** The connection that serves an address: only a verified domain of an enabled connection (else 404). */
export async function discover(ctx: SsoDeps, email: string, tenantId: number | null) {
  const domain = normaliseDomain(email.slice(email.lastIndexOf('@') + 1));
  const route = await ctx.database.withSystem((tx) => repo.verifiedDomainRoute(tx, domain));
  if (!route || (tenantId !== null && route.tenantId !== tenantId))
    throw ssoError('SSO_CONNECTION_NOT_FOUND');
  return { connection_id: route.connectionId, type: route.type };
}

/** Whether discovery routes the address to an enabled connection of this tenant (an invitation's `sso`). */
export async function routesToConnection(
  ctx: Pick<SsoDeps, 'database'>,
  email: string,
  tenantId: number,
): Promise<boolean> {
  const domain = normaliseDomain(email.slice(email.lastIndexOf('@') + 1));
  const route = await ctx.database.withSystem((tx) => repo.verifiedDomainRoute(tx, domain));
  return route?.tenantId === tenantId;
}

/** The admin console's own SSO sign-in page, where it exchanges the one-time code (PUBLIC_URL/admin/sso/callback). */
export const consoleCallbackOf = (publicUrl: string) => `${publicUrl.replace(/\/+$/, '')}/admin/sso/callback`;

/**
 * Whether this authorize is the admin console's own sign-in, whose callback page every connection accepts without
 * an admin listing it in redirect_uris: the console is the product's first-party client on PUBLIC_URL (as
 * /admin/sso/{id}/test is for a connection test), and a tenant that requires SSO would otherwise lock its
 * administrators out of the console until someone added the URL. Only a sign-in (never link mode) bound to the
 * browser that started it: a PKCE S256 challenge (the code is useless without the verifier kept in that browser)
 * and the client's state (the page refuses a code it did not ask for), and only while the console is served.
 */
function consoleSignIn(ctx: SsoDeps, redirectUri: string, client: ClientBinding, link?: LinkTarget): boolean {
  return (
    ctx.config.adminConsole.enabled &&
    link === undefined &&
    client.codeChallenge !== undefined &&
    client.state !== undefined &&
    redirectUri === consoleCallbackOf(ctx.config.publicUrl)
  );
}

/** What the client application binds its flow with (authorize's optional state and PKCE S256 challenge). */
export interface ClientBinding {
  state?: string | undefined;
  codeChallenge?: string | undefined;
  codeChallengeMethod?: 'S256' | undefined;
}

/**
 * SP-initiated sign-in: the connection must be the tenant's, enabled, with a protocol registered, and the
 * redirect_uri in its allow-list (exact match). The flow state (single use) remembers the redirect_uri, and the
 * client's own state and code_challenge when given (the one-time code is then bound to that client).
 */
export async function authorize(
  ctx: SsoDeps,
  tenantId: number,
  connectionId: string,
  redirectUri: string,
  client: ClientBinding = {},
  /** Link mode: the signed-in caller the identity will be linked to. */
  link?: LinkTarget,
) {
  // RFC 7636 lets a missing method mean `plain`, which is refused: the method is required with the challenge,
  // and a method alone binds nothing.
  if (client.codeChallenge !== undefined && client.codeChallengeMethod === undefined)
    throw validationError(
      'querystring.code_challenge_method',
      'required with code_challenge (S256)',
      'missing',
    );
  if (client.codeChallengeMethod !== undefined && client.codeChallenge === undefined)
    throw validationError('querystring.code_challenge', 'required with code_challenge_method', 'missing');
  const connection = await ctx.database.withTenant(tenantId, (tx) =>
    loadConnection(tx, tenantId, connectionId),
  );
  if (!connection.enabled) throw ssoError('SSO_CONNECTION_DISABLED');
  if (!connection.redirectUris.includes(redirectUri) && !consoleSignIn(ctx, redirectUri, client, link))
    throw ssoError('SSO_REDIRECT_URI_INVALID');
  return startFlow(ctx, connection, redirectUri, {
    ...(client.state !== undefined ? { clientState: client.state } : {}),
    ...(client.codeChallenge !== undefined ? { codeChallenge: client.codeChallenge } : {}),
    ...(link ? { link } : {}),
  });
}

/** Sends the browser to the connection's IdP: the protocol's request, and the flow's single-use state. */
async function startFlow(
  ctx: SsoDeps,
  connection: ConnectionRow,
  redirectUri: string,
  extra: Pick<FlowState, 'clientState' | 'codeChallenge' | 'link' | 'test'>,
) {
  const flow = flowFor(connection.type);
  if (!flow) throw ssoError('SSO_FLOW_UNAVAILABLE', { type: connection.type });
  const { tenantId } = connection;
  const state = newState();
  const { authUrl, data } = await flow.authorize(ctx, { tenantId, connection, state, redirectUri });
  await saveFlowState(ctx, state, {
    tenantId,
    connectionId: connection.id,
    type: connection.type,
    redirectUri,
    data: data ?? {},
    createdAt: ctx.clock.now(),
    ...extra,
  });
  return { auth_url: authUrl, state };
}

/**
 * Starts a connection test (./connection-test.ts): a sign-in at the IdP, enabled connection or not, that ends on
 * the console's result page and signs nobody in. Audited.
 */
export async function startConnectionTest(ctx: SsoDeps, actor: SsoActor, connectionId: string) {
  const { tenantId } = actor;
  const connection = await ctx.database.withTenant(tenantId, async (tx) => {
    const row = await loadConnection(tx, tenantId, connectionId);
    await writeAudit(tx, tenantId, actor.audit, {
      eventType: 'sso.connection_test_started',
      resourceType: 'sso_connection',
      resourceId: connectionId,
    });
    return row;
  });
  return startFlow(ctx, connection, testResultPageOf(ctx.config.publicUrl, connectionId), {
    test: { resultId: newTestResultId() },
  });
}

/** Reads the IdP metadata again from the connection's idp_metadata_url and applies it (as a PATCH would). */
export async function refreshIdpMetadata(ctx: SsoDeps, actor: SsoActor, connectionId: string) {
  const row = await ctx.database.withTenant(actor.tenantId, (tx) =>
    loadConnection(tx, actor.tenantId, connectionId),
  );
  if (row.type !== 'saml' || !row.samlIdpMetadataUrl)
    throw validationError('saml.idp_metadata_url', 'the connection has no metadata URL to read', 'missing');
  return updateConnection(ctx, actor, connectionId, { saml: { idp_metadata_url: row.samlIdpMetadataUrl } });
}

/** A connection by id for a callback (the flow state named its tenant). */
export async function connectionForFlow(ctx: SsoDeps, tenantId: number, id: string) {
  return ctx.database.withTenant(tenantId, (tx) => repo.findConnection(tx, tenantId, id));
}

/** Whether `domain` is a verified domain of this connection (linking rule of §17). */
export async function domainVerifiedFor(
  tx: Executor,
  tenantId: number,
  connectionId: string,
  domain: string,
) {
  const row = await repo.findTenantDomain(tx, tenantId, normaliseDomain(domain));
  return row !== null && row.connectionId === connectionId && row.verifiedAt !== null;
}

/** The password sign-in refusal: the email's domain is verified for an enabled SSO-required connection. */
export async function ssoRequiredRefusal(
  tx: Executor,
  tenant: { id: number; isPlatform?: boolean },
  email: string,
) {
  if (tenant.isPlatform) return null;
  const domain = normaliseDomain(email.slice(email.lastIndexOf('@') + 1));
  const hit = await repo.requiredSsoForDomain(tx, tenant.id, domain);
  return hit ? { code: 'SSO_REQUIRED', status: 403, details: { connection_id: hit.connectionId } } : null;
}

/**
 * The signIn hook (every session opened or refreshed, whatever the path): ssoRequiredRefusal for the user's
 * address, unless the session comes through that very connection. Password, social login, another connection,
 * and sessions of unknown origin (older than drizzle/0016) are all refused in such a domain.
 */
export async function signInRefusal(
  tx: Executor,
  tenant: { id: number; isPlatform?: boolean },
  user: { email: string },
  via: SignInVia,
) {
  const refusal = await ssoRequiredRefusal(tx, tenant, user.email);
  if (!refusal) return null;
  if (via.method === 'sso' && via.ssoConnectionId === refusal.details.connection_id) return null;
  return refusal;
}
