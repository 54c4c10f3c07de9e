/** `/api/v1/audit` (API.md §16): listing, streamed export and chain verification, all in the caller's tenant. */

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../platform/http/access.js';
import { routes } from '../../platform/http/route.js';
import type { AuditDeps } from './deps.js';
import { AuditPage, ExportQuery, ListQuery, VerifyJob, VerifyResponse } from './schemas.js';
import * as audit from './service.js';

export function auditRoutes(ctx: AuditDeps): FastifyPluginAsyncTypebox {
  return routes('audit', (route) => {
    route(
      'GET /logs',
      'Audit records, newest first, cursor-paginated',
      { access: 'audit.read', query: ListQuery, ok: AuditPage, errors: [422] },
      (req) => audit.listLogs(ctx, requirePrincipal(req).tenantId, req.query),
    );

    route(
      'GET /logs/export',
      'Streamed export (NDJSON or CSV), oldest first',
      {
        access: 'audit.export',
        query: ExportQuery,
        ok: Type.String({ description: 'application/x-ndjson or text/csv, streamed' }),
        errors: [422],
      },
      async (req, reply) => {
        const { format, stream } = await audit.exportLogs(
          ctx,
          requirePrincipal(req).tenantId,
          req.query,
          req.auditContext(),
        );
        const stamp = new Date().toISOString().slice(0, 10);
        reply
          .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
          .header('content-disposition', `attachment; filename="audit-${stamp}.${format}"`)
          .header('cache-control', 'no-store');
        // A stream bypasses response serialisation; the 200 schema only documents the route.
        return reply.send(stream as unknown as string);
      },
    );

    route(
      'GET /verify',
      "Recompute the tenant's hash chain (from the last full verification's mark when there is one)",
      { access: 'audit.read', ok: VerifyResponse },
      (req) => audit.verify(ctx, requirePrincipal(req).tenantId),
    );

    route(
      'POST /verify/full',
      'Start a full re-verification of the chain in the background (or report the one running)',
      { access: 'audit.read', ok: VerifyJob, accepted: VerifyJob },
      async (req, reply) => {
        const { job, started } = await audit.startFullVerification(
          ctx,
          requirePrincipal(req).tenantId,
          req.auditContext(),
        );
        return reply.code(started ? 202 : 200).send(job);
      },
    );

    route(
      'GET /verify/full',
      "The tenant's latest full re-verification: progress, then its result",
      { access: 'audit.read', ok: VerifyJob, errors: [404] },
      (req) => audit.fullVerification(ctx, requirePrincipal(req).tenantId),
    );
  });
}
