/**
 * The PostgreSQL error behind whatever wraps it (drizzle puts the driver's error in `cause`, sometimes one level
 * deeper): one walk for every caller that turns a SQLSTATE into an answer (a unique key into 409, a foreign key
 * into a scrub, a race into a retry), instead of a copy in each module.
 */
export interface PgError {
  /** The SQLSTATE, e.g. 23505 (unique_violation), 23503 (foreign_key_violation). */
  code: string;
  constraint?: string;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

export function pgErrorOf(err: unknown): PgError | null {
  let e = err as { code?: unknown; constraint?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    if (typeof e.code === 'string' && SQLSTATE.test(e.code))
      return typeof e.constraint === 'string' ? { code: e.code, constraint: e.constraint } : { code: e.code };
    e = e.cause as typeof e;
  }
  return null;
}
