import { boolean, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

export const roles = pgTable('roles', {
  id: uuid('id').primaryKey().defaultRandom(),
  tenantId: integer('tenant_id').notNull(),
  code: text('code').notNull(),
  name: text('name').notNull(),
  description: text('description'),
  isSystem: boolean('is_system').notNull().default(false),
  permissions: text('permissions').array().notNull().default([]),
  parentRoleId: uuid('parent_role_id'),
  mfaRequired: boolean('mfa_required').notNull().default(false),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
export type RoleRow = typeof roles.$inferSelect;

export const userRoles = pgTable(
  'user_roles',
  {
    tenantId: integer('tenant_id').notNull(),
    userId: integer('user_id').notNull(),
    roleId: uuid('role_id').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    grantedBy: integer('granted_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /** drizzle/0030: the sources of the assignment; the row lives while one of them holds. */
    direct: boolean('direct').notNull().default(true),
    viaGroup: boolean('via_group').notNull().default(false),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.userId, t.roleId] })],
);
export type UserRoleRow = typeof userRoles.$inferSelect;
