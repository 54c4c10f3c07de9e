/**
 * What the mfa module's services use: platform services, and what other modules provide. The composition root's AppContext
 * satisfies it structurally; tests and other callers may pass anything that does.
 */
import type { AppContext, MfaProvider, UsersProvider } from '../../platform/context.js';

export interface MfaDeps
  extends Pick<
    AppContext,
    | 'clock'
    | 'config'
    | 'database'
    | 'hasher'
    | 'hooks'
    | 'jwt'
    | 'log'
    | 'mailer'
    | 'metrics'
    | 'secretBox'
    | 'store'
  > {
  // hooks, jwt, mfa and users: the second sign-in step opens the session through auth's completeLogin.
  mfa: MfaProvider;
  users: UsersProvider;
}
