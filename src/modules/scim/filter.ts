/**
 * SCIM filters (RFC 7644 §3.4.2.2) compiled to parameterised SQL: `and`, `or`, `not`, grouping, value paths
 * (`emails[value eq "…"]`) and the operators `eq ne co sw ew pr gt ge lt le` on the attributes /Schemas lists as
 * filterable. The text is parsed by `scim2-parse-filter` into a tree; every comparison value becomes a bound
 * parameter (drizzle's `sql` template), every attribute a fixed SQL expression of the table below: nothing from the
 * filter is ever spliced into SQL text. Attribute names are case-insensitive and may carry their schema's URN.
 * Anything else (another attribute, a malformed value, unparsable text) is a 400 `invalidFilter`, never a silent
 * "match everything". sortBy takes the same attributes.
 */
import { type SQL, sql } from 'drizzle-orm';
import { type Filter, parse } from 'scim2-parse-filter';
import { invalidFilter } from './errors.js';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

const MAX_FILTER_LENGTH = 2000;
const MAX_DEPTH = 20;

/**
 * How an attribute is compared: `ci` strings case-insensitively (caseExact false), `exact` strings as they are,
 * `bool`, `date` (an RFC 3339 instant), `members` a group's member ids (an EXISTS over the membership table).
 */
type Kind = 'ci' | 'exact' | 'bool' | 'date' | 'members' | 'emails';
export interface AttrSpec {
  kind: Kind;
  expr: SQL;
}

/** Users: `u` is users, `s` the SCIM row (LEFT JOINed, so its columns may be NULL). */
export const USER_ATTRS: Record<string, AttrSpec> = {
  username: { kind: 'ci', expr: sql`coalesce(s.user_name, u.email)` },
  externalid: { kind: 'exact', expr: sql`s.external_id` },
  id: { kind: 'exact', expr: sql`u.id::text` },
  'emails.value': { kind: 'emails', expr: sql`u.email` },
  emails: { kind: 'emails', expr: sql`u.email` },
  'name.familyname': { kind: 'ci', expr: sql`u.last_name` },
  'name.givenname': { kind: 'ci', expr: sql`u.first_name` },
  displayname: { kind: 'ci', expr: sql`(s.attributes->>'displayName')` },
  active: { kind: 'bool', expr: sql`u.is_active` },
  'meta.created': { kind: 'date', expr: sql`u.created_at` },
  'meta.lastmodified': {
    kind: 'date',
    expr: sql`greatest(u.updated_at, coalesce(s.updated_at, u.updated_at))`,
  },
};

/** Groups: `g` is directory_groups. */
export const GROUP_ATTRS: Record<string, AttrSpec> = {
  displayname: { kind: 'ci', expr: sql`g.display_name` },
  externalid: { kind: 'exact', expr: sql`g.external_id` },
  id: { kind: 'exact', expr: sql`g.id::text` },
  'members.value': { kind: 'members', expr: sql`m.user_id::text` },
  members: { kind: 'members', expr: sql`m.user_id::text` },
  'meta.created': { kind: 'date', expr: sql`g.created_at` },
  'meta.lastmodified': { kind: 'date', expr: sql`g.updated_at` },
};

/** The attribute key of a path: lower-cased, without its schema URN (core or, for users, enterprise). */
export function attrKey(path: string, schemas: readonly string[]): string {
  let p = path.trim().toLowerCase();
  for (const s of schemas) {
    const prefix = `${s.toLowerCase()}:`;
    if (p.startsWith(prefix)) p = p.slice(prefix.length);
  }
  return p;
}

function specOf(path: string, attrs: Record<string, AttrSpec>, schemas: readonly string[]): AttrSpec {
  const spec = attrs[attrKey(path, schemas)];
  if (!spec) {
    const names = Object.keys(attrs).join(', ');
    throw invalidFilter(`the attribute ${path} cannot be filtered on: use one of ${names}`);
  }
  return spec;
}

function compare(spec: AttrSpec, op: string, value: unknown, path: string): SQL {
  const col = spec.expr;
  if (op === 'pr')
    return spec.kind === 'ci' || spec.kind === 'exact'
      ? sql`(${col} IS NOT NULL AND ${col} <> '')`
      : sql`(${col} IS NOT NULL)`;
  if (spec.kind === 'bool') {
    const v =
      typeof value === 'boolean'
        ? value
        : typeof value === 'string' && /^(true|false)$/i.test(value)
          ? value.toLowerCase() === 'true'
          : undefined;
    if (v === undefined) throw invalidFilter(`${path} compares with true or false`);
    if (op === 'eq') return sql`(${col} = ${v})`;
    if (op === 'ne') return sql`(${col} IS DISTINCT FROM ${v})`;
    throw invalidFilter(`${path} is a boolean: use eq, ne or pr`);
  }
  if (spec.kind === 'date') {
    if (typeof value !== 'string' || Number.isNaN(Date.parse(value)) || !/^\d{4}-\d{2}-\d{2}/.test(value))
      throw invalidFilter(`${path} compares with a date-time (RFC 3339)`);
    const v = new Date(value).toISOString();
    const ops: Record<string, SQL> = {
      eq: sql`(${col} = ${v}::timestamptz)`,
      ne: sql`(${col} IS DISTINCT FROM ${v}::timestamptz)`,
      gt: sql`(${col} > ${v}::timestamptz)`,
      ge: sql`(${col} >= ${v}::timestamptz)`,
      lt: sql`(${col} < ${v}::timestamptz)`,
      le: sql`(${col} <= ${v}::timestamptz)`,
    };
    const out = ops[op];
    if (!out) throw invalidFilter(`${path} is a date-time: use eq, ne, gt, ge, lt, le or pr`);
    return out;
  }
  // Strings (ids are strings in SCIM too).
  if (typeof value !== 'string') throw invalidFilter(`${path} compares with a string`);
  const raw = String(value);
  if (raw.length > 1000) throw invalidFilter('the compared value is too long');
  const ci = spec.kind !== 'exact';
  const a = ci ? sql`lower(${col})` : col;
  const v = ci ? raw.toLowerCase() : raw;
  switch (op) {
    case 'eq':
      return sql`(${a} = ${v})`;
    case 'ne':
      return sql`(${a} IS DISTINCT FROM ${v})`;
    case 'co':
      return sql`(strpos(${a}, ${v}) > 0)`;
    case 'sw':
      return sql`(left(${a}, char_length(${v})) = ${v})`;
    case 'ew':
      return sql`(right(${a}, char_length(${v})) = ${v})`;
    case 'gt':
      return sql`(${a} > ${v} COLLATE "C")`;
    case 'ge':
      return sql`(${a} >= ${v} COLLATE "C")`;
    case 'lt':
      return sql`(${a} < ${v} COLLATE "C")`;
    case 'le':
      return sql`(${a} <= ${v} COLLATE "C")`;
    default:
      throw invalidFilter(`unknown operator ${op}`);
  }
}

function compile(
  f: Filter,
  attrs: Record<string, AttrSpec>,
  schemas: readonly string[],
  depth: number,
  prefix = '',
): SQL {
  if (depth > MAX_DEPTH) throw invalidFilter('the filter is nested too deeply');
  const op = f.op.toLowerCase();
  if (op === 'and' || op === 'or') {
    const parts = (f as { filters: Filter[] }).filters.map((x) =>
      compile(x, attrs, schemas, depth + 1, prefix),
    );
    return sql`(${sql.join(parts, op === 'and' ? sql` AND ` : sql` OR `)})`;
  }
  if (op === 'not') {
    const inner = compile((f as { filter: Filter }).filter, attrs, schemas, depth + 1, prefix);
    return sql`(NOT coalesce(${inner}, false))`;
  }
  if (op === '[]') {
    // A value path: emails[value eq "…"] is emails.value eq "…".
    const vp = f as { attrPath: string; valFilter: Filter };
    if (prefix) throw invalidFilter('value paths cannot nest');
    return compile(vp.valFilter, attrs, schemas, depth + 1, `${attrKey(vp.attrPath, schemas)}.`);
  }
  const c = f as { attrPath: string; compValue?: unknown };
  if (typeof c.attrPath !== 'string') throw invalidFilter('the filter does not parse');
  const path = prefix ? `${prefix}${attrKey(c.attrPath, schemas)}` : c.attrPath;
  const spec = specOf(path, attrs, schemas);
  if (spec.kind === 'emails') {
    // The sign-in email, or any address stored in emails (a user SCIM wrote may have several).
    const one = (o: string) =>
      sql`(${compare({ kind: 'ci', expr: sql`u.email` }, o, c.compValue, path)} OR EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(s.attributes->'emails') = 'array' THEN s.attributes->'emails' ELSE '[]'::jsonb END) e WHERE ${compare({ kind: 'ci', expr: sql`(e->>'value')` }, o, c.compValue, path)}))`;
    if (op === 'pr') return sql`true`;
    if (op === 'ne') return sql`(NOT ${one('eq')})`;
    return one(op);
  }
  if (spec.kind === 'members') {
    // A member matches through the membership table; `ne` means no member equals the value.
    const member = { kind: 'exact', expr: spec.expr } as const;
    const any = (cond: SQL) =>
      sql`EXISTS (SELECT 1 FROM directory_group_members m WHERE m.tenant_id = g.tenant_id AND m.group_id = g.id AND ${cond})`;
    if (op === 'pr') return any(sql`true`);
    if (op === 'ne') return sql`(NOT ${any(compare(member, 'eq', c.compValue, path))})`;
    return any(compare(member, op, c.compValue, path));
  }
  return compare(spec, op, c.compValue, path);
}

function parseText(text: string): Filter {
  if (text.length > MAX_FILTER_LENGTH) throw invalidFilter('the filter is too long');
  try {
    return parse(text);
  } catch {
    throw invalidFilter('the filter does not parse');
  }
}

/** A User filter as a SQL condition over `u` (users) and `s` (the SCIM row). */
export function userFilterSql(text: string): SQL {
  return compile(parseText(text), USER_ATTRS, [USER_SCHEMA, ENTERPRISE_SCHEMA], 0);
}

/** A Group filter as a SQL condition over `g` (directory_groups). */
export function groupFilterSql(text: string): SQL {
  return compile(parseText(text), GROUP_ATTRS, [GROUP_SCHEMA], 0);
}

/** sortBy (RFC 7644 §3.4.2.3) on a filterable attribute (not members), sortOrder ascending by default. */
export function sortSql(
  sortBy: string | undefined,
  sortOrder: string | undefined,
  attrs: Record<string, AttrSpec>,
  schemas: readonly string[],
  fallback: SQL,
): SQL {
  const order = (sortOrder ?? '').trim().toLowerCase();
  if (order && order !== 'ascending' && order !== 'descending')
    throw invalidFilter('sortOrder is ascending or descending');
  if (!sortBy?.trim()) return fallback;
  const spec = attrs[attrKey(sortBy, schemas)];
  if (!spec || spec.kind === 'members') throw invalidFilter(`cannot sort by ${sortBy}`);
  if (spec.kind === 'emails')
    return order === 'descending'
      ? sql`lower(u.email) DESC, ${fallback}`
      : sql`lower(u.email) ASC, ${fallback}`;
  const col = spec.kind === 'ci' ? sql`lower(${spec.expr})` : spec.expr;
  return order === 'descending'
    ? sql`${col} DESC NULLS LAST, ${fallback}`
    : sql`${col} ASC NULLS LAST, ${fallback}`;
}
