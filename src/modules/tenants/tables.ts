import { boolean, jsonb, pgTable, serial, text } from 'drizzle-orm/pg-core';
import { timestamps, timestamptz } from '../../platform/db/columns.js';
import type { StoredTenantSettings } from './settings.js';

export const tenants = pgTable('tenants', {
  id: serial('id').primaryKey(),
  slug: text('slug').notNull(),
  name: text('name').notNull(),
  status: text('status').$type<'active' | 'suspended'>().notNull().default('active'),
  isPlatform: boolean('is_platform').notNull().default(false),
  settings: jsonb('settings').$type<StoredTenantSettings>().notNull().default({}),
  ...timestamps(),
  suspendedAt: timestamptz('suspended_at'),
});
export type TenantRow = typeof tenants.$inferSelect;
