/**
 * SCIM representations (RFC 7643): users, directory groups, list responses, and the three discovery documents,
 * which describe exactly the attributes this service stores and returns.
 */
import type { UserRow } from '../users/index.js';
import { ENTERPRISE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from './filter.js';
import type { ScimProfile } from './repository.js';
import type { DirectoryGroupRow } from './tables.js';

export { ENTERPRISE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA };
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SEARCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';
export const SCIM_PREFIX = '/scim/v2';
/** The largest page a list returns (ServiceProviderConfig's filter.maxResults). */
export const MAX_COUNT = 200;
export const DEFAULT_COUNT = 100;

export interface Member {
  value: string;
  display?: string;
  $ref?: string;
  type?: 'User';
}

/** The readWrite User attributes that are single strings, stored as written. */
export const STRING_USER_ATTRIBUTES = [
  'displayName',
  'nickName',
  'title',
  'userType',
  'preferredLanguage',
  'locale',
  'timezone',
] as const;

/** The readWrite User attributes stored as written (scim_external_ids.attributes), by their canonical names. */
export const STORED_USER_ATTRIBUTES = [...STRING_USER_ATTRIBUTES, 'phoneNumbers', 'emails'] as const;
export const STORED_NAME_ATTRIBUTES = [
  'formatted',
  'middleName',
  'honorificPrefix',
  'honorificSuffix',
] as const;
export const ENTERPRISE_ATTRIBUTES = [
  'employeeNumber',
  'costCenter',
  'organization',
  'division',
  'department',
  'manager',
] as const;

/** meta.version: a weak ETag over the user's row and its SCIM row. */
export function userVersion(u: UserRow, profile: ScimProfile | null): string {
  return `W/"${u.updatedAt.getTime().toString(36)}.${profile?.version ?? 0}"`;
}

export function groupVersion(g: DirectoryGroupRow): string {
  return `W/"${g.version}"`;
}

export function toScimUser(base: string, u: UserRow, profile: ScimProfile | null) {
  const a = (profile?.attributes ?? {}) as Record<string, unknown>;
  const storedName = (a.name ?? {}) as Record<string, unknown>;
  const enterprise = a[ENTERPRISE_SCHEMA] as Record<string, unknown> | undefined;
  // A user SCIM never wrote (created through /api/v1) shows the name the app knows.
  const formatted = profile ? undefined : [u.firstName, u.lastName].filter(Boolean).join(' ') || undefined;
  const lastModified = profile && profile.updatedAt > u.updatedAt ? profile.updatedAt : u.updatedAt;
  const extra: Record<string, unknown> = {};
  for (const k of STORED_USER_ATTRIBUTES) if (a[k] !== undefined && k !== 'emails') extra[k] = a[k];
  return {
    schemas: enterprise ? [USER_SCHEMA, ENTERPRISE_SCHEMA] : [USER_SCHEMA],
    id: String(u.id),
    ...(profile?.externalId ? { externalId: profile.externalId } : {}),
    userName: profile?.userName ?? u.email,
    name: {
      ...(u.firstName ? { givenName: u.firstName } : {}),
      ...(u.lastName ? { familyName: u.lastName } : {}),
      ...(formatted ? { formatted } : {}),
      ...storedName,
    },
    ...(formatted && !profile ? { displayName: formatted } : {}),
    ...extra,
    emails:
      Array.isArray(a.emails) && a.emails.length > 0
        ? a.emails
        : [{ value: u.email, type: 'work', primary: true }],
    active: u.isActive,
    ...(enterprise ? { [ENTERPRISE_SCHEMA]: enterprise } : {}),
    meta: {
      resourceType: 'User',
      created: u.createdAt.toISOString(),
      lastModified: lastModified.toISOString(),
      location: `${base}/Users/${u.id}`,
      version: userVersion(u, profile),
    },
  };
}
export type ScimUser = ReturnType<typeof toScimUser>;

export function toScimGroup(base: string, g: DirectoryGroupRow, members: Member[] | null) {
  return {
    schemas: [GROUP_SCHEMA],
    id: g.id,
    ...(g.externalId ? { externalId: g.externalId } : {}),
    displayName: g.displayName,
    ...(members !== null
      ? { members: members.map((m) => ({ ...m, $ref: `${base}/Users/${m.value}`, type: 'User' as const })) }
      : {}),
    meta: {
      resourceType: 'Group',
      created: g.createdAt.toISOString(),
      lastModified: g.updatedAt.toISOString(),
      location: `${base}/Groups/${g.id}`,
      version: groupVersion(g),
    },
  };
}
export type ScimGroup = ReturnType<typeof toScimGroup>;

export function listResponse<T>(resources: T[], total: number, startIndex: number) {
  return {
    schemas: [LIST_SCHEMA],
    totalResults: total,
    itemsPerPage: resources.length,
    startIndex,
    Resources: resources,
  };
}

export function serviceProviderConfig(base: string) {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
    documentationUri: `${base.replace(/\/scim\/v2$/, '')}/docs`,
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_COUNT },
    changePassword: { supported: true },
    sort: { supported: true },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'API key',
        description: 'A MassaCorp API key with scope scim, sent as "Authorization: Bearer mc_sk_…"',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
  };
}

export function resourceTypes(base: string) {
  return [
    {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'A user of the tenant',
      schema: USER_SCHEMA,
      schemaExtensions: [{ schema: ENTERPRISE_SCHEMA, required: false }],
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` },
    },
    {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'A directory group of the tenant; a tenant administrator maps it to roles',
      schema: GROUP_SCHEMA,
      schemaExtensions: [],
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/Group` },
    },
  ];
}

type AttrType = 'string' | 'boolean' | 'complex' | 'dateTime' | 'reference';
const attr = (name: string, type: AttrType, more: Record<string, unknown> = {}): Record<string, unknown> => ({
  name,
  type,
  multiValued: false,
  description: name,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  ...more,
});
const str = (name: string, description: string, more: Record<string, unknown> = {}) =>
  attr(name, 'string', { description, ...more });
const multi = (name: string, description: string) =>
  attr(name, 'complex', {
    description,
    multiValued: true,
    subAttributes: [
      str('value', 'The value'),
      str('display', 'A label'),
      str('type', 'A label: work, home, mobile, other, ...'),
      attr('primary', 'boolean', { description: 'The primary value' }),
    ],
  });

const schema = (base: string, id: string, name: string, description: string, attributes: unknown[]) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
  id,
  name,
  description,
  attributes,
  meta: { resourceType: 'Schema', location: `${base}/Schemas/${id}` },
});

/**
 * What is stored and returned, attribute by attribute. Filterable (and sortable) attributes: userName, externalId,
 * id, emails.value, name.givenName, name.familyName, displayName, active, meta.created, meta.lastModified on
 * Users; displayName, externalId, id, members.value, meta.created, meta.lastModified on Groups (docs/scim.md).
 */
export function schemas(base: string) {
  return [
    schema(base, USER_SCHEMA, 'User', 'User account', [
      str('userName', 'Unique per tenant (case-insensitive); the sign-in email when no emails are sent', {
        required: true,
        uniqueness: 'server',
      }),
      str('externalId', "The identity provider's id of the user, unique per tenant", {
        caseExact: true,
        uniqueness: 'server',
      }),
      attr('name', 'complex', {
        description:
          'The name; givenName and familyName are the first and last name (at most 100 characters)',
        subAttributes: [
          str('formatted', 'The full name, as written'),
          str('familyName', 'The last name'),
          str('givenName', 'The first name'),
          str('middleName', 'Middle name(s)'),
          str('honorificPrefix', 'Title before the name'),
          str('honorificSuffix', 'Title after the name'),
        ],
      }),
      str('displayName', 'The name to display'),
      str('nickName', 'Casual name'),
      str('title', 'Job title'),
      str('userType', 'Relationship to the organisation'),
      str('preferredLanguage', 'Preferred language (RFC 7231 Accept-Language syntax)'),
      str('locale', 'Locale (e.g. en-US)'),
      str('timezone', 'Time zone (IANA, e.g. Europe/Paris)'),
      attr('active', 'boolean', {
        description: 'false deactivates the user: sessions, API keys and peers end',
      }),
      str('password', 'Sets the password under the tenant policy; never returned', {
        mutability: 'writeOnly',
        returned: 'never',
      }),
      multi('emails', 'Email addresses; the primary one (else the first work one) is the sign-in email'),
      multi('phoneNumbers', 'Phone numbers'),
      attr('groups', 'complex', {
        description: 'Not returned: group membership is managed through /Groups',
        multiValued: true,
        mutability: 'readOnly',
        returned: 'never',
        subAttributes: [str('value', 'The group id', { mutability: 'readOnly' })],
      }),
    ]),
    schema(base, ENTERPRISE_SCHEMA, 'EnterpriseUser', 'Enterprise User', [
      str('employeeNumber', 'Employee number'),
      str('costCenter', 'Cost center'),
      str('organization', 'Organisation'),
      str('division', 'Division'),
      str('department', 'Department'),
      attr('manager', 'complex', {
        description: "The user's manager",
        subAttributes: [
          str('value', "The manager's id"),
          attr('$ref', 'reference', { description: "The manager's URI", referenceTypes: ['User'] }),
          str('displayName', "The manager's name", { mutability: 'readOnly' }),
        ],
      }),
    ]),
    schema(base, GROUP_SCHEMA, 'Group', 'A directory group; a tenant administrator maps it to roles', [
      str('displayName', 'Unique per tenant (case-insensitive)', { required: true, uniqueness: 'server' }),
      str('externalId', "The identity provider's id of the group", { caseExact: true }),
      attr('members', 'complex', {
        description: 'The users of the group',
        multiValued: true,
        subAttributes: [
          str('value', 'The user id', { mutability: 'immutable', caseExact: true }),
          str('display', "The user's userName (set by the server)", { mutability: 'readOnly' }),
          attr('$ref', 'reference', {
            mutability: 'readOnly',
            referenceTypes: ['User'],
            description: 'The user',
          }),
          str('type', 'User', { mutability: 'readOnly' }),
        ],
      }),
    ]),
  ];
}
