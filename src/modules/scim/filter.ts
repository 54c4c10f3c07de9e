/**
 * The filters Okta and Entra ID send (RFC 7644 §3.4.2.2), parsed by `scim2-parse-filter` and narrowed to what this
 * service answers: one `eq` on userName, externalId or id (Users) or displayName, externalId or id (Groups).
 * Attribute names are case-insensitive and may carry the core schema's URN; anything else, `and`/`or`, other
 * operators and unparsable text are a 400 `invalidFilter`, never a silent "match everything".
 */
import { parse } from 'scim2-parse-filter';
import { invalidFilter } from './errors.js';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';

export type UserFilter = { attr: 'username' | 'externalid' | 'id'; value: string };
export type GroupFilter = { attr: 'displayname' | 'externalid' | 'id'; value: string };

const MAX_FILTER_LENGTH = 1000;

function parseEq(text: string, schema: string, allowed: readonly string[]) {
  if (text.length > MAX_FILTER_LENGTH) throw invalidFilter('the filter is too long');
  let ast: ReturnType<typeof parse>;
  try {
    ast = parse(text);
  } catch {
    throw invalidFilter('the filter does not parse');
  }
  if (ast.op !== 'eq' || !('attrPath' in ast) || !('compValue' in ast))
    throw invalidFilter(`unsupported filter: only "<attribute> eq \\"value\\"" on ${allowed.join(', ')}`);
  let attr = ast.attrPath.toLowerCase();
  const prefix = `${schema.toLowerCase()}:`;
  if (attr.startsWith(prefix)) attr = attr.slice(prefix.length);
  if (!allowed.map((a) => a.toLowerCase()).includes(attr))
    throw invalidFilter(`unsupported filter attribute ${ast.attrPath}: use ${allowed.join(', ')}`);
  if (typeof ast.compValue !== 'string') throw invalidFilter('the compared value must be a string');
  return { attr, value: ast.compValue };
}

export function parseUserFilter(text: string): UserFilter {
  return parseEq(text, USER_SCHEMA, ['userName', 'externalId', 'id']) as UserFilter;
}

export function parseGroupFilter(text: string): GroupFilter {
  return parseEq(text, GROUP_SCHEMA, ['displayName', 'externalId', 'id']) as GroupFilter;
}
