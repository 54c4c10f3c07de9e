import { type Static, Type } from '@sinclair/typebox';
import { BulkIds } from '../../platform/http/bulk.js';
import {
  DateTime,
  IntId,
  ListOf,
  Nullable,
  StrictObject,
  Timestamps,
  Uuid,
} from '../../platform/http/schemas.js';

/** `resource.action`, or `resource.sub.action` (`oidc.clients.read`), and their wildcards. */
const PermissionCodeField = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: '^(\\*|[a-z_]+(\\.[a-z_]+)?\\.(\\*|[a-z_]+))$',
});

export const PermissionList = Type.Object({
  permissions: Type.Array(
    Type.Object({ code: Type.String(), description: Type.String(), platform_only: Type.Boolean() }),
  ),
  wildcards: Type.Array(Type.String()),
});

export const RoleRead = Type.Object({
  id: Type.String(),
  tenant_id: Type.Integer(),
  code: Type.String(),
  name: Type.String(),
  description: Nullable(Type.String()),
  is_system: Type.Boolean(),
  permissions: Type.Array(Type.String()),
  parent_role_id: Nullable(Type.String()),
  mfa_required: Type.Boolean(),
  ...Timestamps,
});
export const RoleReadFull = Type.Composite([
  RoleRead,
  Type.Object({ effective_permissions: Type.Array(Type.String()) }),
]);
export const RoleList = ListOf('roles', RoleRead);

/** A role's writable fields; a create needs a name and permissions, an update any of them. */
const RoleFields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  description: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
  permissions: Type.Array(PermissionCodeField, { maxItems: 200, uniqueItems: true }),
  parent_role_id: Type.Optional(Nullable(Uuid)),
  mfa_required: Type.Optional(Type.Boolean()),
};
export const RoleCreate = StrictObject({
  code: Type.String({ pattern: '^[a-z][a-z0-9_.-]{1,62}$' }),
  ...RoleFields,
});
export const RoleUpdate = StrictObject({
  ...RoleFields,
  name: Type.Optional(RoleFields.name),
  permissions: Type.Optional(RoleFields.permissions),
});

export const AssignmentRead = Type.Object({
  role_id: Type.String(),
  code: Type.String(),
  name: Type.String(),
  is_system: Type.Boolean(),
  expires_at: Nullable(Type.String()),
  granted_by: Nullable(Type.Integer()),
  granted_at: Type.String(),
});
export const AssignmentList = ListOf('roles', AssignmentRead);
export const AssignBody = StrictObject({ role_id: Uuid, expires_at: Type.Optional(Nullable(DateTime)) });
/** POST /users/bulk/roles: one role for several users (each as POST /users/{id}/roles). */
export const BulkAssignBody = StrictObject({
  user_ids: BulkIds,
  role_id: Uuid,
  expires_at: Type.Optional(Nullable(DateTime)),
});
export const UserRoleParams = Type.Object({ id: IntId, role_id: Uuid });
export const EffectivePermissions = Type.Object({
  user_id: Type.Integer(),
  permissions: Type.Array(Type.String()),
});
export const MyPermissions = Type.Object({ permissions: Type.Array(Type.String()) });

export type RoleCreate = Static<typeof RoleCreate>;
export type RoleUpdate = Static<typeof RoleUpdate>;
export type AssignBody = Static<typeof AssignBody>;
export type BulkAssignBody = Static<typeof BulkAssignBody>;
