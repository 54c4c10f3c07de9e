/** `/api/v1/gdpr` (API.md §9): every action in the caller's tenant, every action audited. */

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requirePrincipal, requireUser } from '../../platform/http/access.js';
import { routes, succeeded } from '../../platform/http/route.js';
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
  return routes('gdpr', (route) => {
    route(
      'GET /export',
      "The caller's personal data (right of access and portability)",
      { access: 'self', keyScope: 'gdpr.self', ok: ExportResponse, errors: [403] },
      (req) => {
        const p = requireUser(req);
        return gdpr.exportUser(ctx, p.tenantId, p.userId, req.auditContext());
      },
    );

    route(
      'GET /export/:user_id',
      "A user's personal data",
      { access: 'gdpr.manage', params: UserIdParams, ok: ExportResponse, errors: [404, 422] },
      (req) => gdpr.exportUser(ctx, requirePrincipal(req).tenantId, req.params.user_id, req.auditContext()),
    );

    // Erasure and anonymisation differ only in mode and wording: one declaration serves both routes.
    const erasure = [
      {
        at: 'DELETE /delete',
        mode: 'deleted',
        body: DeleteBody,
        summary: 'Erase a user (right to erasure); audit records are pseudonymised, never deleted',
      },
      {
        at: 'POST /anonymize',
        mode: 'anonymized',
        body: AnonymizeBody,
        summary: "Replace a user's personal data by a pseudonym",
      },
    ] as const;
    for (const { at, mode, summary, body } of erasure) {
      route(
        at,
        summary,
        { access: 'gdpr.manage', body, ok: ErasureResponse, errors: [400, 404, 409, 422] },
        async (req) => {
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
            `gdpr.${mode === 'deleted' ? 'erase' : 'anonymize'}`,
            () => gdpr.eraseUser(ctx, actor, req.body, mode),
          );
          return succeeded(erasureDone(mode, req.locale), data);
        },
      );
    }

    route(
      'GET /inventory',
      'Record of processing: categories, purposes, retention, legal basis, processors, rights',
      { access: 'self', keyScope: 'gdpr.self', ok: InventoryResponse },
      (req) => gdpr.tenantInventory(ctx, requirePrincipal(req).tenantId),
    );
  });
}
