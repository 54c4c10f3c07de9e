/**
 * Errors with a stable code, and the one way to declare them: a catalogue per module, `defineErrors({ CODE:
 * [status, fr, en] })`, carried on the module object (AppModule.errors) and registered by the composition root,
 * which refuses to boot when two catalogues declare one code (messages.ts). A catalogue throws only its own
 * codes: `ssoErrors.error('SSO_X', details)` returns an AppError, `ssoErrors.throw('SSO_X')` throws it, and a
 * code the catalogue does not declare is a compile error. The one error handler turns an AppError into the
 * envelope of API.md §2.
 */
/** The languages of the texts: French (the existing API's default) and English. */
export type Locale = 'fr' | 'en';

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

/** One code: its HTTP status and its texts (French, the existing API's default, then English). */
export type ErrorSpec = readonly [status: number, fr: string, en: string];

export interface ErrorOptions {
  /** Response headers (Retry-After, WWW-Authenticate, ...). */
  headers?: Record<string, string>;
  /** Overrides the catalogue text, e.g. a message with specifics. */
  message?: string;
  /**
   * Another status than the catalogue's, for a code reused by a route that answers it differently (password
   * reset answers TOKEN_EXPIRED as a 400). Rare; the route must declare that status too.
   */
  status?: number;
}

export interface ErrorCatalogue<C extends string = string> {
  /** Every code with its status and texts (what the composition root registers). */
  readonly entries: Readonly<Record<C, ErrorSpec>>;
  /** The AppError for `code`, with the catalogue's status. */
  error(code: C, details?: Record<string, unknown>, options?: ErrorOptions): AppError;
  /** Throws error(code, details, options). */
  throw(code: C, details?: Record<string, unknown>, options?: ErrorOptions): never;
  status(code: C): number;
  text(code: C, locale: Locale): string;
  has(code: string): code is C;
}

/** Declares a catalogue. The codes are the keys, so `error('TYPO')` does not compile. */
export function defineErrors<const T extends Record<string, ErrorSpec>>(
  entries: T,
): ErrorCatalogue<Extract<keyof T, string>> {
  type C = Extract<keyof T, string>;
  const error = (code: C, details?: Record<string, unknown>, options: ErrorOptions = {}) => {
    const spec = entries[code];
    if (!spec) throw new Error(`error code ${code} is not in this catalogue`);
    return new AppError(options.status ?? spec[0], code, details, options.headers, options.message);
  };
  return {
    entries,
    error,
    throw: (code, details, options) => {
      throw error(code, details, options);
    },
    status: (code) => (entries[code] as ErrorSpec)[0],
    text: (code, locale) => (entries[code] as ErrorSpec)[locale === 'fr' ? 1 : 2],
    has: (code): code is C => Object.hasOwn(entries, code),
  };
}

/**
 * The platform's own catalogue: the generic codes, and those the platform answers itself (the request guard,
 * the router, the body parser, the password policy, rate limits, the WireGuard network guard).
 */
export const platformErrors = defineErrors({
  BAD_REQUEST: [400, 'Requête invalide', 'Bad request'],
  UNAUTHORIZED: [401, 'Authentification requise', 'Authentication required'],
  FORBIDDEN: [403, 'Accès interdit', 'Forbidden'],
  NOT_FOUND: [404, 'Ressource introuvable', 'Resource not found'],
  METHOD_NOT_ALLOWED: [405, 'Méthode non autorisée', 'Method not allowed'],
  REQUEST_TIMEOUT: [408, 'Délai de requête dépassé', 'Request timeout'],
  CONFLICT: [409, 'Conflit avec une ressource existante', 'Conflict with an existing resource'],
  ALREADY_EXISTS: [409, 'La ressource existe déjà', 'Resource already exists'],
  PAYLOAD_TOO_LARGE: [413, 'Corps de requête trop volumineux', 'Request body too large'],
  URI_TOO_LONG: [414, "Paramètre d'URL trop long", 'URL parameter too long'],
  UNSUPPORTED_MEDIA_TYPE: [415, 'Type de contenu non supporté', 'Unsupported media type'],
  VALIDATION_ERROR: [422, 'Request validation failed', 'Request validation failed'],
  RATE_LIMIT_EXCEEDED: [
    429,
    'Limite de requêtes dépassée, réessayez plus tard',
    'Rate limit exceeded, retry later',
  ],
  TOO_MANY_REQUESTS: [429, 'Trop de requêtes', 'Too many requests'],
  HEADERS_TOO_LARGE: [431, 'En-têtes de requête trop volumineux', 'Request headers too large'],
  INTERNAL_ERROR: [500, 'Erreur interne du serveur', 'Internal server error'],
  /** Outside production only: a route answered an error status it does not declare (error-handler.ts). */
  UNDECLARED_ERROR_STATUS: [
    500,
    "Statut d'erreur non déclaré par la route",
    'The route answered an error status it does not declare',
  ],
  SERVICE_UNAVAILABLE: [503, 'Service indisponible', 'Service unavailable'],
  /** The caller holds no permission for this (the guard, and services checking finer rules). */
  PERMISSION_DENIED: [403, 'Permission refusée', 'Permission denied'],
  /** The credential's account is deactivated (the guard, API keys, SSO). */
  ACCOUNT_INACTIVE: [403, 'Compte inactif', 'Account inactive'],
  /** The request guard: X-Tenant-ID against the credential's tenant. */
  TENANT_MISMATCH: [403, 'Le tenant ne correspond pas au jeton', 'Tenant does not match the token'],
  /** The request guard: the tenant requires MFA and the session has none. */
  MFA_REQUIRED: [403, 'Authentification multi-facteurs requise', 'Multi-factor authentication required'],
  /** The WireGuard network guard and the tenant's allowed_ip_ranges. */
  NETWORK_FORBIDDEN: [
    403,
    'Accès réservé au réseau WireGuard',
    'Access is restricted to the WireGuard network',
  ],
  /** Bearer tokens, checked by the request guard (and by auth and MFA on the tokens they take in a body). */
  TOKEN_INVALID: [401, 'Jeton invalide', 'Invalid token'],
  TOKEN_EXPIRED: [401, 'Jeton expiré', 'Token expired'],
  /** Sessions, checked by the request guard (and by the sessions module's idle timeout). */
  SESSION_REVOKED: [401, 'Session révoquée', 'Session revoked'],
  SESSION_EXPIRED: [401, 'Session expirée', 'Session expired'],
  /** API keys as credentials, checked by the request guard (the api-keys module's authenticator throws them too). */
  /** The password policy (platform/crypto/password-policy.ts). */
  PASSWORD_TOO_WEAK: [422, 'Mot de passe trop faible', 'Password too weak'],
});
export type PlatformErrorCode = Parameters<typeof platformErrors.error>[0];

/** The generic code of a bare status (framework errors that carry no code of ours). */
export const GENERIC_CODES: Record<number, PlatformErrorCode> = {
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

/** 404 NOT_FOUND, naming what was not found. */
export const notFound = (what?: string) =>
  platformErrors.error('NOT_FOUND', what ? { resource: what } : undefined);
/** A 422 in the shape of a schema validation failure, for checks the schema cannot express. */
export const validationError = (field: string, message: string, type = 'value_error') =>
  platformErrors.error(
    'VALIDATION_ERROR',
    { errors: [{ field, message, type }] },
    { message: 'Request validation failed' },
  );
/** 429 with Retry-After, for a catalogue's rate-limit code. */
export const retryAfter = (retryAfterSeconds: number, details?: Record<string, unknown>) => ({
  details: { retry_after_seconds: retryAfterSeconds, ...details },
  options: { headers: { 'retry-after': String(retryAfterSeconds) } },
});
