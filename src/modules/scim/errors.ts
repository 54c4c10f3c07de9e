/**
 * SCIM errors (RFC 7644 §3.12): `{schemas: [Error], status: "400", scimType?, detail}`, with `status` a string.
 * Everything that leaves a /scim/v2 route in error goes through toScimError, whatever threw it: the request guard's
 * AppErrors (401 without a key, 403 without the scope), the body parser, the database, this module.
 */
import type { FastifyError } from 'fastify';
import { isDatabaseUnavailable } from '../../platform/db/client.js';
import { pgErrorOf } from '../../platform/db/errors.js';
import { AppError } from '../../platform/http/errors.js';
import { isStoreUnavailable } from '../../platform/store/types.js';

export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

export class ScimError extends Error {
  constructor(
    public readonly status: number,
    public readonly detail: string,
    public readonly scimType?: ScimType,
  ) {
    super(detail);
    this.name = 'ScimError';
  }
}

export const invalidValue = (detail: string) => new ScimError(400, detail, 'invalidValue');
export const invalidFilter = (detail: string) => new ScimError(400, detail, 'invalidFilter');
export const invalidSyntax = (detail: string) => new ScimError(400, detail, 'invalidSyntax');
export const scimNotFound = (what: string) => new ScimError(404, `${what} not found`);

export interface ScimErrorBody {
  schemas: [typeof ERROR_SCHEMA];
  status: string;
  scimType?: ScimType;
  detail: string;
}

export function errorBody(e: ScimError): ScimErrorBody {
  return {
    schemas: [ERROR_SCHEMA],
    status: String(e.status),
    ...(e.scimType ? { scimType: e.scimType } : {}),
    detail: e.detail,
  };
}

/** Details of an AppError worth telling an IdP's operator (never internals). */
function appErrorDetail(e: AppError): string {
  const d = e.details ?? {};
  const reason = typeof d.reason === 'string' ? `: ${d.reason}` : '';
  if (e.code === 'VALIDATION_ERROR') {
    const errors = (d.errors as { field?: string; message?: string }[] | undefined) ?? [];
    return `invalid value${errors.length ? `: ${errors.map((x) => `${x.field} ${x.message}`).join('; ')}` : ''}`;
  }
  if (e.code === 'API_KEY_SCOPE_INSUFFICIENT') return 'the API key lacks the scope scim';
  if (e.code === 'PERMISSION_DENIED') {
    const perms = (d.permissions as string[] | undefined) ?? (d.permission ? [String(d.permission)] : []);
    return `permission denied${reason}${perms.length ? ` (${perms.join(', ')})` : ''}`;
  }
  return `${e.code}${reason}`;
}

/** The SCIM error for anything thrown while serving a SCIM request; `null` status 500 means log it. */
export function toScimError(err: unknown): ScimError {
  if (err instanceof ScimError) return err;
  if (err instanceof AppError) {
    const s = err.statusCode;
    if (s === 409)
      return new ScimError(409, appErrorDetail(err), err.code === 'LAST_OWNER' ? undefined : 'uniqueness');
    // 422 is this API's validation status; SCIM has none: a value it refuses is a 400 invalidValue.
    if (s === 422) return new ScimError(400, appErrorDetail(err), 'invalidValue');
    if (s === 400) return new ScimError(400, appErrorDetail(err), 'invalidValue');
    return new ScimError(s, appErrorDetail(err));
  }
  const e = err as FastifyError & { cause?: { code?: string } };
  if (e?.validation) return new ScimError(400, `invalid ${e.validationContext ?? 'request'}`, 'invalidValue');
  switch (e?.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return invalidSyntax('the body is not valid JSON');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ScimError(413, 'the body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ScimError(415, 'send application/scim+json or application/json');
  }
  if (err instanceof SyntaxError) return invalidSyntax('the body is not valid JSON');
  const sqlState = pgErrorOf(err)?.code;
  if (sqlState === '23505') return new ScimError(409, 'already exists', 'uniqueness');
  if (typeof sqlState === 'string' && /^22/.test(sqlState)) return invalidValue('invalid value');
  if (err instanceof Error && (isStoreUnavailable(err) || isDatabaseUnavailable(err)))
    return new ScimError(503, 'service unavailable, retry later');
  if (e?.statusCode && e.statusCode >= 400 && e.statusCode < 500)
    return new ScimError(e.statusCode, 'bad request');
  return new ScimError(500, 'internal error');
}
