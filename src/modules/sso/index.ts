/**
 * The SSO module's door (API.md §17): SSO connections, their verified domains, external identities, the
 * protocol flows (OIDC here, SAML in ./saml/) and the sign-in completion that OIDC, SAML and social login share.
 * It refuses password sign-in for domains that require SSO through auth's passwordSignIn hook (auth sits below).
 */
import type { AppModule } from '../../platform/module.js';
import { ssoErrors } from './errors.js';
import { registeredFlows, registerFlow, type SsoFlow } from './flows.js';
import { identityRead } from './identities.js';
import { oidcFlow } from './oidc/flow.js';
import { dropIdentitiesOnReset } from './pre-account.js';
import * as repo from './repository.js';
import { ssoRoutes } from './routes.js';
import { samlErrors } from './saml/errors.js';
import { samlFlows } from './saml/index.js';
import { signInRefusal, ssoRequiredRefusal } from './service.js';
import { socialErrors } from './social/errors.js';
import { socialRoutes } from './social/routes.js';

const flows: SsoFlow[] = [oidcFlow, ...samlFlows];

export const ssoModule: AppModule = {
  name: 'sso',
  errors: [ssoErrors, samlErrors, socialErrors],
  // A sign-in through SSO reads the user's MFA status (step or enrolment after the IdP).
  needs: ['mfa'],
  setup: (ctx) => {
    for (const flow of flows) registerFlow(flow);
    ctx.hooks.passwordSignIn.push((tx, tenant, email) => ssoRequiredRefusal(tx, tenant, email));
    // Every session opened or refreshed, whatever the path (issue 18): only the required connection's own.
    ctx.hooks.signIn.push((tx, tenant, user, via) => signInRefusal(tx, tenant, user, via));
    // A password reset of an unverified account keeps none of the identities linked before it (issue 18).
    ctx.hooks.unverifiedAccountReset.push(dropIdentitiesOnReset);
    ctx.hooks.gdprExport.push({
      name: 'external_identities',
      collect: async (tx, tenantId, userId) =>
        (await repo.identitiesOfUser(tx, tenantId, userId)).map(identityRead),
    });
    ctx.hooks.gdprErase.push({
      name: 'external_identities',
      erase: async (tx, tenantId, userId) => {
        await repo.deleteIdentitiesOfUser(tx, tenantId, userId);
      },
    });
  },
  routes: (ctx) => [
    { prefix: '/api/v1/sso', plugin: ssoRoutes(ctx) },
    ...registeredFlows()
      .filter((f) => f.routes)
      .map((f) => ({ prefix: '/api/v1/sso', plugin: f.routes!(ctx) })),
    // Social login (API.md §9), on the same machinery.
    { prefix: '/api/v1/oauth', plugin: socialRoutes(ctx) },
  ],
};
export { samlSpKeyAad } from './saml/sp-key.js';
export { oidcSecretAad, routesToConnection } from './service.js';
