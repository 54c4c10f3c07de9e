/** Every store key in one place, so their shapes and lifetimes are reviewed together. */
export const keys = {
  /** Present while a session's access tokens must be refused (TTL: the access token lifetime). */
  sessionRevoked: (sessionId: string) => `sess:rev:${sessionId}`,
  /** Present while a tenant is suspended. */
  tenantSuspended: (tenantId: number) => `tenant:susp:${tenantId}`,
  /** Bumped on every role/permission change of a tenant; invalidates cached permission sets everywhere. */
  permissionVersion: (tenantId: number) => `perm:ver:${tenantId}`,
  /** Login attempts per (tenant, email) within the lockout window. */
  loginAttempts: (tenantId: number, email: string) => `lock:login:${tenantId}:${email}`,
  rateLimit: (bucket: string, identity: string, window: number) => `rl:${bucket}:${identity}:${window}`,
};
