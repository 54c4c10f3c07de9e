/**
 * What the password-reset module's services use: platform services. The composition root's AppContext
 * satisfies it structurally; tests and other callers may pass anything that does.
 */
import type { AppContext } from '../../platform/context.js';

export interface PasswordResetDeps
  extends Pick<
    AppContext,
    'clock' | 'config' | 'database' | 'hasher' | 'hooks' | 'jwt' | 'log' | 'mailer' | 'store'
  > {}
