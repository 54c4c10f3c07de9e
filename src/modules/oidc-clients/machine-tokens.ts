/**
 * Machine tokens on /api/v1 (docs/oidc-provider.md, "Machine tokens"; API.md §13 and §22): the JWT access tokens
 * (RFC 9068, header `typ: at+jwt`) a tenant's OpenID Provider issues to a client with the client_credentials grant
 * are accepted by the request guard as a credential scheme, the way API keys are. Such a token acts like a
 * tenant-owned key: with the permissions its `scope` names that the client still holds, never as a user, and on
 * `self` routes only through the route's keyScope.
 *
 * Verification: only the provider's algorithms (RS256, ES256, EdDSA: `none` and HS* are refused before any key is
 * looked at) with the provider's keys (JwtService.providerPublicJwks, by kid); `iss` must be the issuer of the
 * tenant the token's `tenant_id` names (another tenant's issuer is refused), `aud` the API, `sub` the client_id.
 * Then the client: it must exist in that tenant, be enabled and have client_credentials. Its row is cached per
 * replica for CLIENT_CACHE_TTL_MS; disabling or deleting it also sets a store flag that the guard reads in its one
 * round trip, so its tokens fail at once on every replica.
 */
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  type JWTHeaderParameters,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import { LRUCache } from 'lru-cache';
import type { AppContext, CredentialScheme, Principal } from '../../platform/context.js';
import { platformErrors } from '../../platform/http/errors.js';
import { keys } from '../../platform/store/keys.js';
import { grants } from '../rbac/index.js';
import { getTenant } from '../tenants/index.js';
import type { OidcClientsDeps } from './deps.js';
import * as repo from './repository.js';

/** What the provider signs with (jwt.ts PROVIDER_ALGORITHMS): nothing else is even looked at. */
const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];
/** How long a replica trusts its cached client row; disabling and deleting do not wait for it (store flag). */
export const CLIENT_CACHE_TTL_MS = 30_000;
/** Must outlive CLIENT_CACHE_TTL_MS by far: once it lapses, every replica has re-read the row. */
const REVOCATION_FLAG_TTL_SECONDS = 3600;

/** The issuer of a tenant's OpenID Provider: `PUBLIC_URL/oidc/{tenant slug}`. */
export const tenantIssuer = (publicUrl: string, slug: string) => `${publicUrl}/oidc/${slug}`;
/** The audience of machine tokens for this API. */
export const apiAudience = (publicUrl: string) => `${publicUrl}/api/v1`;

/** The claims of a verified machine token (RFC 9068, plus `tenant_id`). */
export interface MachineClaims {
  iss: string;
  sub: string;
  client_id: string;
  tenant_id: number;
  scope?: string;
  jti: string;
  iat: number;
  exp: number;
}

type MachineClient = NonNullable<Awaited<ReturnType<typeof repo.machineClient>>>;

/** Whether a bearer token is a JWT whose header says `typ: at+jwt` (RFC 9068 §2.1), without verifying it. */
export function isMachineToken(token: string): boolean {
  if (token.indexOf('.') <= 0) return false;
  let header: JWTHeaderParameters | undefined;
  try {
    header = decodeProtectedHeader(token) as JWTHeaderParameters;
  } catch {
    return false;
  }
  const typ = typeof header.typ === 'string' ? header.typ.toLowerCase() : '';
  return typ === 'at+jwt' || typ === 'application/at+jwt';
}

/** The permissions held in both lists, wildcards included (as for API keys: the narrower of two that overlap). */
function intersect(a: readonly string[], b: readonly string[]): string[] {
  const out = new Set<string>();
  for (const x of a)
    for (const y of b) {
      if (grants([x], y)) out.add(y);
      else if (grants([y], x)) out.add(x);
    }
  return [...out];
}

const invalid = (reason?: string) => platformErrors.error('TOKEN_INVALID', reason ? { reason } : undefined);

/** This replica's cached client rows, by app (replicas in one test process must not share them). */
const clientCaches = new WeakMap<object, LRUCache<string, { row: MachineClient | null }>>();
const cacheKey = (tenantId: number, clientId: string) => `${tenantId}:${clientId}`;

/**
 * After a change of a client has committed: a client that can no longer obtain machine tokens (disabled,
 * deleted, client_credentials removed) gets the store flag, so every replica refuses its tokens from the next
 * request on; a usable one loses it. This replica's cached row goes either way.
 */
export async function publishClientState(
  ctx: Pick<OidcClientsDeps, 'store'>,
  client: { id: string; tenantId: number; clientId: string },
  usable: boolean,
): Promise<void> {
  if (usable) await ctx.store.del(keys.oidcClientRevoked(client.id));
  else await ctx.store.set(keys.oidcClientRevoked(client.id), 'revoked', REVOCATION_FLAG_TTL_SECONDS);
  clientCaches.get(ctx)?.delete(cacheKey(client.tenantId, client.clientId));
}

export const canUseMachineTokens = (c: { enabled: boolean; grantTypes: string[] }) =>
  c.enabled && c.grantTypes.includes('client_credentials');

/** The request guard's scheme for machine tokens (AppModule.credentialScheme). */
export function machineTokenCredentials(ctx: AppContext): CredentialScheme {
  const publicUrl = ctx.config.publicUrl.replace(/\/+$/, '');
  const audience = apiAudience(publicUrl);

  // tenant id -> slug never changes (tenants are not renamed); an unknown tenant is not remembered.
  const slugs = new LRUCache<number, string>({
    max: 1000,
    ignoreFetchAbort: true,
    fetchMethod: async (tenantId) =>
      (await ctx.database.withTenant(tenantId, (tx) => getTenant(tx, tenantId)))?.slug ?? undefined,
  });

  const clients = new LRUCache<string, { row: MachineClient | null }>({
    max: 10_000,
    ttl: CLIENT_CACHE_TTL_MS,
    ignoreFetchAbort: true,
    fetchMethod: async (key) => {
      const [tenant, clientId] = [Number(key.slice(0, key.indexOf(':'))), key.slice(key.indexOf(':') + 1)];
      // An unknown client is remembered as such for the TTL too: a token of a deleted client costs no read.
      return { row: await ctx.database.withTenant(tenant, (tx) => repo.machineClient(tx, tenant, clientId)) };
    },
  });
  clientCaches.set(ctx, clients);

  // The provider's public keys as a local JWK Set, rebuilt when their version changes.
  let keySet: { version: string; get: ReturnType<typeof createLocalJWKSet> } | null = null;
  const keyFor = async (header: JWTHeaderParameters) => {
    const { version, keys: jwks } = await ctx.jwt.providerPublicJwks();
    if (keySet?.version !== version) keySet = { version, get: createLocalJWKSet({ keys: jwks }) };
    return keySet.get(header);
  };

  // Tokens this replica has verified, by their text (as the guard does for access tokens): the signature check
  // is the costly part; an entry never outlives the token. The client and its flag are still checked each time.
  const verified = new LRUCache<string, MachineClaims>({ max: 10_000, ttl: 60_000 });

  async function verify(token: string): Promise<MachineClaims> {
    const known = verified.get(token);
    if (known && known.exp * 1000 > ctx.clock.now()) return known;
    if (known) verified.delete(token);
    // The issuer depends on the tenant the token names: read it first (unverified), then check everything.
    let tenantId: unknown;
    try {
      tenantId = decodeJwt(token).tenant_id;
    } catch {
      throw invalid();
    }
    if (typeof tenantId !== 'number' || !Number.isSafeInteger(tenantId) || tenantId <= 0) throw invalid();
    const slug = await slugs.fetch(tenantId);
    if (!slug) throw invalid();
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, keyFor, {
        algorithms: ALGORITHMS,
        typ: 'at+jwt',
        issuer: tenantIssuer(publicUrl, slug),
        audience,
        requiredClaims: ['sub', 'client_id', 'jti', 'iat', 'exp'],
        currentDate: new Date(ctx.clock.now()),
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw platformErrors.error('TOKEN_EXPIRED');
      if (err instanceof joseErrors.JOSEError) throw invalid();
      throw err; // the key set could not be read (database down): the error handler answers 503
    }
    if (
      typeof payload.client_id !== 'string' ||
      payload.sub !== payload.client_id ||
      (payload.scope !== undefined && typeof payload.scope !== 'string')
    )
      throw invalid();
    const claims = payload as unknown as MachineClaims;
    verified.set(token, claims);
    return claims;
  }

  return {
    kind: 'oidc_client',
    recognises: isMachineToken,
    async authenticate(token) {
      const claims = await verify(token);
      const client = (await clients.fetch(cacheKey(claims.tenant_id, claims.client_id)))?.row ?? null;
      if (!client) throw invalid('oidc_client_unknown');
      if (!canUseMachineTokens(client)) throw invalid('oidc_client_disabled');
      const scopes = (claims.scope ?? '').split(' ').filter((s) => s !== '');
      return {
        kind: 'oidc_client',
        tenantId: client.tenantId,
        userId: null,
        sessionId: null,
        email: null,
        apiKeyId: null,
        oidcClientId: client.id,
        // What the token asks for that the client holds now: the client's permissions may have shrunk since.
        scopes: intersect(scopes, client.permissions),
        roleId: null,
        mfaEnrolmentPending: false,
        permissionVersion: '0',
        identityVersion: '0',
      } satisfies Principal;
    },
    revokedKey: (principal) => keys.oidcClientRevoked(principal.oidcClientId ?? ''),
    revokedError: () => invalid('oidc_client_disabled'),
    scopeError: (details) => platformErrors.error('PERMISSION_DENIED', details),
    // Its scopes are already bounded by the client's permissions, which its registration bounded by its giver's.
    resolve: async (principal) => new Set(principal.scopes ?? []),
    // A client holds permissions only: no self scope opens the caller's own data to it.
    isSelfScope: () => false,
    actorId: (principal) => String(principal.oidcClientId),
  };
}
