import { integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { created, tenantScoped, timestamps } from '../../platform/db/columns.js';

/**
 * drizzle/0013_scim.sql and 0030: what SCIM knows of each user it provisioned beyond the users table: the IdP's
 * `externalId` (unique per tenant), the `userName` (any string, unique per tenant case-insensitively; absent: the
 * email), the readWrite attributes the app does not use, stored as written, and the `version` of meta.version.
 */
export const scimExternalIds = pgTable('scim_external_ids', {
  ...tenantScoped(),
  userId: integer('user_id').notNull(),
  externalId: text('external_id'),
  userName: text('user_name'),
  attributes: jsonb('attributes').$type<Record<string, unknown>>().notNull().default({}),
  version: integer('version').notNull().default(1),
  ...timestamps(),
});
export type ScimExternalIdRow = typeof scimExternalIds.$inferSelect;

/** drizzle/0030: directory groups (API.md §20), their members and the roles a tenant admin mapped them to. */
export const directoryGroups = pgTable('directory_groups', {
  id: uuid('id').primaryKey().defaultRandom(),
  ...tenantScoped(),
  displayName: text('display_name').notNull(),
  externalId: text('external_id'),
  version: integer('version').notNull().default(1),
  ...timestamps(),
});
export type DirectoryGroupRow = typeof directoryGroups.$inferSelect;

export const directoryGroupMembers = pgTable('directory_group_members', {
  ...tenantScoped(),
  groupId: uuid('group_id').notNull(),
  userId: integer('user_id').notNull(),
  ...created(),
});

export const directoryGroupRoles = pgTable('directory_group_roles', {
  ...tenantScoped(),
  groupId: uuid('group_id').notNull(),
  roleId: uuid('role_id').notNull(),
  ...created(),
});
