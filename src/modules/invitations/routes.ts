/**
 * `/api/v1/invitations` (issue 20): administrators invite (`users.write`) and list (`users.read`); the invited
 * person reads and accepts a link through the public routes, rate-limited per IP like the reset links.
 */

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../platform/http/access.js';
import { clientOf, routes } from '../../platform/http/route.js';
import { StrictObject, UuidParams } from '../../platform/http/schemas.js';
import { drainBackground } from '../../platform/mail/background.js';
import { authMessage, LoginResponseSchema } from '../auth/index.js';
import { actorOf, auditRefusals } from '../rbac/index.js';
import type { InvitationsDeps } from './deps.js';
import {
  AcceptBody,
  InvitationCreate,
  InvitationList,
  InvitationListQuery,
  InvitationPreview,
  InvitationRead,
  MAX_EXPIRES_IN,
  MIN_EXPIRES_IN,
  TokenParams,
} from './schemas.js';
import * as service from './service.js';

const ResendBody = StrictObject({
  expires_in: Type.Optional(Type.Integer({ minimum: MIN_EXPIRES_IN, maximum: MAX_EXPIRES_IN })),
});

export function invitationRoutes(ctx: InvitationsDeps): FastifyPluginAsyncTypebox {
  return routes('invitations', (route, app) => {
    // Invitation mails still being sent finish before the app closes.
    app.addHook('onClose', async () => drainBackground(ctx));

    route(
      'POST /',
      'Invite an address, with roles the caller may grant; mails a single-use link',
      { access: 'users.write', body: InvitationCreate, created: InvitationRead, errors: [409, 422] },
      async (req) => {
        const actor = await actorOf(req);
        return auditRefusals(ctx, actor, 'invitation.create', () =>
          service.createInvitation(ctx, actor, req.body),
        );
      },
    );

    route(
      'GET /',
      'Invitations of the tenant, newest first',
      { access: 'users.read', query: InvitationListQuery, ok: InvitationList, errors: [422] },
      (req) => service.listInvitations(ctx, requirePrincipal(req).tenantId, req.query),
    );

    route(
      'POST /:id/resend',
      'A new link (the old one stops working) and a new expiry',
      {
        access: 'users.write',
        params: UuidParams,
        body: Type.Optional(ResendBody),
        ok: InvitationRead,
        errors: [404, 409, 422],
      },
      async (req) => {
        const actor = await actorOf(req);
        return auditRefusals(ctx, actor, 'invitation.resend', () =>
          service.resendInvitation(ctx, actor, req.params.id, req.body?.expires_in),
        );
      },
    );

    route(
      'DELETE /:id',
      'Revoke an invitation',
      { access: 'users.write', params: UuidParams, noContent: true, errors: [404, 409, 422] },
      async (req) => {
        const actor = await actorOf(req);
        await service.revokeInvitation(ctx, actor, req.params.id);
      },
    );

    const limited = { access: 'public', rateLimit: { bucket: 'passwordReset' } } as const;

    route(
      'GET /accept/:token',
      'What an invitation link is for (public)',
      {
        ...limited,
        // The token is in the URL: keep this route's request lines (info level) out of the logs.
        logLevel: 'warn',
        params: TokenParams,
        ok: InvitationPreview,
        errors: [400, 404, 422, 429],
      },
      (req) => service.previewInvitation(ctx, req.params.token),
    );

    route(
      'POST /accept',
      'Accept an invitation with a password: the account and its first session (public)',
      {
        ...limited,
        body: AcceptBody,
        ok: LoginResponseSchema,
        errors: [400, 403, 404, 409, 422, 429],
      },
      async (req) => {
        const r = await service.acceptInvitation(ctx, req.body, clientOf(req), req.auditContext());
        return { ...r, message: authMessage(r.message, req.locale) };
      },
    );
  });
}
