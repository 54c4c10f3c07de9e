/** `POST /api/v1/users/{id}/mfa/reset` (issue 20): an administrator resets a user's second factors. */

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../platform/http/access.js';
import { routes, succeeded } from '../../platform/http/route.js';
import { IdParams, SuccessEnvelope } from '../../platform/http/schemas.js';
import { actorOf, auditRefusals } from '../rbac/index.js';
import type { MfaDeps } from './deps.js';
import { localised } from './errors.js';
import { resetUserMfa } from './reset.js';

export function mfaAdminRoutes(ctx: MfaDeps): FastifyPluginAsyncTypebox {
  return routes('users', (route) => {
    route(
      'POST /:id/mfa/reset',
      "Remove a user's second factors and end their sessions (admin; the caller's own step-up within 5 min)",
      {
        access: 'users.write',
        params: IdParams,
        ok: SuccessEnvelope(Type.Object({ sessions_ended: Type.Integer() })),
        // 400 OWN_ACCOUNT (one's own factors: /mfa/disable); 403 also STEP_UP_REQUIRED / OWN_MFA_REQUIRED.
        errors: [400, 404, 422],
      },
      async (req) => {
        const actor = await actorOf(req);
        const { sessionId } = requirePrincipal(req);
        const data = await auditRefusals(ctx, actor, 'user.mfa.reset', () =>
          resetUserMfa(ctx, actor, sessionId, req.params.id),
        );
        const { message } = localised({ message: 'mfa.reset' as const }, req.locale);
        return succeeded(message, data);
      },
    );
  });
}
