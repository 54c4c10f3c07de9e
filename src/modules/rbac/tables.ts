import { boolean, integer, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { created, tenantScoped, timestamps, timestamptz } from '../../platform/db/columns.js';

export const roles = pgTable('roles', {
  id: uuid('id').primaryKey().defaultRandom(),
  ...tenantScoped(),
  code: text('code').notNull(),
  name: text('name').notNull(),
  description: text('description'),
  isSystem: boolean('is_system').notNull().default(false),
  permissions: text('permissions').array().notNull().default([]),
  parentRoleId: uuid('parent_role_id'),
  mfaRequired: boolean('mfa_required').notNull().default(false),
  ...timestamps(),
});
export type RoleRow = typeof roles.$inferSelect;

export const userRoles = pgTable(
  'user_roles',
  {
    ...tenantScoped(),
    userId: integer('user_id').notNull(),
    roleId: uuid('role_id').notNull(),
    expiresAt: timestamptz('expires_at'),
    grantedBy: integer('granted_by'),
    ...created(),
    /** drizzle/0030: the sources of the assignment; the row lives while one of them holds. */
    direct: boolean('direct').notNull().default(true),
    viaGroup: boolean('via_group').notNull().default(false),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.userId, t.roleId] })],
);
export type UserRoleRow = typeof userRoles.$inferSelect;
