/**
 * The OIDC client registry (API.md §22): register, read, change, delete a tenant's clients, rotate their
 * secrets. The protocol endpoints (next step) read these rows; every rule a client must satisfy to be usable
 * there is checked here, at registration, so a registered client is always a valid one.
 */
import { createPublicKey, randomBytes, timingSafeEqual } from 'node:crypto';
import { type AuditContext, writeAudit } from '../../platform/audit/writer.js';
import { sha256Hex } from '../../platform/crypto/tokens.js';
import type { Executor } from '../../platform/db/client.js';
import { parseTimeIdCursor, timeIdPage } from '../../platform/http/cursor.js';
import { notFound, platformErrors, validationError } from '../../platform/http/errors.js';
import { checkUrl, SsrfError } from '../../platform/net/ssrf.js';
import { canGrant, expandPermission, isKnownPermission, PLATFORM_ONLY } from '../rbac/index.js';
import { isPlatformTenant } from '../tenants/index.js';
import { type AuthMethod, type ClientType, type GrantType, SECRET_METHODS } from './catalogue.js';
import type { OidcClientsDeps } from './deps.js';
import { oidcClientsErrors } from './errors.js';
import { canUseMachineTokens, publishClientState } from './machine-tokens.js';
import * as repo from './repository.js';

export interface Actor {
  tenantId: number;
  userId: number | null;
  /** The caller's effective permissions: a client's permissions are bounded by them. */
  permissions: ReadonlySet<string>;
  audit: AuditContext;
}

type Jwks = { keys: Record<string, unknown>[] };

/** The settings of a client, as a creation or a change gives them (absent: unchanged, or the default). */
export interface ClientSettings {
  name?: string;
  redirect_uris?: string[];
  post_logout_redirect_uris?: string[];
  backchannel_logout_uri?: string | null;
  subject_type?: 'public' | 'pairwise';
  grant_types?: GrantType[];
  token_endpoint_auth_method?: AuthMethod;
  jwks?: Jwks | null;
  jwks_uri?: string | null;
  allowed_scopes?: string[];
  first_party?: boolean;
  permissions?: string[];
  id_token_signed_response_alg?: 'RS256' | 'EdDSA' | 'ES256';
  enabled?: boolean;
}

/** The public identifier: 128 random bits, base64url. */
export const newClientId = () => `mc_${randomBytes(16).toString('base64url')}`;
/** The secret: 256 random bits, base64url, with a prefix the log redaction recognises (index.ts). */
export const newClientSecret = () => `mcs_${randomBytes(32).toString('base64url')}`;
/** Stored like an API key's: SHA-256 of a high-entropy secret (see drizzle/0040). */
export const hashClientSecret = (secret: string) => sha256Hex(secret);

// --- validation ---

/** Loopback hosts a native app's redirect may use over plain http (RFC 8252 §7.3), any port. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * A redirect URI is compared as an exact string at the authorization endpoint, so what is registered is that
 * string, as given: absolute, https (http only to loopback), no fragment (RFC 6749 §3.1.2), no wildcard, no
 * credentials, no whitespace.
 */
function assertRedirectUris(field: string, uris: readonly string[]): void {
  for (const raw of uris) {
    const refuse = (why: string) => validationError(field, `${why}: ${raw}`, 'value_error.redirect_uri');
    if (/[\s*]/.test(raw)) throw refuse('no whitespace or wildcard');
    if (raw.includes('#')) throw refuse('no fragment');
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw refuse('not an absolute URL');
    }
    if (u.username || u.password) throw refuse('no credentials in the URL');
    if (u.protocol === 'https:') continue;
    if (u.protocol === 'http:' && LOOPBACK_HOSTS.has(u.hostname)) continue;
    throw refuse('https, or http only to localhost, 127.0.0.1 or [::1]');
  }
}

/** Public keys only, each one node can parse (its own JWK importer: no key handling of ours). */
function assertJwks(jwks: Jwks): void {
  for (const [i, jwk] of jwks.keys.entries()) {
    const field = `body.jwks.keys.${i}`;
    if ('d' in jwk || 'k' in jwk || 'p' in jwk)
      throw validationError(
        field,
        'a public key only (no private or symmetric key material)',
        'value_error.jwk',
      );
    if (typeof jwk.kty !== 'string' || !['RSA', 'EC', 'OKP'].includes(jwk.kty))
      throw validationError(field, 'kty must be RSA, EC or OKP', 'value_error.jwk');
    try {
      createPublicKey({ key: jwk as never, format: 'jwk' });
    } catch {
      throw validationError(field, 'not a valid public JWK', 'value_error.jwk');
    }
  }
}

/**
 * A back-channel logout URI: one absolute URL under the redirect URIs' rules, that the SSRF guard would let the
 * provider reach, for a client that signs users in (it has nobody to log out otherwise).
 */
function assertBackchannelUri(ctx: OidcClientsDeps, uri: string, grantTypes: readonly string[]): void {
  const field = 'body.backchannel_logout_uri';
  assertRedirectUris(field, [uri]);
  if (!grantTypes.includes('authorization_code'))
    throw validationError(
      field,
      'only a client that signs users in (authorization_code)',
      'value_error.grant',
    );
  try {
    checkUrl(uri, ctx.config.env);
  } catch (err) {
    if (err instanceof SsrfError) throw validationError(field, err.message, 'value_error.url');
    throw err;
  }
}

/**
 * Pairwise identifiers are computed per host of the redirect URIs (OpenID Connect Core §8.1, the sector): one
 * host, so the client's users keep one identifier whichever of its redirect URIs it uses.
 */
function assertPairwise(redirectUris: readonly string[]): void {
  const hosts = new Set(redirectUris.map((u) => new URL(u).host));
  if (hosts.size > 1)
    throw validationError(
      'body.subject_type',
      'pairwise needs every redirect URI on one host (the sector its identifiers are computed for)',
      'value_error.subject_type',
    );
}

function assertJwksUri(ctx: OidcClientsDeps, uri: string): void {
  try {
    checkUrl(uri, ctx.config.env);
  } catch (err) {
    if (err instanceof SsrfError) throw validationError('body.jwks_uri', err.message, 'value_error.url');
    throw err;
  }
}

/** The whole client as it will be stored: the rules that tie its fields together. */
interface Resolved {
  type: ClientType;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  grantTypes: GrantType[];
  tokenEndpointAuthMethod: AuthMethod;
  jwks: Jwks | null;
  jwksUri: string | null;
  permissions: string[];
}

function assertCoherent(c: Resolved): void {
  const grant = (g: GrantType) => c.grantTypes.includes(g);
  if (c.type === 'public' && c.tokenEndpointAuthMethod !== 'none')
    throw validationError(
      'body.token_endpoint_auth_method',
      'a public client authenticates with nothing ("none") and uses PKCE',
      'value_error.client_type',
    );
  if (c.type === 'confidential' && c.tokenEndpointAuthMethod === 'none')
    throw validationError(
      'body.token_endpoint_auth_method',
      'a confidential client authenticates: client_secret_basic, client_secret_post or private_key_jwt',
      'value_error.client_type',
    );
  if (grant('client_credentials') && c.type !== 'confidential')
    throw validationError(
      'body.grant_types',
      'client_credentials needs a confidential client',
      'value_error.grant_type',
    );
  if (grant('authorization_code') && c.redirectUris.length === 0)
    throw validationError(
      'body.redirect_uris',
      'authorization_code needs at least one redirect URI',
      'value_error.grant_type',
    );
  if (grant('refresh_token') && !grant('authorization_code'))
    throw validationError(
      'body.grant_types',
      'refresh_token comes with authorization_code (machine tokens are not refreshed)',
      'value_error.grant_type',
    );
  if (!grant('authorization_code') && (c.redirectUris.length > 0 || c.postLogoutRedirectUris.length > 0))
    throw validationError(
      'body.redirect_uris',
      'redirect URIs are for the authorization_code grant',
      'value_error.grant_type',
    );
  if (c.permissions.length > 0 && !grant('client_credentials'))
    throw validationError(
      'body.permissions',
      'permissions are for the client_credentials grant',
      'value_error.grant_type',
    );
  const keyed = c.tokenEndpointAuthMethod === 'private_key_jwt';
  if (keyed && (c.jwks === null) === (c.jwksUri === null))
    throw validationError(
      'body.jwks',
      'private_key_jwt needs jwks or jwks_uri (one of them)',
      'value_error.jwks',
    );
  if (!keyed && (c.jwks !== null || c.jwksUri !== null))
    throw validationError('body.jwks', 'jwks and jwks_uri are for private_key_jwt', 'value_error.jwks');
}

function assertKnownPermissions(codes: readonly string[]): void {
  const unknown = codes.filter((c) => !isKnownPermission(c));
  if (unknown.length > 0)
    throw validationError('body.permissions', `unknown permission(s): ${unknown.join(', ')}`, 'enum');
}

/**
 * "Nothing grants more than the giver holds": the refusal of role creation and assignment (rbac), word for word.
 * Outside the platform tenant a code that stands for a platform-only permission (`*`, `platform.*`) is refused
 * too: a role's `*` is cut down to the tenant's codes when resolved, but a client's list is handed on as it is
 * stored (token scopes, introspection), so it must say no more than it can mean.
 */
async function assertGrantable(tx: Executor, actor: Actor, codes: readonly string[]): Promise<void> {
  if (codes.length === 0) return;
  const isPlatform = await isPlatformTenant(tx, actor.tenantId);
  const missing = [...new Set(codes)].filter(
    (c) =>
      !canGrant(actor.permissions, c, isPlatform) ||
      (!isPlatform && expandPermission(c).some((p) => PLATFORM_ONLY.has(p))),
  );
  if (missing.length > 0)
    throw platformErrors.error('PERMISSION_DENIED', {
      reason: 'cannot grant permissions you do not hold',
      permissions: missing,
    });
}

// --- reads ---

export function toClientRead(c: repo.ClientRead, now = Date.now()) {
  return {
    id: c.id,
    client_id: c.clientId,
    name: c.name,
    type: c.type,
    redirect_uris: c.redirectUris,
    post_logout_redirect_uris: c.postLogoutRedirectUris,
    backchannel_logout_uri: c.backchannelLogoutUri,
    subject_type: c.subjectType,
    grant_types: c.grantTypes,
    token_endpoint_auth_method: c.tokenEndpointAuthMethod,
    jwks: c.jwks,
    jwks_uri: c.jwksUri,
    allowed_scopes: c.allowedScopes,
    first_party: c.firstParty,
    permissions: c.permissions,
    id_token_signed_response_alg: c.idTokenSignedResponseAlg,
    require_pkce: c.type === 'public',
    has_secret: SECRET_METHODS.includes(c.tokenEndpointAuthMethod),
    previous_secret_expires_at:
      c.previousSecretExpiresAt && c.previousSecretExpiresAt.getTime() > now
        ? c.previousSecretExpiresAt.toISOString()
        : null,
    enabled: c.enabled,
    created_by_user_id: c.createdByUserId,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}

/**
 * What an audit record says of a client: its settings as the API reads them (never a secret nor a hash), without
 * the inline keys (`jwks_uri` says where keys are; inline ones are bulk) and the row's bookkeeping.
 */
function auditView(c: repo.ClientRead) {
  const {
    id: _id,
    jwks: _jwks,
    previous_secret_expires_at: _previous,
    created_by_user_id: _by,
    created_at: _created,
    updated_at: _updated,
    ...settings
  } = toClientRead(c);
  return settings;
}

async function clientOr404(tx: Executor, tenantId: number, id: string, lock = false) {
  const row = lock ? await repo.lockClient(tx, tenantId, id) : await repo.findClient(tx, tenantId, id);
  if (!row) throw notFound('oidc_client');
  return row;
}

export async function listClients(
  ctx: OidcClientsDeps,
  tenantId: number,
  q: { cursor?: string; limit?: number },
) {
  const limit = q.limit ?? 50;
  const after = parseTimeIdCursor(q.cursor);
  const rows = await ctx.database.readTenant(tenantId, (tx) =>
    repo.clientPage(tx, tenantId, { after, limit: limit + 1 }),
  );
  const { page, next } = timeIdPage(rows, limit);
  return { clients: page.map((c) => toClientRead(c, ctx.clock.now())), next_cursor: next };
}

export async function getClient(ctx: OidcClientsDeps, tenantId: number, id: string) {
  const row = await ctx.database.readTenant(tenantId, (tx) => clientOr404(tx, tenantId, id));
  return toClientRead(row, ctx.clock.now());
}

// --- changes ---

export async function createClient(
  ctx: OidcClientsDeps,
  actor: Actor,
  body: ClientSettings & { name: string; type: ClientType },
) {
  const grantTypes = body.grant_types ?? ['authorization_code'];
  const method = body.token_endpoint_auth_method ?? (body.type === 'public' ? 'none' : 'client_secret_basic');
  const resolved: Resolved = {
    type: body.type,
    redirectUris: body.redirect_uris ?? [],
    postLogoutRedirectUris: body.post_logout_redirect_uris ?? [],
    grantTypes,
    tokenEndpointAuthMethod: method,
    jwks: body.jwks ?? null,
    jwksUri: body.jwks_uri ?? null,
    permissions: body.permissions ?? [],
  };
  assertRedirectUris('body.redirect_uris', resolved.redirectUris);
  assertRedirectUris('body.post_logout_redirect_uris', resolved.postLogoutRedirectUris);
  if (body.backchannel_logout_uri) assertBackchannelUri(ctx, body.backchannel_logout_uri, grantTypes);
  if (body.subject_type === 'pairwise') assertPairwise(resolved.redirectUris);
  assertKnownPermissions(resolved.permissions);
  if (resolved.jwks) assertJwks(resolved.jwks);
  if (resolved.jwksUri) assertJwksUri(ctx, resolved.jwksUri);
  assertCoherent(resolved);

  const secret = SECRET_METHODS.includes(method) ? newClientSecret() : null;
  const now = new Date(ctx.clock.now());
  const created = await ctx.database.withTenant(actor.tenantId, async (tx) => {
    await assertGrantable(tx, actor, resolved.permissions);
    // Serialises creations of one tenant, so two racing requests cannot both pass the limit.
    await repo.lockTenantClients(tx, actor.tenantId);
    const limit = ctx.config.oidc.maxClients;
    if ((await repo.countClients(tx, actor.tenantId)) >= limit)
      throw oidcClientsErrors.error('OIDC_CLIENT_LIMIT_REACHED', { limit });
    const row = await repo.insertClient(tx, actor.tenantId, {
      clientId: newClientId(),
      name: body.name,
      ...resolved,
      backchannelLogoutUri: body.backchannel_logout_uri ?? null,
      subjectType: body.subject_type ?? 'public',
      allowedScopes: body.allowed_scopes ?? ['openid', 'profile', 'email'],
      firstParty: body.first_party ?? false,
      idTokenSignedResponseAlg: body.id_token_signed_response_alg ?? 'RS256',
      secretHash: secret ? hashClientSecret(secret) : null,
      enabled: body.enabled ?? true,
      createdByUserId: actor.userId,
      // Milliseconds, as the list's cursor carries them.
      createdAt: now,
      updatedAt: now,
    });
    await writeAudit(tx, actor.tenantId, actor.audit, {
      eventType: 'oidc_client.created',
      resourceType: 'oidc_client',
      resourceId: row.id,
      metadata: auditView(row),
    });
    return row;
  });
  return { ...toClientRead(created, now.getTime()), client_secret: secret };
}

export async function updateClient(ctx: OidcClientsDeps, actor: Actor, id: string, patch: ClientSettings) {
  if (patch.redirect_uris) assertRedirectUris('body.redirect_uris', patch.redirect_uris);
  if (patch.post_logout_redirect_uris)
    assertRedirectUris('body.post_logout_redirect_uris', patch.post_logout_redirect_uris);
  if (patch.permissions) assertKnownPermissions(patch.permissions);
  if (patch.jwks) assertJwks(patch.jwks);
  if (patch.jwks_uri) assertJwksUri(ctx, patch.jwks_uri);
  const now = new Date(ctx.clock.now());
  const row = await ctx.database.withTenant(actor.tenantId, async (tx) => {
    const before = await clientOr404(tx, actor.tenantId, id, true);
    const method = patch.token_endpoint_auth_method ?? before.tokenEndpointAuthMethod;
    // A secret is made at creation and shown once: a change cannot add one (nor drop one a client relies on).
    const hadSecret = SECRET_METHODS.includes(before.tokenEndpointAuthMethod);
    if (hadSecret !== SECRET_METHODS.includes(method))
      throw validationError(
        'body.token_endpoint_auth_method',
        'a client cannot switch between a secret and keys (or none): register a new client',
        'value_error.client_type',
      );
    // Switching to keys of the other kind (jwks ↔ jwks_uri) clears the one not given.
    const keysGiven = patch.jwks !== undefined || patch.jwks_uri !== undefined;
    const resolved: Resolved = {
      type: before.type,
      redirectUris: patch.redirect_uris ?? before.redirectUris,
      postLogoutRedirectUris: patch.post_logout_redirect_uris ?? before.postLogoutRedirectUris,
      grantTypes: patch.grant_types ?? (before.grantTypes as GrantType[]),
      tokenEndpointAuthMethod: method,
      jwks: keysGiven ? (patch.jwks ?? null) : before.jwks,
      jwksUri: keysGiven ? (patch.jwks_uri ?? null) : before.jwksUri,
      permissions: patch.permissions ?? before.permissions,
    };
    assertCoherent(resolved);
    if (patch.backchannel_logout_uri)
      assertBackchannelUri(ctx, patch.backchannel_logout_uri, resolved.grantTypes);
    if ((patch.subject_type ?? before.subjectType) === 'pairwise') assertPairwise(resolved.redirectUris);
    // Whoever sets the permissions, or turns on the grant that uses them, gives them: bounded by what they hold.
    if (patch.permissions !== undefined || patch.grant_types !== undefined)
      await assertGrantable(tx, actor, resolved.permissions);
    const after = await repo.updateClient(tx, actor.tenantId, id, {
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      redirectUris: resolved.redirectUris,
      postLogoutRedirectUris: resolved.postLogoutRedirectUris,
      grantTypes: resolved.grantTypes,
      tokenEndpointAuthMethod: resolved.tokenEndpointAuthMethod,
      jwks: resolved.jwks,
      jwksUri: resolved.jwksUri,
      permissions: resolved.permissions,
      ...(patch.backchannel_logout_uri !== undefined
        ? { backchannelLogoutUri: patch.backchannel_logout_uri }
        : {}),
      ...(patch.subject_type !== undefined ? { subjectType: patch.subject_type } : {}),
      ...(patch.allowed_scopes !== undefined ? { allowedScopes: patch.allowed_scopes } : {}),
      ...(patch.first_party !== undefined ? { firstParty: patch.first_party } : {}),
      ...(patch.id_token_signed_response_alg !== undefined
        ? { idTokenSignedResponseAlg: patch.id_token_signed_response_alg }
        : {}),
      ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
      updatedAt: now,
    });
    await writeAudit(tx, actor.tenantId, actor.audit, {
      eventType: 'oidc_client.updated',
      resourceType: 'oidc_client',
      resourceId: id,
      metadata: { before: auditView(before), after: auditView(after!) },
    });
    return after!;
  });
  // Committed: a client that can no longer obtain machine tokens has them refused at once on every replica.
  await publishClientState(ctx, row, canUseMachineTokens(row));
  return toClientRead(row, now.getTime());
}

export async function deleteClient(ctx: OidcClientsDeps, actor: Actor, id: string): Promise<void> {
  const gone = await ctx.database.withTenant(actor.tenantId, async (tx) => {
    const before = await clientOr404(tx, actor.tenantId, id, true);
    await repo.deleteClient(tx, actor.tenantId, id);
    await writeAudit(tx, actor.tenantId, actor.audit, {
      eventType: 'oidc_client.deleted',
      resourceType: 'oidc_client',
      resourceId: id,
      metadata: auditView(before),
    });
    return before;
  });
  // Committed: its machine tokens are refused at once on every replica.
  await publishClientState(ctx, gone, false);
}

export async function rotateSecret(
  ctx: OidcClientsDeps,
  actor: Actor,
  id: string,
  body: { previous_secret_expires_in?: number } | undefined,
) {
  const secret = newClientSecret();
  const now = ctx.clock.now();
  const overlap = body?.previous_secret_expires_in ?? 0;
  const previousUntil = overlap > 0 ? new Date(now + overlap * 1000) : null;
  const row = await ctx.database.withTenant(actor.tenantId, async (tx) => {
    const after = await repo.rotateClientSecret(
      tx,
      actor.tenantId,
      id,
      hashClientSecret(secret),
      previousUntil,
      new Date(now),
    );
    if (!after) {
      await clientOr404(tx, actor.tenantId, id);
      throw oidcClientsErrors.error('OIDC_CLIENT_NO_SECRET');
    }
    await writeAudit(tx, actor.tenantId, actor.audit, {
      eventType: 'oidc_client.secret_rotated',
      resourceType: 'oidc_client',
      resourceId: id,
      metadata: {
        client_id: after.clientId,
        previous_secret_expires_at: previousUntil?.toISOString() ?? null,
      },
    });
    return after;
  });
  return { ...toClientRead(row, now), client_secret: secret };
}

// --- what the OpenID Provider reads (the oidc-provider module) ---

/** The tenant's client with this client_id, with its secret hashes; null when the tenant has none. */
export function providerClient(ctx: Pick<OidcClientsDeps, 'database'>, tenantId: number, clientId: string) {
  return ctx.database.withTenant(tenantId, (tx) => repo.clientByClientId(tx, tenantId, clientId));
}

/**
 * Whether `secret` is the client's secret, or its previous one still inside the rotation window. Compared as
 * SHA-256 digests in constant time (the stored value is the digest).
 */
export function clientSecretMatches(client: repo.ProviderClientRow, secret: string, now: number): boolean {
  const given = Buffer.from(hashClientSecret(secret), 'hex');
  const same = (hash: string | null) => {
    if (!hash) return false;
    const stored = Buffer.from(hash, 'hex');
    return stored.length === given.length && timingSafeEqual(stored, given);
  };
  const previousValid =
    client.previousSecretExpiresAt !== null && client.previousSecretExpiresAt.getTime() > now;
  // Both compared whatever the first gives, so timing says nothing of which one matched.
  const current = same(client.secretHash);
  const previous = same(client.previousSecretHash) && previousValid;
  return current || previous;
}
