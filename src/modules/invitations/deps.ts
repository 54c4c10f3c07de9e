/**
 * What the invitations module's services use: what sign-in uses (the accepted invitation opens the new user's
 * first session, through auth's completeLogin). The composition root's AppContext satisfies it structurally.
 */
import type { AuthDeps } from '../auth/index.js';

export interface InvitationsDeps extends AuthDeps {}
