/**
 * SCIM representations (RFC 7643): users, groups (= roles), list responses, and the three discovery documents.
 * Minimal but correct: they describe exactly the attributes this service reads and returns.
 */
import type { RoleRow } from '../rbac/index.js';
import type { UserRow } from '../users/index.js';
import { GROUP_SCHEMA, USER_SCHEMA } from './filter.js';

export { GROUP_SCHEMA, USER_SCHEMA };
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';
export const SCIM_PREFIX = '/scim/v2';
/** The largest page a list returns (ServiceProviderConfig's filter.maxResults). */
export const MAX_COUNT = 200;
export const DEFAULT_COUNT = 100;

export interface Member {
  value: string;
  display?: string;
}

export function toScimUser(base: string, u: UserRow, externalId: string | null) {
  const formatted = [u.firstName, u.lastName].filter(Boolean).join(' ');
  return {
    schemas: [USER_SCHEMA],
    id: String(u.id),
    ...(externalId !== null ? { externalId } : {}),
    userName: u.email,
    name: {
      ...(u.firstName ? { givenName: u.firstName } : {}),
      ...(u.lastName ? { familyName: u.lastName } : {}),
      ...(formatted ? { formatted } : {}),
    },
    ...(formatted ? { displayName: formatted } : {}),
    emails: [{ value: u.email, type: 'work', primary: true }],
    active: u.isActive,
    meta: {
      resourceType: 'User',
      created: u.createdAt.toISOString(),
      lastModified: u.updatedAt.toISOString(),
      location: `${base}/Users/${u.id}`,
    },
  };
}
export type ScimUser = ReturnType<typeof toScimUser>;

export function toScimGroup(base: string, r: RoleRow, members: Member[] | null) {
  return {
    schemas: [GROUP_SCHEMA],
    id: r.id,
    displayName: r.code,
    ...(members !== null ? { members } : {}),
    meta: {
      resourceType: 'Group',
      created: r.createdAt.toISOString(),
      lastModified: r.updatedAt.toISOString(),
      location: `${base}/Groups/${r.id}`,
    },
  };
}

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
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
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
  const rt = (id: 'User' | 'Group', endpoint: string, schema: string) => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
    id,
    name: id,
    endpoint,
    description: id === 'User' ? 'A user of the tenant' : 'A role of the tenant (displayName = role code)',
    schema,
    meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/${id}` },
  });
  return [rt('User', '/Users', USER_SCHEMA), rt('Group', '/Groups', GROUP_SCHEMA)];
}

const attr = (
  name: string,
  type: 'string' | 'boolean' | 'complex',
  more: Record<string, unknown> = {},
): Record<string, unknown> => ({
  name,
  type,
  multiValued: false,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  ...more,
});

export function schemas(base: string) {
  return [
    {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
      id: USER_SCHEMA,
      name: 'User',
      description: 'User account',
      attributes: [
        attr('userName', 'string', {
          required: true,
          uniqueness: 'server',
          description: 'The email address',
        }),
        attr('name', 'complex', {
          subAttributes: [
            attr('givenName', 'string'),
            attr('familyName', 'string'),
            attr('formatted', 'string'),
          ],
        }),
        attr('displayName', 'string', { mutability: 'readOnly' }),
        attr('emails', 'complex', {
          multiValued: true,
          mutability: 'readOnly',
          subAttributes: [attr('value', 'string'), attr('type', 'string'), attr('primary', 'boolean')],
        }),
        attr('active', 'boolean'),
        attr('password', 'string', { mutability: 'writeOnly', returned: 'never' }),
      ],
      meta: { resourceType: 'Schema', location: `${base}/Schemas/${USER_SCHEMA}` },
    },
    {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
      id: GROUP_SCHEMA,
      name: 'Group',
      description: 'A role of the tenant; its members hold the role',
      attributes: [
        attr('displayName', 'string', { required: true, mutability: 'immutable', uniqueness: 'server' }),
        attr('members', 'complex', {
          multiValued: true,
          subAttributes: [attr('value', 'string', { mutability: 'immutable' }), attr('display', 'string')],
        }),
      ],
      meta: { resourceType: 'Schema', location: `${base}/Schemas/${GROUP_SCHEMA}` },
    },
  ];
}
