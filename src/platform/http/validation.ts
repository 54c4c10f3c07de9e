/**
 * Two Ajv instances: bodies are validated strictly (no type coercion, unknown fields rejected), while path,
 * query and headers arrive as strings and are coerced to the schema's types.
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

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? strictAjv : coercingAjv;
  return ajv.compile(schema as object) as never;
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

/** API.md §1: strings are trimmed and emails lower-cased before validation. */
export function normaliseBody(value: unknown, key = ''): unknown {
  if (typeof value === 'string') {
    if (UNTRIMMED.test(key)) return value;
    const trimmed = value.trim();
    return /(^|_)email$/.test(key) ? trimmed.toLowerCase() : trimmed;
  }
  if (Array.isArray(value)) return value.map((v) => normaliseBody(v, key));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = normaliseBody(v, k);
    return out;
  }
  return value;
}
