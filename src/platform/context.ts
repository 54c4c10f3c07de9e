/**
 * The composition root's shared services, built once in buildApp and handed to every module. No module reads
 * process.env or creates its own connections, so two apps can run side by side in one test (two replicas).
 */
import type { SQL } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { Clock } from './clock.js';
import type { SecretBox } from './crypto/aes-gcm.js';
import type { JwtService } from './crypto/jwt.js';
import type { PasswordHasher } from './crypto/passwords.js';
import type { Database, Executor, Tx } from './db/client.js';
import type { Metrics } from './http/metrics.js';
import type { KeyValueStore } from './store/types.js';

/** Who is calling, after authentication. */
export interface Principal {
  /**
   * `user`: an access token; otherwise a credential of a scheme (CredentialScheme.kind): `api_key` (an API key),
   * `oidc_client` (a machine token the tenant's OpenID Provider issued to a client). A credential acts with its
   * scopes and reaches a `self` route only through the route's keyScope (API.md §13).
   */
  kind: 'user' | 'api_key' | 'oidc_client';
  tenantId: number;
  /** The user (for keys: the creator of a user-owned key; null for tenant-owned keys and OIDC clients). */
  userId: number | null;
  sessionId: string | null;
  email: string | null;
  apiKeyId: number | null;
  /** For kind `oidc_client`: the registry id (uuid) of the client the token was issued to. */
  oidcClientId?: string | null;
  /** A credential's scopes (for an OIDC client: its token's scopes that the client still holds); null for users. */
  scopes: string[] | null;
  /** For tenant-owned API keys: the role whose permissions the key acts with. */
  roleId: string | null;
  /** Token limited to /auth and /mfa until the user enrols in MFA. */
  mfaEnrolmentPending: boolean;
  /** Store version of the tenant's permission data, read with the revocation keys (see rbac cache). */
  permissionVersion: string;
  /**
   * The user's, the tenant's permission and the tenant's settings store versions together, read in the guard's one
   * mget: a replica's cached identity of the caller (GET /auth/me) is valid only under the same value.
   */
  identityVersion: string;
}

export type PermissionResolver = (principal: Principal) => Promise<ReadonlySet<string>>;
export type ApiKeyAuthenticator = (rawKey: string, ip: string) => Promise<Principal>;
/** Work that must only happen once the transaction that asked for it has committed. */
export type AfterCommit = () => Promise<void>;
export type UserDeactivationReason = 'deactivated' | 'deleted' | 'gdpr_erasure' | 'gdpr_anonymization';
export type GdprErasureMode = 'deleted' | 'anonymized';
export type GdprErasePhase = 'data' | 'audit' | 'account';
/** What every GDPR erase hook is told about the erasure it takes part in. */
export interface GdprErasure {
  /** `deleted` (right to erasure: rows go) or `anonymized` (rows stay, personal fields replaced). */
  mode: GdprErasureMode;
  reason: Extract<UserDeactivationReason, 'gdpr_erasure' | 'gdpr_anonymization'>;
  /** The user's email before the erasure: audit values and store counters are keyed by it. */
  email: string;
  /** Stable, non-reversible name that replaces the person in anonymised rows and records. */
  pseudonym: string;
  audit: import('./audit/writer.js').AuditContext;
}
/** A sign-in refused by policy (e.g. SSO_REQUIRED), answered by the module that asked. */
export interface SignInRefusal {
  code: string;
  status: number;
  details?: Record<string, unknown>;
}
/**
 * How a session is (being) opened: its first factor, 'password', 'sso' (an enterprise connection:
 * `ssoConnectionId`), 'oauth:<provider>', or 'unknown' for sessions older than the column (drizzle/0016).
 */
export interface SignInVia {
  method: string;
  ssoConnectionId: string | null;
}
export type TenantCreatedHook = (tx: Tx, tenantId: number, firstAdminUserId: number | null) => Promise<void>;

/**
 * The tenant and user rows as the tenants and users modules store them. The platform names them without importing
 * those modules: each widens its interface to its row type in its index.ts (declaration merging, the way Fastify's
 * FastifyContextConfig is widened), so hooks such as ctx.mfa.inlineLogin pass the real rows along.
 */
export interface TenantRecord {
  id: number;
}
export interface UserRecord {
  id: number;
  email: string;
}

export interface Mail {
  to: string;
  subject: string;
  text: string;
}
export interface Mailer {
  send(mail: Mail): Promise<void>;
}

/**
 * What the request guard needs to know of tenants (the tenants module provides it).
 */
export interface TenancyProvider {
  /** An X-Tenant-ID value (id or slug): the tenant's id, null when there is none; a malformed value is a 400. */
  resolveTenantId: (header: string) => Promise<number | null>;
  /** Whether the tenant's allowed_ip_ranges admit the address (`version`: the store's tenant settings version). */
  networkAllows: (tenantId: number, version: string, ip: string) => Promise<boolean>;
}

/** What the request guard needs to know of sessions (the sessions module provides it). */
export interface SessionsProvider {
  /**
   * The tenant's idle timeout for a user session: ends an idle one (401 SESSION_EXPIRED), otherwise records
   * the activity. `lastSeenRaw`: the store's `sess:seen:<id>` read in the guard's MGET.
   */
  enforceIdleTimeout: (
    session: { tenantId: number; userId: number; sessionId: string },
    tenantVersion: string,
    lastSeenRaw: string | null,
    audit: import('./audit/writer.js').AuditContext,
  ) => Promise<void>;
}

/** The permission catalogue and resolver (the RBAC module provides it). */
export interface PermissionsProvider {
  /** The effective permissions of a user (or of a tenant key's role). */
  resolve: PermissionResolver;
  /** Whether a code or wildcard names something in the permission catalogue (routes naming another refuse to boot). */
  isKnownPermission: (code: string) => boolean;
}

/**
 * A credential other than the access token (modules contribute them: AppModule.credentialScheme): how the guard
 * recognises it, authenticates it, reads its revocation and resolves what it may do. The platform knows no
 * credential format; each scheme's principals have their own `kind`.
 */
export interface CredentialScheme {
  /** The principal kind this scheme's `authenticate` answers (one scheme per kind). */
  kind: Exclude<Principal['kind'], 'user'>;
  /** The header that carries this credential on its own (lower case), if any; a bearer token may carry it too. */
  header?: string;
  /** Whether a bearer token is this credential rather than an access token (cheap: runs on every request). */
  recognises: (token: string) => boolean;
  /** The caller the credential names (permissionVersion and identityVersion are filled by the guard). */
  authenticate: ApiKeyAuthenticator;
  /** The store key whose presence marks the credential revoked, read in the guard's one round trip. */
  revokedKey: (principal: Principal) => string;
  /** The error for a credential found revoked there. */
  revokedError: () => Error;
  /** The error for a credential whose scopes do not open the route (the refusal is audited first). */
  scopeError: (details: Record<string, unknown> | undefined) => Error;
  /** The effective permissions of a principal this scheme authenticated. */
  resolve: PermissionResolver;
  /** Whether a scope is a self scope (API.md §13): `self` routes may declare it as their keyScope. */
  isSelfScope: (scope: string) => boolean;
  /** Who the audit trail names as the actor of a principal this scheme authenticated (its `kind`, this id). */
  actorId: (principal: Principal) => string;
}

/**
 * What modules below the users module (RBAC) may ask about users without importing users or reading its table.
 * Calls run in the caller's transaction (the users module provides it).
 */
export interface UsersProvider {
  /** is_active and is_superuser of a user of the tenant; null when the tenant has no such user. */
  grantFlags(
    tx: Executor,
    tenantId: number,
    userId: number,
  ): Promise<{ isActive: boolean; isSuperuser: boolean } | null>;
  /** How many of these users of the tenant are active. */
  countActive(tx: Executor, tenantId: number, userIds: number[]): Promise<number>;
}

/**
 * What a password sign-in answers. The auth module widens it to its LoginResponse (declaration merging, as for
 * TenantRecord), so MFA's one-step login hands auth its own answer type, with no cast.
 */
// biome-ignore lint/suspicious/noEmptyInterface: widened by the auth module
export interface SignInAnswer {}

/** MFA status and the one-step login (the MFA module provides it; users, auth and SSO need it). */
export interface MfaProvider {
  /** `changesAt`: when the answer may change with no write (the first expiry of a role assignment), or null. */
  status(
    tx: Tx,
    tenantId: number,
    userId: number,
  ): Promise<{ enabled: boolean; required: boolean; changesAt?: Date | null }>;
  /**
   * "Has the user a second factor?" (status's `enabled`) as a SQL boolean over an outer query's qualified columns:
   * the users list embeds it per row in its own statement (issue 20), so a page costs one query, not one per user.
   */
  enabledSql(tenantIdColumn: SQL, userIdColumn: SQL): SQL<boolean>;
  /** Handles `mfa_code` sent with the password (one-step login). */
  inlineLogin: (
    tenant: TenantRecord,
    user: UserRecord,
    code: string,
    client: { ip: string | null; userAgent: string | null },
    audit: import('./audit/writer.js').AuditContext,
  ) => Promise<SignInAnswer>;
}

/** Which tenants keep their audit trail for a limited time (the tenants module provides it; the CLI prunes). */
export interface RetentionProvider {
  /** Tenants whose settings set audit_retention_days, with that number (cross-tenant by nature). */
  tenantsWithRetention: () => Promise<{ tenantId: number; days: number }[]>;
}

/**
 * What modules provide to the platform and to each other, by name. A module declares the names it provides
 * (AppModule.provides: one factory each) and the names it needs (AppModule.needs); app.ts builds the providers
 * in need order and refuses to boot when a need is missing or the needs form a cycle (platform/module-order.ts).
 * Credential schemes are not providers (several modules contribute one): see AppContext.credentials.
 */
export interface Providers {
  tenancy: TenancyProvider;
  sessions: SessionsProvider;
  permissions: PermissionsProvider;
  users: UsersProvider;
  mfa: MfaProvider;
  retention: RetentionProvider;
}
export type ProviderName = keyof Providers;

/** The platform's own services, built by app.ts before any module. */
export interface PlatformServices {
  config: Readonly<Config>;
  /** Wall clock for token and session expiry (movable in tests; see platform/clock.ts). */
  clock: Clock;
  database: Database;
  store: KeyValueStore;
  hasher: PasswordHasher;
  secretBox: SecretBox;
  jwt: JwtService;
  log: FastifyBaseLogger;
  mailer: Mailer;
  metrics: Metrics;
  /**
   * The process's place in its life: `draining` from SIGTERM until the server closes (main.ts), while every
   * request is still served but /ready answers 503 and responses ask keep-alive clients to reconnect elsewhere.
   */
  lifecycle: { draining: boolean };
}

/** A pending invitation found for a first sign-in (Hooks.invitedSignUp). */
export interface InvitedSignUp {
  invitationId: string;
  /** Gives the invited roles to the new user and marks the invitation accepted; notes for the audit record. */
  accept: (
    userId: number,
    audit: import('./audit/writer.js').AuditContext,
  ) => Promise<Record<string, unknown>>;
}

/** Events a module announces and other modules subscribe to, in module list order (their setup). */
export interface Hooks {
  tenantCreated: TenantCreatedHook[];
  /** Runs in the transaction that creates a user (RBAC gives self-registered users `member`). */
  userCreated: ((
    tx: Tx,
    tenantId: number,
    userId: number,
    source: 'register' | 'admin' | 'cli' | 'sso' | 'scim' | 'invitation',
  ) => Promise<void>)[];
  /**
   * Before a password is checked at sign-in (password login, its MFA step included) or set at self-registration
   * (POST /auth/register): a hook answers a refusal (the SSO module: the tenant requires SSO for the email's
   * domain) or null. Lets auth ask the modules above it without importing them. The refusal is audited
   * (`auth.login_failed` / `auth.register_failed`) and answered by auth.
   */
  passwordSignIn: ((tx: Tx, tenant: TenantRecord, email: string) => Promise<SignInRefusal | null>)[];
  /**
   * Before ANY session is opened (auth's completeLogin: password, its MFA step, SSO, social login) and before a
   * session is refreshed: a hook answers a refusal for this user signing in this way (the SSO module: the
   * user's domain requires SSO through a connection other than `via`) or null. Runs in the caller's
   * transaction; auth audits and answers the refusal.
   */
  signIn: ((
    tx: Tx,
    tenant: TenantRecord,
    user: UserRecord,
    via: SignInVia,
  ) => Promise<SignInRefusal | null>)[];
  /**
   * In the transaction of a password reset of an account whose email was NOT verified: the mailbox is proven
   * only now, so what was attached to the account before (the SSO module: external identities, a pre-account
   * hijack) goes. Each hook audits what it ended and returns notes for the reset's audit record.
   */
  unverifiedAccountReset: ((
    tx: Tx,
    tenantId: number,
    userId: number,
    audit: import('./audit/writer.js').AuditContext,
  ) => Promise<Record<string, unknown>>)[];
  /**
   * In the transaction of a first SSO sign-in of an address that has no account yet, through an enterprise
   * connection that a verified domain of the address routes to: a hook holding a pending invitation of that
   * address (locked until the transaction ends) answers it, and the SSO module creates the account even when the
   * connection's just-in-time provisioning is off, then calls `accept` with the new user in the same transaction
   * (the invited roles, the invitation marked accepted, audited). Null: no invitation.
   */
  invitedSignUp: ((tx: Tx, tenantId: number, email: string) => Promise<InvitedSignUp | null>)[];
  /** After a sign-in committed (security alert mail for a new device, etc.). Errors are logged, not thrown. */
  loginSucceeded: ((event: {
    tenantId: number;
    userId: number;
    email: string;
    sessionId: string;
    ip: string | null;
    userAgent: string | null;
    deviceType: string | null;
    browser: string | null;
    os: string | null;
  }) => Promise<void>)[];
  /**
   * In the transaction that deactivates, deletes, erases or anonymises a user (before the row goes): each module
   * ends what the account gave access to outside sessions and keys (WireGuard revokes the user's peers), audited
   * in that transaction. Lets users and GDPR reach those modules without importing them.
   */
  userDeactivated: ((
    tx: Tx,
    tenantId: number,
    userId: number,
    reason: UserDeactivationReason,
    audit: import('./audit/writer.js').AuditContext,
  ) => Promise<void>)[];
  /**
   * In the transaction that ends ALL of a user's sessions at once (the user's "sign out everywhere", an admin
   * ending them): each module ends what those sessions handed out elsewhere (the OpenID Provider: the user's
   * grants and tokens at the tenant's applications) and returns how many things it ended, for the audit record.
   */
  userSessionsEnded: ((tx: Tx, tenantId: number, userId: number) => Promise<number>)[];
  /**
   * In the transaction that changed a user's email address: each module ends what the old address could still
   * do (password reset voids links mailed to it) and returns notes for that change's audit record.
   */
  userEmailChanged: ((tx: Tx, tenantId: number, userId: number) => Promise<Record<string, unknown>>)[];
  /**
   * GDPR export: each module adds the user's data it holds, as the section named `name` (or, with `spread`, as
   * several top-level sections: `collect` then returns an object keyed by section). The GDPR module only
   * orchestrates; the users module's `user` section being null means the tenant has no such user.
   */
  gdprExport: {
    name: string;
    spread?: boolean;
    collect: (tx: Tx, tenantId: number, userId: number) => Promise<unknown>;
  }[];
  /**
   * GDPR erasure and anonymisation (`erasure.mode`): each module erases or scrubs what it holds, inside the one
   * transaction of the erasure. What must not happen unless that transaction commits (store flags other replicas
   * read) is handed to `afterCommit`, which runs it once the erasure has committed. Hooks run by `phase`: `data`
   * (the default, in registration order), then `audit` (the trail's personal values: after every hook that may
   * write a record), then `account` (the user row itself, last). A hook may return figures for the answer
   * (`sessions_revoked`, `audit_values_erased`).
   */
  gdprErase: {
    name: string;
    phase?: GdprErasePhase;
    erase: (
      tx: Tx,
      tenantId: number,
      userId: number,
      afterCommit: (fn: AfterCommit) => void,
      erasure: GdprErasure,
      // biome-ignore lint/suspicious/noConfusingVoidType: most hooks report no figure and simply return
    ) => Promise<void | Record<string, number>>;
  }[];
}

/**
 * The composition root's whole context: platform services, every provider, the hooks. A module's services take
 * the narrow part they use (the module's deps.ts); the AppContext satisfies each structurally.
 */
export interface AppContext extends PlatformServices, Providers {
  hooks: Hooks;
  /**
   * The credential schemes the request guard knows besides access tokens, one per contributing module
   * (AppModule.credentialScheme), in module list order; built once every provider exists. Empty: every bearer
   * token is an access token.
   */
  credentials: readonly CredentialScheme[];
}
