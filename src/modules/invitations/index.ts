/**
 * The invitations module (issue 20): administrators invite an address with roles; the invited person accepts with
 * a password (public routes) or through the tenant's SSO connection (ctx.hooks.invitedSignUp, which the SSO module
 * calls at a first sign-in: no import of this module from SSO).
 */
import type { AppModule } from '../../platform/module.js';
import { invitationsErrors } from './errors.js';
import { deleteForPerson } from './repository.js';
import { invitationRoutes } from './routes.js';
import { exportForPerson, invitedSignUp } from './service.js';

export const invitationsModule: AppModule = {
  name: 'invitations',
  errors: [invitationsErrors],
  // Accepting opens the first session: the tenant's MFA requirement (and the user rows auth signs in).
  needs: ['mfa'],
  setup: (ctx) => {
    ctx.hooks.invitedSignUp.push(invitedSignUp);
    // --- gdpr hooks --- The invitation carries the person's address: it is theirs to see, and it goes with them
    // (both modes).
    ctx.hooks.gdprExport.push({ name: 'invitations', collect: exportForPerson });
    ctx.hooks.gdprErase.push({
      name: 'invitations',
      erase: async (tx, tenantId, userId, _afterCommit, erasure) => {
        await deleteForPerson(tx, tenantId, userId, erasure.email.toLowerCase());
      },
    });
  },
  // The accept routes answer tokens.
  noStorePrefixes: ['/api/v1/invitations/accept'],
  routes: (ctx) => [{ prefix: '/api/v1/invitations', plugin: invitationRoutes(ctx) }],
};
