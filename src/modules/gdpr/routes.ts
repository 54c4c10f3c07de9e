/** `/api/v1/gdpr` (API.md §9): every action in the caller's tenant, every action audited. */

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requirePrincipal, requireUser } from '../../platform/http/access.js';
import { errorResponses } from '../../platform/http/schemas.js';
import { auditRefusals } from '../rbac/index.js';
import type { Actor } from '../users/index.js';
import type { GdprDeps } from './deps.js';
import { erasureDone } from './errors.js';
import {
  AnonymizeBody,
  DeleteBody,
  ErasureResponse,
  ExportResponse,
  InventoryResponse,
  UserIdParams,
} from './schemas.js';
import * as gdpr from './service.js';

export function gdprRoutes(ctx: GdprDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/export',
      {
        config: { access: 'self', keyScope: 'gdpr.self' },
        schema: {
          tags: ['gdpr'],
          summary: "The caller's personal data (right of access and portability)",
          response: { 200: ExportResponse, ...errorResponses(401, 403) },
        },
      },
      (req) => {
        const p = requireUser(req);
        return gdpr.exportUser(ctx, p.tenantId, p.userId, req.auditContext());
      },
    );

    app.get(
      '/export/:user_id',
      {
        config: { access: 'gdpr.manage' },
        schema: {
          tags: ['gdpr'],
          summary: "A user's personal data",
          params: UserIdParams,
          response: { 200: ExportResponse, ...errorResponses(401, 403, 404, 422) },
        },
      },
      (req) => gdpr.exportUser(ctx, requirePrincipal(req).tenantId, req.params.user_id, req.auditContext()),
    );

    // Erasure and anonymisation differ only in mode and wording: one declaration serves both routes.
    const erasure = [
      {
        method: 'DELETE' as const,
        url: '/delete',
        mode: 'deleted' as const,
        body: DeleteBody,
        summary: 'Erase a user (right to erasure); audit records are pseudonymised, never deleted',
      },
      {
        method: 'POST' as const,
        url: '/anonymize',
        mode: 'anonymized' as const,
        body: AnonymizeBody,
        summary: "Replace a user's personal data by a pseudonym",
      },
    ];
    for (const r of erasure) {
      app.route({
        method: r.method,
        url: r.url,
        config: { access: 'gdpr.manage' },
        schema: {
          tags: ['gdpr'],
          summary: r.summary,
          body: r.body,
          response: { 200: ErasureResponse, ...errorResponses(400, 401, 403, 404, 409, 422) },
        },
        handler: async (req) => {
          const p = requirePrincipal(req);
          const actor: Actor = {
            tenantId: p.tenantId,
            userId: p.userId,
            permissions: await req.permissions(),
            audit: req.auditContext(),
          };
          // A refusal (erasing someone stronger than oneself) is audited like one of DELETE /users/{id}.
          const data = await auditRefusals(
            ctx,
            actor,
            `gdpr.${r.mode === 'deleted' ? 'erase' : 'anonymize'}`,
            () => gdpr.eraseUser(ctx, actor, req.body as DeleteBody | AnonymizeBody, r.mode),
          );
          return { success: true, message: erasureDone(r.mode, req.locale), data };
        },
      });
    }

    app.get(
      '/inventory',
      {
        config: { access: 'self', keyScope: 'gdpr.self' },
        schema: {
          tags: ['gdpr'],
          summary: 'Record of processing: categories, purposes, retention, legal basis, processors, rights',
          response: { 200: InventoryResponse, ...errorResponses(401) },
        },
      },
      (req) => gdpr.tenantInventory(ctx, requirePrincipal(req).tenantId),
    );
  };
}
