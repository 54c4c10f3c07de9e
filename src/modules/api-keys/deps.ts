/**
 * What the api-keys module's services use: platform services, and what other modules provide. The composition root's AppContext
 * satisfies it structurally; tests and other callers may pass anything that does.
 */
import type { AppContext, UsersProvider } from '../../platform/context.js';

export interface ApiKeysDeps extends Pick<AppContext, 'config' | 'database' | 'log' | 'store'> {
  users: UsersProvider;
}
