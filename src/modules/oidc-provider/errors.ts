/** The OpenID Provider's error catalogue (the interaction endpoints; protocol errors are OAuth's own). */
import { defineErrors } from '../../platform/http/errors.js';

export const oidcProviderErrors = defineErrors({
  INTERACTION_EXPIRED: [
    404,
    "Cette demande de connexion a expiré : revenez à l'application et recommencez",
    'This sign-in request has expired: go back to the application and try again',
  ],
  INTERACTION_WRONG_STEP: [
    409,
    "Cette demande de connexion n'en est pas à cette étape",
    'This sign-in request is not at this step',
  ],
  OIDC_SIGN_IN_NEEDS_USER: [
    403,
    'Seul un utilisateur connecté peut se connecter à une application',
    'Only a signed-in user can sign in to an application',
  ],
  OIDC_WRONG_TENANT: [
    403,
    "La session ouverte appartient à une autre organisation que celle de l'application",
    "The session belongs to another organisation than the application's",
  ],
});
