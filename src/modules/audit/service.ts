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
import type { ActorType, AuditContext } from '../../platform/audit/writer.js';
import type { Executor } from '../../platform/db/client.js';
import { notFound } from '../../platform/http/errors.js';
import { apiKeyNames } from '../api-keys/index.js';
import { userByEmail, userEmailsById } from '../users/index.js';
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
    const actors = q.actor === undefined ? null : await actorsNamed(tx, tenantId, q.actor.trim());
    if (actors?.length === 0) return { items: [], next_cursor: null };
    // One extra row tells whether there is a next page without a count query.
    const rows = await repo.listPage(
      tx,
      tenantId,
      q,
      q.cursor ? readCursor(q.cursor) : null,
      limit + 1,
      actors,
    );
    const page = rows.slice(0, limit);
    const names = await actorNames(tx, tenantId, page);
    const items = await withPii(tx, tenantId, page);
    return {
      items: items.map((l) => ({ ...l, actor_name: names.get(`${l.actor_type}:${l.actor_id}`) ?? null })),
      next_cursor: rows.length > limit ? writeCursor(page[page.length - 1]!) : null,
    };
  });
}

/**
 * The listing's cursor: `<id>.<created_at in ms>` of the page's last record (the date bounds the next page by
 * time: repo.listPage). A bare `<id>`, as earlier versions gave, still pages correctly, only without the bound.
 */
function writeCursor(last: AuditRow): string {
  return `${last.id}.${last.createdAt.getTime()}`;
}
function readCursor(cursor: string): repo.Position {
  const [id, at] = cursor.split('.');
  return { id: Number(id), at: at === undefined ? null : new Date(Number(at)) };
}

/** `type:id`: users, keys and the system by number; an OIDC client (machine tokens) by its uuid. */
const TYPED_ACTOR =
  /^(?:(user|api_key|system):([0-9]{1,18})|(oidc_client):([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}))$/;

/**
 * The `actor` filter, read as people name actors, in the tenant only: `user:<id>` / `api_key:<id>`, a bare id
 * (any type, as actor_id), an email (that user of the tenant), else a key name (every key so named). Empty: no
 * actor of the tenant has that name.
 */
async function actorsNamed(tx: Executor, tenantId: number, actor: string): Promise<repo.ActorRef[]> {
  const typed = TYPED_ACTOR.exec(actor);
  if (typed) return [{ type: (typed[1] ?? typed[3]) as ActorType, id: (typed[2] ?? typed[4])! }];
  if (/^[0-9]{1,18}$/.test(actor)) return [{ type: null, id: actor }];
  if (actor.includes('@')) {
    const user = await userByEmail(tx, tenantId, actor.toLowerCase());
    return user ? [{ type: 'user', id: String(user.id) }] : [];
  }
  const named = await apiKeyNames(tx, tenantId, { name: actor });
  return named.map((k) => ({ type: 'api_key', id: String(k.id) }));
}

/** `type:id` → the user's email or the key's name, for the page's actors (ones since deleted have none). */
async function actorNames(tx: Executor, tenantId: number, rows: AuditRow[]): Promise<Map<string, string>> {
  const ids = (type: string) => [
    ...new Set(rows.filter((r) => r.actorType === type && r.actorId).map((r) => Number(r.actorId))),
  ];
  const names = new Map<string, string>();
  // One statement for the page's users and one for its keys: a page of sign-ins names up to one user per record.
  const [emails, keys] = await Promise.all([
    userEmailsById(tx, tenantId, ids('user').filter(Number.isSafeInteger)),
    apiKeyNames(tx, tenantId, { ids: ids('api_key').filter(Number.isSafeInteger) }),
  ]);
  for (const [id, email] of emails) names.set(`user:${id}`, email);
  for (const k of keys) names.set(`api_key:${k.id}`, k.name);
  return names;
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
