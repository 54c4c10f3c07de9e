/**
 * What the mfa module's services use: platform services, and what other modules provide. The composition root's AppContext
 * satisfies it structurally; tests and other callers may pass anything that does.
 */
import type { AppContext } from '../../platform/context.js';
import type { AuthDeps } from '../auth/index.js';

/** Auth's needs, since the second sign-in step opens the session through auth's completeLogin; and secretBox for TOTP secrets. */
export interface MfaDeps extends AuthDeps, Pick<AppContext, 'secretBox'> {}
