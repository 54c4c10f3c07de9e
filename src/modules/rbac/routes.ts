/** RBAC routes (API.md §12): the permission catalogue, roles, and users' role assignments. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { requirePrincipal } from '../../platform/http/access.js';
import { BulkResult, eachId } from '../../platform/http/bulk.js';
import { routes } from '../../platform/http/route.js';
import { IdParams, UuidParams } from '../../platform/http/schemas.js';
import type { RbacDeps } from './deps.js';
import {
  AssignBody,
  AssignmentList,
  AssignmentRead,
  BulkAssignBody,
  EffectivePermissions,
  MyPermissions,
  PermissionList,
  RoleCreate,
  RoleList,
  RoleRead,
  RoleReadFull,
  RoleUpdate,
  UserRoleParams,
} from './schemas.js';
import * as service from './service.js';

export async function actorOf(req: FastifyRequest): Promise<service.Actor> {
  const p = requirePrincipal(req);
  return {
    tenantId: p.tenantId,
    userId: p.userId,
    permissions: await req.permissions(),
    audit: req.auditContext(),
  };
}

export function rbacRoutes(ctx: RbacDeps): FastifyPluginAsyncTypebox {
  /** A change made as the caller; its refusal (403, 409, 422) is audited as `action` (service.auditRefusals). */
  const asActor = async <T>(
    req: FastifyRequest,
    action: string,
    change: (actor: service.Actor) => Promise<T>,
  ) => {
    const actor = await actorOf(req);
    return service.auditRefusals(ctx, actor, action, () => change(actor));
  };
  return routes('rbac', (route) => {
    route(
      'GET /permissions',
      'The permission catalogue',
      { access: 'roles.read', ok: PermissionList },
      async () => service.permissionCatalogue(),
    );

    // The caller's own effective set: what the admin console shows and hides. `self`, so a member without
    // roles.read can still learn what they may do (the routes enforce it either way). A key reads its own
    // effective set (scopes ∩ its creator's permissions) with profile.read.
    route(
      'GET /permissions/me',
      "The caller's effective permissions (wildcards expanded)",
      { access: 'self', keyScope: 'profile.read', ok: MyPermissions, errors: [403] },
      async (req) => ({ permissions: [...(await req.permissions())].sort() }),
    );

    route('GET /roles', 'Roles of the tenant (system first)', { access: 'roles.read', ok: RoleList }, (req) =>
      service.listRoles(ctx, requirePrincipal(req).tenantId),
    );

    route(
      'POST /roles',
      'Create a custom role',
      { access: 'roles.write', body: RoleCreate, created: RoleRead, errors: [404, 409, 422] },
      (req) => asActor(req, 'role.create', (actor) => service.createRole(ctx, actor, req.body)),
    );

    route(
      'GET /roles/:id',
      { access: 'roles.read', params: UuidParams, ok: RoleReadFull, errors: [404, 422] },
      (req) => service.getRole(ctx, requirePrincipal(req).tenantId, req.params.id),
    );

    route(
      'PUT /roles/:id',
      'Change a custom role (system roles are immutable)',
      { access: 'roles.write', params: UuidParams, body: RoleUpdate, ok: RoleRead, errors: [404, 422] },
      (req) =>
        asActor(req, 'role.update', (actor) => service.updateRole(ctx, actor, req.params.id, req.body)),
    );

    route(
      'DELETE /roles/:id',
      { access: 'roles.write', params: UuidParams, noContent: true, errors: [404, 422] },
      async (req) => {
        await asActor(req, 'role.delete', (actor) => service.deleteRole(ctx, actor, req.params.id));
      },
    );

    route(
      'GET /users/:id/roles',
      "A user's active role assignments",
      { access: 'roles.read', params: IdParams, ok: AssignmentList, errors: [404, 422] },
      (req) => service.listUserRoles(ctx, requirePrincipal(req).tenantId, req.params.id),
    );

    route(
      'POST /users/:id/roles',
      'Assign a role (optionally until expires_at)',
      {
        access: 'roles.assign',
        params: IdParams,
        body: AssignBody,
        created: AssignmentRead,
        errors: [404, 422],
      },
      (req) =>
        asActor(req, 'role.assign', (actor) => service.assignRole(ctx, actor, req.params.id, req.body)),
    );

    route(
      'POST /users/bulk/roles',
      'Assign a role to several users (each as POST /users/{id}/roles; results per user)',
      { access: 'roles.assign', body: BulkAssignBody, ok: BulkResult, errors: [404, 422] },
      async (req) => {
        const { user_ids, ...assign } = req.body;
        const actor = await actorOf(req);
        await service.auditRefusals(ctx, actor, 'role.assign', () =>
          service.assertMayAssignRole(ctx, actor, assign.role_id),
        );
        return eachId(req, user_ids, (id) =>
          service.auditRefusals(ctx, actor, 'role.assign', () => service.assignRole(ctx, actor, id, assign)),
        );
      },
    );

    route(
      'DELETE /users/:id/roles/:role_id',
      { access: 'roles.assign', params: UserRoleParams, noContent: true, errors: [404, 409, 422] },
      async (req) => {
        await asActor(req, 'role.unassign', (actor) =>
          service.removeRole(ctx, actor, req.params.id, req.params.role_id),
        );
      },
    );

    route(
      'GET /users/:id/permissions',
      "A user's effective permissions",
      { access: 'roles.read', params: IdParams, ok: EffectivePermissions, errors: [404, 422] },
      (req) => service.getUserPermissions(ctx, requirePrincipal(req).tenantId, req.params.id),
    );
  });
}
