/** Typed errors with a stable code; the one error handler turns them into the envelope of API.md §2. */
export class AppError extends Error {
  constructor(
    public readonly statusCode: number,
    public readonly code: string,
    public readonly details?: Record<string, unknown>,
    public readonly headers?: Record<string, string>,
    /** Overrides the catalogue text, e.g. a message with specifics. */
    public readonly customMessage?: string,
  ) {
    super(customMessage ?? code);
    this.name = 'AppError';
  }
}

export const GENERIC_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'VALIDATION_ERROR',
  429: 'TOO_MANY_REQUESTS',
  500: 'INTERNAL_ERROR',
  503: 'SERVICE_UNAVAILABLE',
};

export const badRequest = (code = 'BAD_REQUEST', details?: Record<string, unknown>, message?: string) =>
  new AppError(400, code, details, undefined, message);
export const unauthorized = (code = 'UNAUTHORIZED', details?: Record<string, unknown>) =>
  new AppError(401, code, details);
export const forbidden = (code = 'FORBIDDEN', details?: Record<string, unknown>) =>
  new AppError(403, code, details);
export const notFound = (what?: string) =>
  new AppError(404, 'NOT_FOUND', what ? { resource: what } : undefined);
export const conflict = (code = 'CONFLICT', details?: Record<string, unknown>) =>
  new AppError(409, code, details);
export const tooManyRequests = (code: string, retryAfterSeconds: number, details?: Record<string, unknown>) =>
  new AppError(
    429,
    code,
    { retry_after_seconds: retryAfterSeconds, ...details },
    { 'retry-after': String(retryAfterSeconds) },
  );
/** A 422 in the shape of a schema validation failure, for checks the schema cannot express. */
export const validationError = (field: string, message: string, type = 'value_error') =>
  new AppError(
    422,
    'VALIDATION_ERROR',
    { errors: [{ field, message, type }] },
    undefined,
    'Request validation failed',
  );
