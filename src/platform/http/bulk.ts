/**
 * Bulk changes (issue 20: the console's users list acts on several users at once). One request carries a bounded
 * list of ids; each id is changed by the same service function as its single route, in its own transaction (the
 * change and its audit record commit together, and every rule of the single route applies to that id). A refusal
 * of one id is that id's result, not the request's: the answer lists each id with its outcome, in the order sent.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { errorText } from './error-handler.js';
import { AppError } from './errors.js';
import { IntId, Nullable } from './schemas.js';

/** At most this many ids in one bulk change: a request stays short (each id is a transaction of its own). */
export const BULK_MAX = 100;
export const BulkIds = Type.Array(IntId, { minItems: 1, maxItems: BULK_MAX, uniqueItems: true });

export const BulkItemResult = Type.Object({
  id: Type.Integer(),
  ok: Type.Boolean(),
  /** The error code the single route would have answered (e.g. NOT_FOUND, OWN_ACCOUNT), or null. */
  error: Nullable(Type.String()),
  /** Its text in the request's language, or null. */
  message: Nullable(Type.String()),
  /** Its HTTP status on the single route, or null. */
  status: Nullable(Type.Integer()),
});

export const BulkResult = Type.Object({
  results: Type.Array(BulkItemResult),
  succeeded: Type.Integer(),
  failed: Type.Integer(),
});

/**
 * Runs `change` for each id in turn (not concurrently: one connection, and a last-owner check sees the previous
 * id's commit). An AppError becomes that id's result; anything else (the database down) ends the request as the
 * single route would, with the ids before it already changed.
 */
export async function eachId(
  req: FastifyRequest,
  ids: readonly number[],
  change: (id: number) => Promise<unknown>,
) {
  const results = [];
  for (const id of ids) {
    try {
      await change(id);
      results.push({ id, ok: true, error: null, message: null, status: null });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      results.push({
        id,
        ok: false,
        error: err.code,
        message: err.customMessage ?? errorText(req.server.errorRegistry, err.code, req.locale ?? 'fr'),
        status: err.statusCode,
      });
    }
  }
  const succeeded = results.filter((r) => r.ok).length;
  return { results, succeeded, failed: results.length - succeeded };
}
