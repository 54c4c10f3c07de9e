/**
 * /api/v1/directory (API.md §20): tenant administrators read the directory groups SCIM pushes and map them to
 * roles. `directory.read` to read, `directory.write` to map; each role added or removed must be grantable by the
 * caller (the rule of role assignment). Groups themselves are created, renamed and deleted by SCIM only.
 */

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../platform/http/access.js';
import { routes } from '../../platform/http/route.js';
import { DateTime, IntId, Nullable, Uuid, UuidParams } from '../../platform/http/schemas.js';
import { actorOf } from '../rbac/index.js';
import type { ScimDeps } from './deps.js';
import * as service from './service.js';

const GroupBase = {
  id: Uuid,
  display_name: Type.String(),
  external_id: Nullable(Type.String()),
  created_at: DateTime,
  updated_at: DateTime,
};
const DirectoryGroupSummary = Type.Object({
  ...GroupBase,
  member_count: Type.Integer(),
  role_ids: Type.Array(Uuid),
});
const DirectoryGroupList = Type.Object({
  groups: Type.Array(DirectoryGroupSummary),
  next_cursor: Nullable(Type.String()),
});
const DirectoryGroup = Type.Object({
  ...GroupBase,
  members: Type.Array(Type.Object({ user_id: IntId, user_name: Nullable(Type.String()) })),
  roles: Type.Array(Type.Object({ id: Uuid, code: Type.String(), name: Type.String() })),
});
const ListQuery = Type.Object({
  search: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  /** Opaque to clients: the id of the last group of the previous page. */
  cursor: Type.Optional(Uuid),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
});
const RolesBody = Type.Object(
  { role_ids: Type.Array(Uuid, { maxItems: 100 }) },
  { additionalProperties: false },
);

export function directoryRoutes(ctx: ScimDeps): FastifyPluginAsyncTypebox {
  return routes('directory', (route) => {
    route(
      'GET /directory/groups',
      'Directory (SCIM) groups of the tenant, cursor-paginated',
      { access: 'directory.read', query: ListQuery, ok: DirectoryGroupList, errors: [422] },
      async (req) => service.listDirectoryGroups(ctx, requirePrincipal(req).tenantId, req.query),
    );
    route(
      'GET /directory/groups/:id',
      'A directory group: its members and mapped roles',
      { access: 'directory.read', params: UuidParams, ok: DirectoryGroup, errors: [404, 422] },
      async (req) =>
        service.getDirectoryGroup(ctx, requirePrincipal(req).tenantId, req.params.id.toLowerCase()),
    );
    route(
      'PUT /directory/groups/:id/roles',
      'Map a directory group to roles (its members gain and lose them at once)',
      {
        access: 'directory.write',
        params: UuidParams,
        body: RolesBody,
        ok: DirectoryGroup,
        errors: [404, 422],
      },
      async (req) =>
        service.setDirectoryGroupRoles(
          ctx,
          await actorOf(req),
          req.params.id.toLowerCase(),
          req.body.role_ids,
        ),
    );
  });
}
