/**
 * What the logger may never write: credentials and tokens (passwords, refresh and reset tokens, API keys,
 * mfa_session_token, Authorization / X-API-Key headers, tokens in URLs). Three layers, because a token can
 * reach a log line by several roads:
 *  1. pino `redact` paths for the objects we log on purpose (headers, bodies, errors carrying them);
 *  2. the request serializer, which redacts the URL of the request log (`/password-reset/validate/<token>`,
 *     `?token=…`, OAuth `?code=…&state=…`);
 *  3. a last pass over each serialised line (pino `hooks.streamWrite`) that censors token shapes anywhere:
 *     JWTs, the secret shapes modules declare (AppModule.secretPatterns: API keys), sensitive JSON keys at any
 *     depth, token paths and query parameters inside any string (an error message quoting a URL, a mail body).
 * The only exception is the mail that the dev/test mailer writes to the log instead of sending (see mailer.ts):
 * following its reset link locally is its purpose, and it never happens in staging or prod.
 */
import type { FastifyRequest } from 'fastify';

export const REDACTED = '[redacted]';

/** JSON keys whose values are secrets, wherever they appear. */
const SECRET_KEYS = [
  'password',
  'new_password',
  'current_password',
  'admin_password',
  'token',
  'refresh_token',
  'access_token',
  'id_token',
  'mfa_session_token',
  'oauth_session_token',
  'raw_key',
  'api_key',
  'x-api-key',
  'authorization',
  'cookie',
  'set-cookie',
  'secret',
  'client_secret',
  'private_key',
  'recovery_code',
  'recovery_codes',
];

/** A fast-redact path for a key: dotted when it can be, bracketed otherwise (x-api-key). */
const at = (prefix: string, key: string) =>
  /^[a-z_]+$/.test(key) ? (prefix ? `${prefix}.${key}` : key) : `${prefix}["${key}"]`;

/**
 * pino redact paths: explicit ones only (the secret keys at the top level, in `body`, `headers` and
 * `req.headers`). Wildcard paths cost several times the whole line in fast-redact; deeper keys are the
 * line pass's job (redactLine), which sees every depth for a fraction of that.
 */
export const REDACT_PATHS = [
  ...SECRET_KEYS.flatMap((k) => [at('', k), at('body', k)]),
  ...['authorization', 'x-api-key', 'cookie'].flatMap((h) => [at('headers', h), at('req.headers', h)]),
];

/** Query parameters that carry credentials (reset links, OAuth callbacks, tokens some clients put in URLs). */
const SECRET_QUERY =
  /([?&;](?:token|[a-z_]*_token|code|state|key|api_key|apikey|secret|password|sig|signature)=)[^&#\s"'\\]*/gi;
/** Path segments that are tokens: the reset token of GET /password-reset/validate/{token}. */
const SECRET_PATH = /(\/password-reset\/validate\/)[^?#\s"'\\/]+/gi;

/** A URL as it may be logged: token path segments and credential query values replaced. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_PATH, `$1${REDACTED}`).replace(SECRET_QUERY, `$1${REDACTED}`);
}

/** Fastify's request serializer, with the URL redacted. */
export function serializeRequest(req: FastifyRequest) {
  return {
    method: req.method,
    url: redactUrl(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket ? req.socket.remotePort : undefined,
  };
}

const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const BEARER = /(\b(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]+/gi;
const JSON_STRING = '"(?:[^"\\\\]|\\\\.)*"';
/** `"password":"…"` or `"recovery_codes":["…","…"]` at any depth of the serialised line. */
const SECRET_JSON = new RegExp(
  `("(?:${SECRET_KEYS.join('|')})"\\s*:\\s*)(?:${JSON_STRING}|\\[\\s*(?:${JSON_STRING}\\s*,?\\s*)*\\])`,
  'gi',
);

/** The marker the dev/test mailer puts on the one line that may keep its reset link (see mailer.ts). */
export const DEV_MAIL_MARKER = '"dev_mail":true';

/** A module's secret shape (AppModule.secretPatterns): every match is replaced (`pattern` has the `g` flag). */
export interface SecretPattern {
  pattern: RegExp;
  replacement: string;
}

/** The last pass over a serialised log line (pino hooks.streamWrite); `modules`: the modules' secret shapes. */
export function redactLine(
  line: string,
  allowDevMail: boolean,
  modules: readonly SecretPattern[] = [],
): string {
  if (allowDevMail && line.includes(DEV_MAIL_MARKER)) return line;
  let out = line.replace(SECRET_JSON, `$1"${REDACTED}"`).replace(JWT, REDACTED);
  for (const s of modules) out = out.replace(s.pattern, s.replacement);
  return out
    .replace(BEARER, `$1${REDACTED}`)
    .replace(SECRET_PATH, `$1${REDACTED}`)
    .replace(SECRET_QUERY, `$1${REDACTED}`);
}
