/** `/api/v1/audit` (API.md §16): listing, streamed export and chain verification, all in the caller's tenant. */

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../platform/http/access.js';
import { errorResponses } from '../../platform/http/schemas.js';
import type { AuditDeps } from './deps.js';
import { AuditPage, ExportQuery, ListQuery, VerifyJob, VerifyResponse } from './schemas.js';
import * as audit from './service.js';

export function auditRoutes(ctx: AuditDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/logs',
      {
        config: { access: 'audit.read' },
        schema: {
          tags: ['audit'],
          summary: 'Audit records, newest first, cursor-paginated',
          querystring: ListQuery,
          response: { 200: AuditPage, ...errorResponses(401, 403, 422) },
        },
      },
      (req) => audit.listLogs(ctx, requirePrincipal(req).tenantId, req.query),
    );

    app.get(
      '/logs/export',
      {
        config: { access: 'audit.export' },
        schema: {
          tags: ['audit'],
          summary: 'Streamed export (NDJSON or CSV), oldest first',
          querystring: ExportQuery,
          response: {
            200: Type.String({ description: 'application/x-ndjson or text/csv, streamed' }),
            ...errorResponses(401, 403, 422),
          },
        },
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

    app.get(
      '/verify',
      {
        config: { access: 'audit.read' },
        schema: {
          tags: ['audit'],
          summary:
            "Recompute the tenant's hash chain (from the last full verification's mark when there is one)",
          response: { 200: VerifyResponse, ...errorResponses(401, 403) },
        },
      },
      (req) => audit.verify(ctx, requirePrincipal(req).tenantId),
    );

    app.post(
      '/verify/full',
      {
        config: { access: 'audit.read' },
        schema: {
          tags: ['audit'],
          summary: 'Start a full re-verification of the chain in the background (or report the one running)',
          response: { 200: VerifyJob, 202: VerifyJob, ...errorResponses(401, 403) },
        },
      },
      async (req, reply) => {
        const { job, started } = await audit.startFullVerification(
          ctx,
          requirePrincipal(req).tenantId,
          req.auditContext(),
        );
        return reply.code(started ? 202 : 200).send(job);
      },
    );

    app.get(
      '/verify/full',
      {
        config: { access: 'audit.read' },
        schema: {
          tags: ['audit'],
          summary: "The tenant's latest full re-verification: progress, then its result",
          response: { 200: VerifyJob, ...errorResponses(401, 403, 404) },
        },
      },
      (req) => audit.fullVerification(ctx, requirePrincipal(req).tenantId),
    );
  };
}
