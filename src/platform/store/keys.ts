/** Every store key in one place, so their shapes and lifetimes are reviewed together. */
export const keys = {
  /** A tenant's latest full audit re-verification job (JSON, verify-jobs.ts). TTL: 7 days after its last update. */
  auditVerifyJob: (tenantId: number) => `audit:verify:job:${tenantId}`,
  /** Held while a tenant's full re-verification runs (one at a time per tenant, on any replica). TTL: 1 hour. */
  auditVerifyLock: (tenantId: number) => `audit:verify:lock:${tenantId}`,
  /**
   * Present while a session's access tokens must be refused: `revoked` or `expired` (idle or absolute end).
   * TTL: the longest access token that can exist plus clock skew (sessions/service.ts revocationTtlSeconds).
   */
  sessionRevoked: (sessionId: string) => `sess:rev:${sessionId}`,
  /** A session's last recorded activity (epoch ms), written at most about once a minute; read with the above. */
  sessionLastSeen: (sessionId: string) => `sess:seen:${sessionId}`,
  /** Present while a tenant is suspended. */
  tenantSuspended: (tenantId: number) => `tenant:susp:${tenantId}`,
  /** Bumped on every role/permission change of a tenant; invalidates cached permission sets everywhere. */
  permissionVersion: (tenantId: number) => `perm:ver:${tenantId}`,
  /**
   * Changed (a new random value, after the commit) on every change of a user: profile, email, password, activation,
   * deletion, GDPR erasure, MFA factors. With the permission and tenant versions it keys each replica's cached
   * identity (GET /auth/me), read in the guard's one mget.
   */
  userVersion: (tenantId: number, userId: number) => `user:ver:${tenantId}:${userId}`,
  /** Changed on every tenant settings change; invalidates each replica's cached settings (allowed_ip_ranges). */
  tenantVersion: (tenantId: number) => `tenant:ver:${tenantId}`,
  /** Login attempts per (tenant, email) within the lockout window. */
  loginAttempts: (tenantId: number, email: string) => `lock:login:${tenantId}:${email}`,
  rateLimit: (bucket: string, identity: string, window: number) => `rl:${bucket}:${identity}:${window}`,
  /** Present once an API key is revoked (TTL: longer than any in-process key cache); checked on every use. */
  apiKeyRevoked: (keyId: number) => `apikey:rev:${keyId}`,
  /**
   * Present while an OIDC client is disabled or deleted (or lost client_credentials): its machine tokens fail at
   * once on every replica, read in the guard's one mget; removed when the client is usable again.
   */
  oidcClientRevoked: (clientRowId: string) => `oidc:client:rev:${clientRowId}`,
  /** Present while a user is deactivated (or for a day after deletion): their API keys fail at once everywhere. */
  userInactive: (tenantId: number, userId: number) => `user:inactive:${tenantId}:${userId}`,
  /** Present for a minute after an API key's last_used_at was written: at most one write a minute per key. */
  apiKeyLastUsed: (keyId: number) => `apikey:used:${keyId}`,
  /** MFA code attempts per user (reserved before checking); past the limit it is the lock itself. */
  mfaAttempts: (tenantId: number, userId: number) => `mfa:att:${tenantId}:${userId}`,
  /** An accepted TOTP time step of a user: present while the step could still validate (anti-replay). */
  totpUsed: (tenantId: number, userId: number, step: number) => `mfa:used:${tenantId}:${userId}:${step}`,
  /** The pending WebAuthn challenge of a user: `reg` (registration), `auth` (login step), `step` (step-up). Short TTL. */
  webauthnChallenge: (kind: 'reg' | 'auth' | 'step', tenantId: number, userId: number) =>
    `mfa:wa:${kind}:${tenantId}:${userId}`,
  /** A consumed single-use value (MFA step token jti, WebAuthn challenge). */
  mfaConsumed: (id: string) => `mfa:done:${id}`,
  /** A second factor proven by this session (step-up): present for 5 minutes after the proof. */
  stepUp: (tenantId: number, userId: number, sessionId: string) =>
    `mfa:stepup:${tenantId}:${userId}:${sessionId}`,
  /** The current JWT signing key id of an algorithm, set by `keys rotate-jwt`; replicas read it before signing. */
  jwtCurrentKid: (alg: string) => `jwt:kid:${alg}`,
};
