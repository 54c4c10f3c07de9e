/**
 * What the sessions module's services use: platform services. The composition root's AppContext
 * satisfies it structurally; tests and other callers may pass anything that does.
 */
import type { AppContext } from '../../platform/context.js';

export interface SessionsDeps
  extends Pick<AppContext, 'clock' | 'config' | 'database' | 'hooks' | 'jwt' | 'store'> {}
