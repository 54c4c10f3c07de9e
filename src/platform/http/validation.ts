/**
 * Two Ajv instances: bodies are validated strictly (no type coercion, unknown fields rejected), while path,
 * query and headers arrive as strings and are coerced to the schema's types.
 *
 * One rule for every route, applied here because every validated part of every request passes through this
 * compiler: a string (or object key) holding a NUL character or an unpaired UTF-16 surrogate is a 422
 * VALIDATION_ERROR (type `forbidden_characters`). PostgreSQL refuses both (text cannot hold NUL; jsonb refuses
 * lone surrogate escapes), so without this rule they surfaced as 500s from the database.
 */
import { Ajv, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

function makeAjv(coerce: boolean) {
  const ajv = new Ajv({
    coerceTypes: coerce ? 'array' : false,
    useDefaults: true,
    removeAdditional: false,
    allErrors: true,
    strict: false,
  });
  addFormats.default(ajv);
  // TypeBox adds `kind`/`modifier` keywords: ignore them.
  ajv.addKeyword({ keyword: 'kind' });
  ajv.addKeyword({ keyword: 'modifier' });
  return ajv;
}

const strictAjv = makeAjv(false);
const coercingAjv = makeAjv(true);

/** NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what this rule refuses.
const FORBIDDEN_CHARS = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const FORBIDDEN_CHARS_ALL = new RegExp(FORBIDDEN_CHARS.source, 'g');
/** Deeper than any schema of the API: refused rather than walked (and no recursion to overflow). */
const MAX_DEPTH = 64;

/** The value with every forbidden character replaced by U+FFFD (for headers we keep, like User-Agent). */
export function replaceForbiddenChars(s: string): string {
  return s.replace(FORBIDDEN_CHARS_ALL, '\ufffd');
}

const pointer = (key: string) => replaceForbiddenChars(key).replace(/~/g, '~0').replace(/\//g, '~1');

/** Ajv-shaped errors for every string or key of `value` holding a forbidden character (iterative walk). */
export function forbiddenCharErrors(value: unknown, only?: ReadonlySet<string>): ErrorObject[] {
  const errors: ErrorObject[] = [];
  const error = (instancePath: string, message: string): ErrorObject => ({
    instancePath,
    schemaPath: '#',
    keyword: 'forbidden_characters',
    params: {},
    message,
  });
  const stack: [unknown, string, number][] = [[value, '', 0]];
  while (stack.length > 0 && errors.length < 20) {
    const [v, path, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (FORBIDDEN_CHARS.test(v))
        errors.push(error(path, 'must not contain NUL characters or unpaired surrogates'));
    } else if (v !== null && typeof v === 'object') {
      if (depth >= MAX_DEPTH) {
        errors.push(error(path, 'nested too deeply'));
        continue;
      }
      const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
      for (const [k, x] of entries) {
        if (depth === 0 && only && !only.has(k)) continue;
        const p = `${path}/${pointer(k)}`;
        if (!Array.isArray(v) && FORBIDDEN_CHARS.test(k))
          errors.push(error(p, 'field names must not contain NUL characters or unpaired surrogates'));
        else stack.push([x, p, depth + 1]);
      }
    }
  }
  return errors.sort((a, b) => a.instancePath.localeCompare(b.instancePath));
}

type Validate = ((data: unknown, dataCtx?: unknown) => boolean) & {
  errors?: ErrorObject[] | null;
  schemaEnv?: unknown;
};

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? strictAjv : coercingAjv;
  const validate = ajv.compile(schema as object) as Validate;
  // Headers: only those the route declares (the rest never reach a handler); other parts: everything.
  const props = (schema as { properties?: Record<string, unknown> }).properties;
  const only = httpPart === 'headers' && props ? new Set(Object.keys(props)) : undefined;
  const checked: Validate = (data, dataCtx) => {
    const forbidden = forbiddenCharErrors(data, only);
    if (forbidden.length > 0) {
      checked.errors = forbidden;
      return false;
    }
    const ok =
      dataCtx === undefined
        ? validate(data)
        : (validate as (d: unknown, c: unknown) => boolean)(data, dataCtx);
    checked.errors = validate.errors ?? null;
    return ok;
  };
  // Fastify hands Ajv functions (they have schemaEnv) the parent object, so a coerced root value sticks.
  checked.schemaEnv = validate.schemaEnv;
  return checked as never;
};

export interface FieldError {
  field: string;
  message: string;
  type: string;
}

/** Ajv errors → `details.errors` of API.md §2 (`field` like `body.email`). */
export function toFieldErrors(errors: ErrorObject[], part: string): FieldError[] {
  return errors.map((e) => {
    const base = e.instancePath
      .split('/')
      .filter(Boolean)
      .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'));
    const params = e.params as Record<string, unknown>;
    if (e.keyword === 'required') base.push(String(params.missingProperty));
    if (e.keyword === 'additionalProperties') base.push(String(params.additionalProperty));
    const message =
      e.keyword === 'additionalProperties'
        ? 'unknown field'
        : e.keyword === 'required'
          ? 'field required'
          : (e.message ?? 'invalid value');
    return { field: [part, ...base].join('.'), message, type: e.keyword };
  });
}

/** Keys whose values are secrets or opaque tokens: never trimmed, never logged. */
const UNTRIMMED = /password|secret|token|code|private_key|^key$/i;

/**
 * API.md §1: strings are trimmed and emails lower-cased before validation. Past MAX_DEPTH the value is left as
 * is (no recursion to overflow on a hostile body); validation then refuses it as nested too deeply.
 */
export function normaliseBody(value: unknown, key = '', depth = 0): unknown {
  if (typeof value === 'string') {
    if (UNTRIMMED.test(key)) return value;
    const trimmed = value.trim();
    return /(^|_)email$/.test(key) ? trimmed.toLowerCase() : trimmed;
  }
  if (depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((v) => normaliseBody(v, key, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = normaliseBody(v, k, depth + 1);
    return out;
  }
  return value;
}
