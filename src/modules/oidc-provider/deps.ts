/** What the OpenID Provider's services use (the composition root's AppContext satisfies it structurally). */
import type { AppContext } from '../../platform/context.js';

export interface OidcProviderDeps
  extends Pick<
    AppContext,
    'clock' | 'config' | 'database' | 'log' | 'store' | 'jwt' | 'hooks' | 'mfa' | 'users' | 'metrics'
  > {}
