/**
 * The keyset cursor of a list ordered by (created_at, uuid id): `<created_at ms>.<id>` of the last row of a page.
 * Opaque to clients; a string this API did not hand out is a 422, never a 500.
 */
import { validationError } from './errors.js';

export interface TimeIdKey {
  createdAt: Date;
  id: string;
}

export function parseTimeIdCursor(cursor: string | undefined): TimeIdKey | null {
  if (!cursor) return null;
  const m = /^(\d{1,15})\.([0-9a-f-]{36})$/.exec(cursor);
  if (!m) throw validationError('cursor', 'not a cursor this list returned', 'value_error.cursor');
  return { createdAt: new Date(Number(m[1])), id: m[2]! };
}

/**
 * One page out of `limit + 1` rows read: the first `limit`, and the cursor of the next page when there is one
 * (the extra row says so).
 */
export function timeIdPage<T extends TimeIdKey>(
  rows: T[],
  limit: number,
): { page: T[]; next: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    page,
    next: rows.length > limit && last ? `${last.createdAt.getTime()}.${last.id}` : null,
  };
}
