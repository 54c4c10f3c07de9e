import { Type } from '@sinclair/typebox';
import { DateTime, IntId, Nullable, Uuid } from '../../platform/http/schemas.js';

const PermissionCodeField = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: '^(\\*|[a-z_]+\\.(\\*|[a-z_]+))$',
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
  created_at: Type.String(),
  updated_at: Type.String(),
});
export const RoleReadFull = Type.Composite([
  RoleRead,
  Type.Object({ effective_permissions: Type.Array(Type.String()) }),
]);
export const RoleList = Type.Object({ roles: Type.Array(RoleRead), total: Type.Integer() });

export const RoleCreate = Type.Object(
  {
    code: Type.String({ pattern: '^[a-z][a-z0-9_.-]{1,62}$' }),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    description: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
    permissions: Type.Array(PermissionCodeField, { maxItems: 200, uniqueItems: true }),
    parent_role_id: Type.Optional(Nullable(Uuid)),
    mfa_required: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const RoleUpdate = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    description: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
    permissions: Type.Optional(Type.Array(PermissionCodeField, { maxItems: 200, uniqueItems: true })),
    parent_role_id: Type.Optional(Nullable(Uuid)),
    mfa_required: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const AssignmentRead = Type.Object({
  role_id: Type.String(),
  code: Type.String(),
  name: Type.String(),
  is_system: Type.Boolean(),
  expires_at: Nullable(Type.String()),
  granted_by: Nullable(Type.Integer()),
  granted_at: Type.String(),
});
export const AssignmentList = Type.Object({ roles: Type.Array(AssignmentRead), total: Type.Integer() });
export const AssignBody = Type.Object(
  { role_id: Uuid, expires_at: Type.Optional(Nullable(DateTime)) },
  { additionalProperties: false },
);
export const UserRoleParams = Type.Object({ id: IntId, role_id: Uuid });
export const EffectivePermissions = Type.Object({
  user_id: Type.Integer(),
  permissions: Type.Array(Type.String()),
});
export const MyPermissions = Type.Object({ permissions: Type.Array(Type.String()) });
