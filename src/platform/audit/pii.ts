/**
 * Personal data never enters a hashed audit record. The writer replaces the values of known personal keys in
 * metadata (emails, names, phone numbers, at any depth) by opaque random references `pii:<hex>` and stores the
 * values in `audit_pii`. Erasure deletes those rows; the records and their hashes stay as they were, so the
 * chain still verifies. References are random (not a hash of the value), so they cannot be reversed by
 * guessing emails. See docs/audit.md.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';

/** Keys whose values are personal data wherever they appear in metadata. */
const PII_KEY = /^(email|[a-z0-9_]*_email|emails|first_name|last_name|full_name|phone|[a-z0-9_]*_phone)$/i;
const REF = /^pii:[0-9a-f]{24}$/;

export interface PiiItem {
  ref: string;
  kind: string;
  value: string;
}

export function isPiiRef(v: unknown): v is string {
  return typeof v === 'string' && REF.test(v);
}

function kindOf(key: string): string {
  const k = key.toLowerCase();
  if (k.endsWith('email') || k === 'emails') return 'email';
  if (k.endsWith('phone')) return 'phone';
  return k;
}

/** Replaces every string under a personal key by a fresh reference; returns the new metadata and the values. */
export function extractPii(metadata: Record<string, unknown>): {
  metadata: Record<string, unknown>;
  items: PiiItem[];
} {
  const items: PiiItem[] = [];
  const replaceAll = (value: unknown, kind: string): unknown => {
    if (typeof value === 'string') {
      if (value === '' || isPiiRef(value)) return value;
      const ref = `pii:${randomBytes(12).toString('hex')}`;
      items.push({ ref, kind, value });
      return ref;
    }
    if (Array.isArray(value)) return value.map((v) => replaceAll(v, kind));
    if (value && typeof value === 'object' && !(value instanceof Date)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceAll(v, kind)]));
    }
    return value;
  };
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object' && !(value instanceof Date)) {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, PII_KEY.test(k) ? replaceAll(v, kindOf(k)) : walk(v)]),
      );
    }
    return value;
  };
  return { metadata: walk(metadata) as Record<string, unknown>, items };
}

export async function storePii(
  tx: Executor,
  tenantId: number,
  subjectUserId: number | null,
  items: PiiItem[],
): Promise<void> {
  if (items.length === 0) return;
  await tx.execute(sql`
    insert into audit_pii (tenant_id, ref, subject_user_id, kind, value)
    select ${tenantId}, x.ref, ${subjectUserId}, x.kind, x.value
    from jsonb_to_recordset(${JSON.stringify(items)}::jsonb) as x(ref text, kind text, value text)`);
}

/** Collects the references found anywhere in a set of metadata documents. */
export function collectRefs(docs: unknown[], into = new Set<string>()): Set<string> {
  const walk = (v: unknown) => {
    if (isPiiRef(v)) into.add(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  docs.forEach(walk);
  return into;
}

/** Puts the stored values back in place of their references; erased references stay as they are. */
export function rehydrate<T>(value: T, values: ReadonlyMap<string, string>): T {
  const walk = (v: unknown): unknown => {
    if (isPiiRef(v)) return values.get(v) ?? v;
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/**
 * Looks up the values of references (under the caller's tenant). With `onlySubject`, only the values that
 * belong to that user are returned: a user's GDPR export must not reveal other people's data.
 */
export async function lookupPii(
  tx: Executor,
  tenantId: number,
  refs: Iterable<string>,
  onlySubject?: { userId: number; email: string },
): Promise<Map<string, string>> {
  const list = [...refs];
  const out = new Map<string, string>();
  if (list.length === 0) return out;
  const rows = await tx.execute<{ ref: string; value: string }>(sql`
    select ref, value from audit_pii
    where tenant_id = ${tenantId} and ref in (select jsonb_array_elements_text(${JSON.stringify(list)}::jsonb))
    ${onlySubject ? sql`and (subject_user_id = ${onlySubject.userId} or (kind = 'email' and lower(value) = lower(${onlySubject.email})))` : sql``}`);
  for (const r of rows.rows) out.set(r.ref, r.value);
  return out;
}

/** The audit_pii rows that are a user's: theirs by subject, or one of their addresses wherever it appears. */
function ofSubject(tenantId: number, userId: number, emails: string[]) {
  const lowered = JSON.stringify(emails.map((e) => e.toLowerCase()));
  return sql`tenant_id = ${tenantId}
      and (subject_user_id = ${userId}
        or (kind = 'email' and lower(value) in (select jsonb_array_elements_text(${lowered}::jsonb))))`;
}

/**
 * The personal values the audit trail holds about a user, read before `erasePii` deletes them, so that the
 * copies made of them (webhook payloads) can be scrubbed in the same transaction.
 */
export async function piiValuesOf(
  tx: Executor,
  tenantId: number,
  userId: number,
  emails: string[],
): Promise<string[]> {
  const r = await tx.execute<{ value: string }>(
    sql`select distinct value from audit_pii where ${ofSubject(tenantId, userId, emails)}`,
  );
  return r.rows.map((row) => row.value);
}

/** GDPR erasure: removes every personal value the audit trail holds about a user. Returns the rows deleted. */
export async function erasePii(
  tx: Executor,
  tenantId: number,
  userId: number,
  emails: string[],
): Promise<number> {
  const r = await tx.execute<{ ref: string }>(
    sql`delete from audit_pii where ${ofSubject(tenantId, userId, emails)} returning ref`,
  );
  return r.rows.length;
}
