/**
 * Authentication and authorisation for every route, declared on the route itself:
 *   config: { access: 'public' }                 no credentials
 *   config: { access: 'self' }                   any authenticated caller, acting on their own data
 *   config: { access: 'users.read' }             a permission from the catalogue
 * A `self` route must also declare which API key scope opens it (API.md §13), `keyScope`: a self scope
 * (`profile.read`, ...) or a permission code (the key must hold it, `*` included), or null: never open to keys.
 * It runs in onRequest, before the body is parsed, so an unauthenticated request with a bad body is 401, not 422.
 * The app refuses to boot if an /api/v1 route declares nothing (see assertRouteAccess).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { LRUCache } from 'lru-cache';
import { writeAuditAlone } from '../audit/alone.js';
import type { AuditContext } from '../audit/writer.js';
import type { AppContext, CredentialScheme, Principal } from '../context.js';
import { type AccessClaims, JwtError } from '../crypto/jwt.js';
import { keys } from '../store/keys.js';
import { type AppError, platformErrors } from './errors.js';
import { grants, type PermissionCode, type SelfScope } from './permissions.js';
import { consumeRateLimit, type RateLimitRule } from './rate-limit.js';

export type Access = 'public' | 'self' | PermissionCode;
/** What an API key needs to reach a `self` route; null: no key ever does. */
export type KeyScope = SelfScope | PermissionCode | null;

export interface DeclaredRoute {
  method: string;
  url: string;
  access: Access | null;
  /** `self` routes only (undefined elsewhere). */
  keyScope?: KeyScope;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /** Required with `access: 'self'`: the key scope that opens the route to API keys (null: none). */
    keyScope?: KeyScope;
    rateLimit?: RateLimitRule;
  }
  interface FastifyInstance {
    /** Every route registered after the guard, with its declared access (tests walk it to check RBAC). */
    declaredRoutes: readonly DeclaredRoute[];
  }
  interface FastifyRequest {
    principal: Principal | null;
    /** Effective permissions of the caller, resolved once per request. */
    permissions(): Promise<ReadonlySet<string>>;
    auditContext(): AuditContext;
    /**
     * On a `public` route: authenticates the caller as a protected route would (JWT or API key, revocation, idle
     * timeout, tenant header, network, MFA enrolment) and sets `principal`; throws 401 without credentials.
     */
    authenticate(): Promise<Principal>;
  }
}

/** The caller, or a 401 for routes that reach it without one (never happens behind a declared access). */
export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw platformErrors.error('UNAUTHORIZED');
  return request.principal;
}

/** The caller acting as a user: API keys owned by the tenant have no user to act as. */
export function requireUser(request: FastifyRequest): Principal & { userId: number } {
  const p = requirePrincipal(request);
  if (p.userId === null)
    throw platformErrors.error('PERMISSION_DENIED', { reason: 'this route needs a user, not a tenant key' });
  return p as Principal & { userId: number };
}

/**
 * `vocabulary`: the permission catalogue (ctx.permissions) and the self scopes of the credential scheme.
 * `guardedPrefixes`: URL prefixes outside /api/v1 whose routes must declare their access too (AppModule).
 */
export function assertRouteAccess(
  route: RouteOptions,
  vocabulary: Pick<AppContext, 'permissions' | 'credentials'>,
  guardedPrefixes: readonly string[] = [],
): void {
  const url = route.url;
  if (!url.startsWith('/api/v1') && !guardedPrefixes.some((p) => url.startsWith(p))) return;
  const config = route.config as { access?: Access; keyScope?: KeyScope } | undefined;
  const access = config?.access;
  if (!access) {
    throw new Error(`Route ${String(route.method)} ${url} declares no access (public, self or a permission)`);
  }
  // Each `self` route decides for itself whether API keys reach it: forgetting is a boot error, not an opening.
  if (access === 'self') {
    const ks = config?.keyScope;
    if (ks === undefined)
      throw new Error(
        `Route ${String(route.method)} ${url} is 'self' but declares no keyScope (a scope or null)`,
      );
    if (
      ks !== null &&
      !vocabulary.credentials.some((c) => c.isSelfScope(ks)) &&
      !vocabulary.permissions.isKnownPermission(ks)
    )
      throw new Error(`Route ${String(route.method)} ${url} declares an unknown keyScope ${String(ks)}`);
  }
}

function bearer(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  return m ? m[1]! : null;
}

/** X-Tenant-ID: an id or a slug; validated by the tenants module where it is needed before login. */
function headerTenant(request: FastifyRequest): string | null {
  const v = request.headers['x-tenant-id'];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}

/** The versions a cached identity depends on, read in the guard's mget (see Principal.identityVersion). */
function identityVersion(user?: string | null, permissions?: string | null, tenant?: string | null): string {
  return `${user ?? '0'}/${permissions ?? '0'}/${tenant ?? '0'}`;
}

/**
 * `mfaEnrolmentPrefixes`: the URL prefixes (declared by their modules) that a token limited to MFA enrolment
 * still opens; every other route answers 403 MFA_REQUIRED to it.
 */
export function installAccessGuard(
  app: FastifyInstance,
  ctx: AppContext,
  mfaEnrolmentPrefixes: readonly string[],
) {
  const { store, jwt, config, credentials } = ctx;
  /** The scheme that authenticated a credential principal (one per kind; checked at boot). */
  const schemeOf = (p: Principal): CredentialScheme | null =>
    p.kind === 'user' ? null : (credentials.find((c) => c.kind === p.kind) ?? null);
  const declared: DeclaredRoute[] = [];
  app.decorate('declaredRoutes', declared);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const config = route.config as { access?: Access; keyScope?: KeyScope } | undefined;
    const access = config?.access ?? null;
    const keyScope = access === 'self' ? { keyScope: config?.keyScope } : {};
    for (const method of methods)
      declared.push({ method: String(method), url: route.url, access, ...keyScope });
  });
  app.decorateRequest('principal', null);
  app.decorateRequest('permissions', async function (this: FastifyRequest) {
    const p = this.principal;
    if (!p) return new Set<string>();
    const cache = this as unknown as { _perms?: Promise<ReadonlySet<string>> };
    cache._perms ??= (schemeOf(p)?.resolve ?? ctx.permissions.resolve)(p);
    return cache._perms;
  });
  app.decorateRequest('auditContext', function (this: FastifyRequest): AuditContext {
    const p = this.principal;
    return {
      actorType: p ? p.kind : 'system',
      actorId: p ? (schemeOf(p)?.actorId(p) ?? String(p.userId)) : null,
      ipAddress: this.ip,
      userAgent: (this.headers['user-agent'] ?? '').slice(0, 512) || null,
      requestId: this.id,
      sessionId: p?.sessionId ?? null,
    };
  });

  // Access tokens this replica has verified, by their exact text: a client repeats its token on every call, and
  // the signature check (WebCrypto, a thread-pool hop) was the guard's largest CPU cost. An entry never outlives
  // the token (its exp is checked against the app clock on every hit) nor a minute (the replicas' key-set
  // re-read; a key is only removed once every token it signed has expired). Revocation, suspension and the rest
  // are still read from the store on every request.
  const verifiedTokens = new LRUCache<string, AccessClaims>({ max: 10_000, ttl: 60_000 });
  async function verifiedAccess(token: string): Promise<AccessClaims> {
    const known = verifiedTokens.get(token);
    if (known && known.exp * 1000 > ctx.clock.now()) return known;
    if (known) verifiedTokens.delete(token);
    const claims = await jwt.verifyAccess(token);
    verifiedTokens.set(token, claims);
    return claims;
  }

  /** The caller, and the tenant's settings version (and the session's last activity) read in one round trip. */
  async function authenticate(
    request: FastifyRequest,
  ): Promise<{ principal: Principal; tenantVersion: string; lastSeen?: string | null }> {
    // A scheme's own header wins over the bearer token; a bearer token goes to the scheme that recognises it.
    let scheme: CredentialScheme | null = null;
    let token: string | null = null;
    for (const c of credentials) {
      const value = c.header ? request.headers[c.header] : undefined;
      if (typeof value === 'string') {
        scheme = c;
        token = value.trim();
        break;
      }
    }
    if (!scheme) {
      token = bearer(request);
      if (token) scheme = credentials.find((c) => c.recognises(token!)) ?? null;
    }
    if (!token) throw platformErrors.error('UNAUTHORIZED');
    if (scheme) {
      const credentials = scheme;
      const principal = await credentials.authenticate(token, request.ip);
      // The credential's revocation flag rides in the same round trip (a replica's cached row may predate it).
      const [suspended, version, keyRevoked, tenantVersion, ownerInactive, userVersion] = await store.mget([
        keys.tenantSuspended(principal.tenantId),
        keys.permissionVersion(principal.tenantId),
        credentials.revokedKey(principal),
        keys.tenantVersion(principal.tenantId),
        keys.userInactive(principal.tenantId, principal.userId ?? 0),
        keys.userVersion(principal.tenantId, principal.userId ?? 0),
      ]);
      if (keyRevoked) throw credentials.revokedError();
      // A replica's cached key row may predate the owner's deactivation: the flag is read on every request.
      if (ownerInactive && principal.userId !== null) throw platformErrors.error('ACCOUNT_INACTIVE');
      if (suspended) throw platformErrors.error('UNAUTHORIZED', { reason: 'tenant suspended' });
      return {
        principal: {
          ...principal,
          permissionVersion: version ?? '0',
          identityVersion: identityVersion(userVersion, version, tenantVersion),
        },
        tenantVersion: tenantVersion ?? '0',
      };
    }
    let claims: AccessClaims;
    try {
      claims = await verifiedAccess(token);
    } catch (err) {
      throw platformErrors.error(
        err instanceof JwtError && err.reason === 'expired' ? 'TOKEN_EXPIRED' : 'TOKEN_INVALID',
      );
    }
    // One store round trip answers revocation, suspension, the permission cache version and idleness.
    const userId = Number(claims.sub);
    const [revoked, suspended, version, tenantVersion, lastSeen, userVersion] = await store.mget([
      keys.sessionRevoked(claims.session_id),
      keys.tenantSuspended(claims.tenant_id),
      keys.permissionVersion(claims.tenant_id),
      keys.tenantVersion(claims.tenant_id),
      keys.sessionLastSeen(claims.session_id),
      keys.userVersion(claims.tenant_id, userId),
    ]);
    if (revoked) throw platformErrors.error(revoked === 'expired' ? 'SESSION_EXPIRED' : 'SESSION_REVOKED');
    if (suspended) throw platformErrors.error('UNAUTHORIZED', { reason: 'tenant suspended' });
    const principal: Principal = {
      kind: 'user',
      tenantId: claims.tenant_id,
      userId,
      sessionId: claims.session_id,
      email: claims.email,
      apiKeyId: null,
      scopes: null,
      roleId: null,
      mfaEnrolmentPending: claims.mfa_enrolment === true,
      permissionVersion: version ?? '0',
      identityVersion: identityVersion(userVersion, version, tenantVersion),
    };
    return { principal, tenantVersion: tenantVersion ?? '0', lastSeen };
  }

  // slug -> id never changes (tenants cannot be renamed), so a small per-replica memo saves the lookup. An
  // unknown slug is not remembered (the tenant may be created later); a malformed one rejects (400).
  const slugIds = new LRUCache<string, number>({
    max: 1000,
    ignoreFetchAbort: true,
    fetchMethod: async (slug) => (await ctx.tenancy.resolveTenantId(slug)) ?? undefined,
  });
  async function tenantIdOfHeader(header: string): Promise<number | null> {
    if (/^\d+$/.test(header)) return Number(header);
    return (await slugIds.fetch(header.toLowerCase())) ?? null;
  }

  /** A refused request's audit record, written on its own: the request fails, its record must stay. */
  async function auditDenied(
    request: FastifyRequest,
    principal: Principal,
    metadata: Record<string, unknown>,
  ) {
    await writeAuditAlone(
      { database: ctx.database, log: request.log },
      principal.tenantId,
      request.auditContext(),
      {
        eventType: 'access.permission_denied',
        success: false,
        resourceType: 'route',
        resourceId: `${request.method} ${request.routeOptions.url}`,
        metadata,
      },
      { bestEffort: 'could not audit a denied request' },
    );
  }

  async function denied(request: FastifyRequest, principal: Principal, permission: string): Promise<never> {
    await auditDenied(request, principal, { permission });
    throw platformErrors.error('PERMISSION_DENIED', { permission });
  }

  /**
   * API.md §13: a key reaches a `self` route only through the scope the route declares (`*` included); routes
   * declaring null (password change, ending sessions, MFA) refuse every key. Refusals are audited like others.
   */
  /** A refusal of a credential's scopes, in the words of the scheme that authenticated it. */
  function scopeError(principal: Principal, details: Record<string, unknown> | undefined): Error {
    const scheme = schemeOf(principal);
    return scheme ? scheme.scopeError(details) : platformErrors.error('PERMISSION_DENIED', details);
  }

  async function checkKeyOnSelfRoute(request: FastifyRequest, principal: Principal): Promise<void> {
    const keyScope = request.routeOptions.config.keyScope ?? null;
    if (keyScope !== null && grants(principal.scopes ?? [], keyScope)) return;
    await auditDenied(request, principal, { key_scope: keyScope });
    throw scopeError(principal, keyScope === null ? { reason: 'not_open_to_api_keys' } : { scope: keyScope });
  }

  async function guard(request: FastifyRequest, reply: FastifyReply, access: Access) {
    const rule = request.routeOptions.config.rateLimit;
    if (access === 'public') {
      if (config.rateLimitEnabled) {
        const bucket = rule?.bucket ?? 'default';
        await consumeRateLimit(
          store,
          reply,
          `${bucket}:${request.routeOptions.url}`,
          `ip:${request.ip}`,
          config.rateLimits[bucket],
          rule?.windowSeconds,
        );
      }
      return;
    }
    const principal = await establishPrincipal(request);
    if (config.rateLimitEnabled) {
      const bucket = rule?.bucket ?? 'default';
      // Each credential has its own bucket (an API key, an OIDC client), a user one for all their sessions.
      const identity = principal.apiKeyId
        ? `key:${principal.apiKeyId}`
        : principal.oidcClientId
          ? `client:${principal.oidcClientId}`
          : `user:${principal.userId}`;
      await consumeRateLimit(
        store,
        reply,
        `${bucket}:${request.routeOptions.url}`,
        identity,
        config.rateLimits[bucket],
        rule?.windowSeconds,
      );
    }
    if (access === 'self') {
      if (principal.kind !== 'user') await checkKeyOnSelfRoute(request, principal);
      return;
    }
    const perms = await request.permissions();
    if (!grants(perms, access)) {
      // A key whose scopes cover the permission was refused because its owner lost it: PERMISSION_DENIED.
      if (principal.kind !== 'user' && !grants(principal.scopes ?? [], access)) {
        await denied(request, principal, access).catch((e: AppError) => {
          throw scopeError(principal, e.details);
        });
      }
      await denied(request, principal, access);
    }
  }

  /**
   * Authentication and every check that does not depend on the route's access: the caller's credentials, idle
   * timeout, the tenant header, the tenant's network and the MFA-enrolment restriction. Sets request.principal.
   */
  async function establishPrincipal(request: FastifyRequest): Promise<Principal> {
    const { principal, tenantVersion, lastSeen } = await authenticate(request);
    request.principal = principal;
    // The tenant's idle_ttl: an idle session ends here (401 SESSION_EXPIRED); otherwise this is activity.
    if (principal.kind === 'user' && principal.userId !== null && principal.sessionId) {
      const session = {
        tenantId: principal.tenantId,
        userId: principal.userId,
        sessionId: principal.sessionId,
      };
      await ctx.sessions.enforceIdleTimeout(session, tenantVersion, lastSeen ?? null, request.auditContext());
    }
    const tenantHeader = headerTenant(request);
    if (tenantHeader !== null && tenantHeader !== String(principal.tenantId)) {
      // An id or a slug naming another tenant (or none) disagrees with the token; a malformed one is 400.
      if ((await tenantIdOfHeader(tenantHeader)) !== principal.tenantId)
        throw platformErrors.error('TENANT_MISMATCH');
    }
    // The tenant's allowed_ip_ranges (cached per replica by settings version: no database read when warm).
    if (!(await ctx.tenancy.networkAllows(principal.tenantId, tenantVersion, request.ip))) {
      throw platformErrors.error('NETWORK_FORBIDDEN', { reason: 'outside the tenant allowed_ip_ranges' });
    }
    if (principal.mfaEnrolmentPending) {
      const url = request.routeOptions.url ?? '';
      if (!mfaEnrolmentPrefixes.some((p) => url.startsWith(p))) throw platformErrors.error('MFA_REQUIRED');
    }
    return principal;
  }

  // A public route that changes behaviour for a signed-in caller (SSO/social authorize with mode=link) asks for
  // the caller explicitly: the same checks as a protected route, a 401 without valid credentials.
  app.decorateRequest('authenticate', async function (this: FastifyRequest): Promise<Principal> {
    return this.principal ?? establishPrincipal(this);
  });

  // Synchronous when the route declares no access (base routes, 404s): no promise on /health's path.
  app.addHook('onRequest', (request, reply, done) => {
    const access = request.routeOptions.config?.access;
    if (!access) return done();
    guard(request, reply, access).then(() => done(), done);
  });
}
