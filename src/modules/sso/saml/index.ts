/**
 * SAML 2.0 service provider (API.md §17), owned by the SAML work. The SSO core includes `samlFlows` in the
 * module (index.ts registers each flow and mounts its routes under /api/v1/sso); see ../flows.ts for the
 * SsoFlow interface, the single-use flow state and the shared sign-in completion (../signin.ts).
 * The flow (routes.ts): the SAML branch of authorize, GET /saml/{id}/metadata and POST /saml/acs; the checks
 * themselves are in service-provider.ts.
 */
import type { SsoFlow } from '../flows.js';
import { samlFlow } from './routes.js';

export const samlFlows: SsoFlow[] = [samlFlow];
