/**
 * What the tenant-admin module's services use: platform services, and what other modules provide. The composition root's AppContext
 * satisfies it structurally; tests and other callers may pass anything that does.
 */
import type { AppContext, MfaProvider, UsersProvider } from '../../platform/context.js';

export interface TenantAdminDeps
  extends Pick<AppContext, 'clock' | 'config' | 'database' | 'hasher' | 'hooks' | 'jwt' | 'log' | 'store'> {
  // hasher, mfa and users: read by the users module's services (a new tenant's first admin); clock, jwt: by sessions'.
  mfa: MfaProvider;
  users: UsersProvider;
}
