/**
 * What the users module's services use: platform services, and what other modules provide. The composition root's AppContext
 * satisfies it structurally; tests and other callers may pass anything that does.
 */
import type { AppContext, MfaProvider, UsersProvider } from '../../platform/context.js';

export interface UsersDeps
  extends Pick<AppContext, 'clock' | 'config' | 'database' | 'hasher' | 'hooks' | 'jwt' | 'log' | 'store'> {
  mfa: MfaProvider;
  users: UsersProvider;
}
