/**
 * Audit trail reads for auditors (API.md §16): paginated listing, streamed export, chain verification.
 * Personal values are shown from audit_pii while they exist; after a GDPR erasure only the opaque reference
 * remains in the record.
 */

import { Readable } from 'node:stream';
import { writeAuditAlone } from '../../platform/audit/alone.js';
import { collectRefs, lookupPii, rehydrate } from '../../platform/audit/pii.js';
import { type RecordLine, recordLine } from '../../platform/audit/retention.js';
import type { AuditRow, AuditTextTimeRow } from '../../platform/audit/tables.js';
import { type VerifyResult, verifyChain } from '../../platform/audit/verify.js';
import { readVerifyJob, startVerifyJob } from '../../platform/audit/verify-jobs.js';
import type { AuditContext } from '../../platform/audit/writer.js';
import type { Executor } from '../../platform/db/client.js';
import { notFound } from '../../platform/http/errors.js';
import type { AuditDeps } from './deps.js';
import * as repo from './repository.js';
import type { ExportQuery, Filters, ListQuery } from './schemas.js';

export const EXPORT_PAGE = 1000;

async function withPii(
  tx: Executor,
  tenantId: number,
  rows: (AuditRow | AuditTextTimeRow)[],
): Promise<RecordLine[]> {
  const lines = rows.map(recordLine);
  const values = await lookupPii(tx, tenantId, collectRefs(rows.map((r) => r.metadata)));
  return values.size === 0 ? lines : lines.map((l) => ({ ...l, metadata: rehydrate(l.metadata, values) }));
}

export async function listLogs(ctx: AuditDeps, tenantId: number, q: ListQuery) {
  const limit = q.limit ?? 50;
  // Listing and export may be served by the read replica (platform/db/replica.ts).
  return ctx.database.withTenantRead(tenantId, async (tx) => {
    // One extra row tells whether there is a next page without a count query.
    const rows = await repo.listPage(tx, tenantId, q, q.cursor ? Number(q.cursor) : null, limit + 1);
    const page = rows.slice(0, limit);
    return {
      items: await withPii(tx, tenantId, page),
      next_cursor: rows.length > limit ? String(page[page.length - 1]!.id) : null,
    };
  });
}

const CSV_COLUMNS = [
  'id',
  'tenant_id',
  'seq',
  'event_type',
  'actor_type',
  'actor_id',
  'resource_type',
  'resource_id',
  'success',
  'ip_address',
  'user_agent',
  'request_id',
  'session_id',
  'metadata',
  'created_at',
  'prev_hash',
  'hash',
] as const;

/**
 * One CSV cell, per OWASP's CSV injection guidance: every cell is quoted (a quoted `x;=1+1` stays one inert cell
 * in `;`-separated locales too), inner quotes are doubled, and a cell starting with = + - @ tab or CR gets a
 * leading ' so no spreadsheet reads it as a formula.
 */
export function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

/**
 * The export as a stream: pages of EXPORT_PAGE rows, each read in its own short transaction and pulled only
 * when the client has taken the previous one (Readable.from respects backpressure), so memory stays flat.
 * The next page is read (and serialised) while the current one is written, so the database and the socket work
 * at the same time instead of in turn: at most two pages are held. NDJSON lines are written by PostgreSQL
 * around their metadata (readNdjsonPage).
 */
export async function exportLogs(ctx: AuditDeps, tenantId: number, q: ExportQuery, audit: AuditContext) {
  const format = q.format ?? 'ndjson';
  const filters: Filters = { ...q };
  delete (filters as { format?: string }).format;
  await writeAuditAlone(ctx, tenantId, audit, {
    eventType: 'audit.exported',
    resourceType: 'audit_log',
    metadata: { format, filters },
  });
  // A page: its text, the last id read, and whether another page may follow.
  type Page = { text: string; last: number | undefined; full: boolean };
  const readCsvPage = (afterId: number): Promise<Page> =>
    ctx.database.withTenantRead(tenantId, async (tx) => {
      const rows = await repo.exportPage(tx, tenantId, filters, afterId, EXPORT_PAGE);
      const lines = await withPii(tx, tenantId, rows);
      return {
        text: lines
          .map((l) => `${CSV_COLUMNS.map((c) => csvCell(l[c as keyof RecordLine])).join(',')}\n`)
          .join(''),
        last: rows.at(-1)?.id,
        full: rows.length === EXPORT_PAGE,
      };
    });
  const readPage =
    format === 'csv' ? readCsvPage : (afterId: number) => readNdjsonPage(ctx, tenantId, filters, afterId);
  async function* pages() {
    if (format === 'csv') yield `${CSV_COLUMNS.map(csvCell).join(',')}\n`;
    let next: Promise<Page> | null = readPage(0);
    try {
      while (next) {
        const page: Page = await next;
        next = page.full && page.last !== undefined ? readPage(page.last) : null;
        if (page.text.length > 0) yield page.text;
      }
    } finally {
      // A client that goes away mid-export leaves a read in flight: it ends on its own; its failure is nobody's.
      next?.catch(() => {});
    }
  }
  return { format, stream: Readable.from(pages(), { objectMode: false }) };
}

/**
 * A page of the NDJSON export: PostgreSQL writes each line around its metadata (repo.exportNdjsonPage), the
 * metadata gets its personal values back as in withPii, and the three parts are joined. Same bytes as
 * JSON.stringify(recordLine(row)), at about twice the rate (docs/scaling.md).
 */
function readNdjsonPage(ctx: AuditDeps, tenantId: number, filters: Filters, afterId: number) {
  return ctx.database.withTenantRead(tenantId, async (tx) => {
    const parts = await repo.exportNdjsonPage(tx, tenantId, filters, afterId, EXPORT_PAGE);
    const values = await lookupPii(tx, tenantId, collectRefs(parts.map((p) => p.metadata)));
    let text = '';
    for (const p of parts) {
      const metadata = values.size === 0 ? p.metadata : rehydrate(p.metadata, values);
      text += `${p.head.slice(0, -1)},"metadata":${JSON.stringify(metadata)},${p.tail.slice(1)}\n`;
    }
    return { text, last: parts.at(-1)?.id, full: parts.length === EXPORT_PAGE };
  });
}

/** From the verification mark of the last full run when there is one (then moved on), else from the anchor. */
export function verify(ctx: AuditDeps, tenantId: number): Promise<VerifyResult> {
  return verifyChain(ctx.database, tenantId, { incremental: true });
}

/** Starts a full re-verification in the background, or reports the one running. */
export async function startFullVerification(ctx: AuditDeps, tenantId: number, audit: AuditContext) {
  return startVerifyJob(ctx, tenantId, (job) =>
    writeAuditAlone(ctx, tenantId, audit, {
      eventType: 'audit.verification_started',
      resourceType: 'audit_log',
      metadata: { job_id: job.job_id },
    }),
  );
}

export async function fullVerification(ctx: AuditDeps, tenantId: number) {
  const job = await readVerifyJob(ctx, tenantId);
  if (!job) throw notFound('audit_verification_job');
  return job;
}
