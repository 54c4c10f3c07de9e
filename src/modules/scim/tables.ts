import { integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** drizzle/0013_scim.sql: the IdP's `externalId` of each user it provisioned (one per user, unique per tenant). */
export const scimExternalIds = pgTable('scim_external_ids', {
  tenantId: integer('tenant_id').notNull(),
  userId: integer('user_id').notNull(),
  externalId: text('external_id').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
export type ScimExternalIdRow = typeof scimExternalIds.$inferSelect;
