/**
 * What the password-reset module's services use: platform services, and the users provider (an admin's reset
 * link checks the admin dominates the user). The composition root's AppContext
 * satisfies it structurally; tests and other callers may pass anything that does.
 */
import type { AppContext } from '../../platform/context.js';

export interface PasswordResetDeps
  extends Pick<
    AppContext,
    'clock' | 'config' | 'database' | 'hasher' | 'hooks' | 'jwt' | 'log' | 'mailer' | 'store' | 'users'
  > {}
