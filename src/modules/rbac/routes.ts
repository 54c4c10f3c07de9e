/** RBAC routes (API.md §12): the permission catalogue, roles, and users' role assignments. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { requirePrincipal } from '../../platform/http/access.js';
import { errorResponses, IdParams, UuidParams } from '../../platform/http/schemas.js';
import type { RbacDeps } from './deps.js';
import {
  AssignBody,
  AssignmentList,
  AssignmentRead,
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

const tags = ['rbac'];

export function rbacRoutes(ctx: RbacDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/permissions',
      {
        config: { access: 'roles.read' },
        schema: {
          tags,
          summary: 'The permission catalogue',
          response: { 200: PermissionList, ...errorResponses(401, 403) },
        },
      },
      async () => service.permissionCatalogue(),
    );

    // The caller's own effective set: what the admin console shows and hides. `self`, so a member without
    // roles.read can still learn what they may do (the routes enforce it either way).
    app.get(
      '/permissions/me',
      {
        // A key reads its own effective set (scopes ∩ its creator's permissions) with profile.read.
        config: { access: 'self', keyScope: 'profile.read' },
        schema: {
          tags,
          summary: "The caller's effective permissions (wildcards expanded)",
          response: { 200: MyPermissions, ...errorResponses(401, 403) },
        },
      },
      async (req) => ({ permissions: [...(await req.permissions())].sort() }),
    );

    app.get(
      '/roles',
      {
        config: { access: 'roles.read' },
        schema: {
          tags,
          summary: 'Roles of the tenant (system first)',
          response: { 200: RoleList, ...errorResponses(401, 403) },
        },
      },
      (req) => service.listRoles(ctx, requirePrincipal(req).tenantId),
    );

    app.post(
      '/roles',
      {
        config: { access: 'roles.write' },
        schema: {
          tags,
          summary: 'Create a custom role',
          body: RoleCreate,
          response: { 201: RoleRead, ...errorResponses(401, 403, 404, 409, 422) },
        },
      },
      async (req, reply) => {
        const actor = await actorOf(req);
        const role = await service.auditRefusals(ctx, actor, 'role.create', () =>
          service.createRole(ctx, actor, req.body),
        );
        return reply.code(201).send(role);
      },
    );

    app.get(
      '/roles/:id',
      {
        config: { access: 'roles.read' },
        schema: {
          tags,
          params: UuidParams,
          response: { 200: RoleReadFull, ...errorResponses(401, 403, 404, 422) },
        },
      },
      (req) => service.getRole(ctx, requirePrincipal(req).tenantId, req.params.id),
    );

    app.put(
      '/roles/:id',
      {
        config: { access: 'roles.write' },
        schema: {
          tags,
          summary: 'Change a custom role (system roles are immutable)',
          params: UuidParams,
          body: RoleUpdate,
          response: { 200: RoleRead, ...errorResponses(401, 403, 404, 422) },
        },
      },
      async (req) => {
        const actor = await actorOf(req);
        return service.auditRefusals(ctx, actor, 'role.update', () =>
          service.updateRole(ctx, actor, req.params.id, req.body),
        );
      },
    );

    app.delete(
      '/roles/:id',
      {
        config: { access: 'roles.write' },
        schema: {
          tags,
          params: UuidParams,
          response: { 204: { type: 'null' }, ...errorResponses(401, 403, 404, 422) },
        },
      },
      async (req, reply) => {
        const actor = await actorOf(req);
        await service.auditRefusals(ctx, actor, 'role.delete', () =>
          service.deleteRole(ctx, actor, req.params.id),
        );
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/users/:id/roles',
      {
        config: { access: 'roles.read' },
        schema: {
          tags,
          summary: "A user's active role assignments",
          params: IdParams,
          response: { 200: AssignmentList, ...errorResponses(401, 403, 404, 422) },
        },
      },
      (req) => service.listUserRoles(ctx, requirePrincipal(req).tenantId, req.params.id),
    );

    app.post(
      '/users/:id/roles',
      {
        config: { access: 'roles.assign' },
        schema: {
          tags,
          summary: 'Assign a role (optionally until expires_at)',
          params: IdParams,
          body: AssignBody,
          response: { 201: AssignmentRead, ...errorResponses(401, 403, 404, 422) },
        },
      },
      async (req, reply) => {
        const actor = await actorOf(req);
        const a = await service.auditRefusals(ctx, actor, 'role.assign', () =>
          service.assignRole(ctx, actor, req.params.id, req.body),
        );
        return reply.code(201).send(a);
      },
    );

    app.delete(
      '/users/:id/roles/:role_id',
      {
        config: { access: 'roles.assign' },
        schema: {
          tags,
          params: UserRoleParams,
          response: { 204: { type: 'null' }, ...errorResponses(401, 403, 404, 409, 422) },
        },
      },
      async (req, reply) => {
        const actor = await actorOf(req);
        await service.auditRefusals(ctx, actor, 'role.unassign', () =>
          service.removeRole(ctx, actor, req.params.id, req.params.role_id),
        );
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/users/:id/permissions',
      {
        config: { access: 'roles.read' },
        schema: {
          tags,
          summary: "A user's effective permissions",
          params: IdParams,
          response: { 200: EffectivePermissions, ...errorResponses(401, 403, 404, 422) },
        },
      },
      (req) => service.getUserPermissions(ctx, requirePrincipal(req).tenantId, req.params.id),
    );
  };
}
