/**
 * What the scim module's services use: platform services, and what other modules provide. The composition root's AppContext
 * satisfies it structurally; tests and other callers may pass anything that does.
 */
import type { AppContext, MfaProvider, UsersProvider } from '../../platform/context.js';

export interface ScimDeps
  extends Pick<AppContext, 'clock' | 'config' | 'database' | 'hasher' | 'hooks' | 'jwt' | 'log' | 'store'> {
  // clock, hooks, jwt and mfa: read by the users module's services, through which provisioning writes users.
  mfa: MfaProvider;
  users: UsersProvider;
}
