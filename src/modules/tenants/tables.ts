import { boolean, jsonb, pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core';
import type { StoredTenantSettings } from './settings.js';

export const tenants = pgTable('tenants', {
  id: serial('id').primaryKey(),
  slug: text('slug').notNull(),
  name: text('name').notNull(),
  status: text('status').$type<'active' | 'suspended'>().notNull().default('active'),
  isPlatform: boolean('is_platform').notNull().default(false),
  settings: jsonb('settings').$type<StoredTenantSettings>().notNull().default({}),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  suspendedAt: timestamp('suspended_at', { withTimezone: true }),
});
export type TenantRow = typeof tenants.$inferSelect;
