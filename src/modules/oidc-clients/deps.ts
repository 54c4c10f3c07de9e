/** What the OIDC client registry's services use (the composition root's AppContext satisfies it structurally). */
import type { AppContext } from '../../platform/context.js';

export interface OidcClientsDeps
  extends Pick<AppContext, 'clock' | 'config' | 'database' | 'jwt' | 'log' | 'store' | 'users'> {}
