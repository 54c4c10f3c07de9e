/**
 * SAML 2.0 service provider (API.md §17), owned by the SAML work. The SSO core includes `samlFlows` in the
 * module (index.ts registers each flow and mounts its routes under /api/v1/sso); see ../flows.ts for the
 * SsoFlow interface, the single-use flow state and the shared sign-in completion (../signin.ts).
 * Empty until the SAML flow lands: SAML connections can be configured, and authorize answers 400
 * SSO_FLOW_UNAVAILABLE.
 */
import type { SsoFlow } from '../flows.js';

export const samlFlows: SsoFlow[] = [];
