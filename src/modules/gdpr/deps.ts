/**
 * What the gdpr module's services use: platform services, the hooks through which every module exports and erases
 * what it holds, and what other modules provide. The composition root's AppContext satisfies it structurally; tests
 * and other callers may pass anything that does.
 */
import type { AppContext, UsersProvider } from '../../platform/context.js';

export interface GdprDeps extends Pick<AppContext, 'config' | 'database' | 'hooks' | 'log' | 'store'> {
  users: UsersProvider;
}
