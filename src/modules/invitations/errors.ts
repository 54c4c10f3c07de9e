/** The invitations module's error catalogue, in both languages. */
import { defineErrors } from '../../platform/http/errors.js';

export const invitationsErrors = defineErrors({
  /** The address already has an account in the tenant: invite nobody twice, sign in instead. */
  USER_EXISTS: [
    409,
    'Un compte existe déjà pour cette adresse',
    'An account already exists for this address',
  ],
  /** Unknown, malformed, or replaced by a resend: nothing matches the link. */
  INVITATION_INVALID: [404, "Lien d'invitation invalide", 'Invalid invitation link'],
  INVITATION_EXPIRED: [400, 'Cette invitation a expiré', 'This invitation has expired'],
  INVITATION_ALREADY_ACCEPTED: [
    400,
    'Cette invitation a déjà été acceptée',
    'This invitation was already accepted',
  ],
  INVITATION_REVOKED: [400, 'Cette invitation a été révoquée', 'This invitation was revoked'],
  /** Resend or revoke of an invitation that is no longer open. */
  INVITATION_NOT_PENDING: [
    409,
    "Cette invitation n'est plus en attente",
    'This invitation is no longer pending',
  ],
});

/** Why a link is refused, by the invitation's derived status. */
export type InvalidInvitation =
  | 'INVITATION_INVALID'
  | 'INVITATION_EXPIRED'
  | 'INVITATION_ALREADY_ACCEPTED'
  | 'INVITATION_REVOKED';
