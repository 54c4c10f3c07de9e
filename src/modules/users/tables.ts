import { bigint, boolean, integer, pgTable, serial, text } from 'drizzle-orm/pg-core';
import { tenantScoped, timestamps, timestamptz } from '../../platform/db/columns.js';

export const users = pgTable('users', {
  id: serial('id').primaryKey(),
  // References tenants(id) in the SQL migrations (drizzle/0001); not declared here, so users' tables do not
  // import the tenants module's.
  ...tenantScoped(),
  email: text('email').notNull(),
  passwordHash: text('password_hash'),
  firstName: text('first_name'),
  lastName: text('last_name'),
  phone: text('phone'),
  isActive: boolean('is_active').notNull().default(true),
  isVerified: boolean('is_verified').notNull().default(false),
  isSuperuser: boolean('is_superuser').notNull().default(false),
  ...timestamps(),
  lastLoginAt: timestamptz('last_login_at'),
  passwordChangedAt: timestamptz('password_changed_at'),
});
export type UserRow = typeof users.$inferSelect;

/** Per-tenant user counts, maintained by triggers in the writing transaction (drizzle/0020). Read-only here. */
export const userCounts = pgTable('user_counts', {
  tenantId: integer('tenant_id').primaryKey(),
  total: bigint('total', { mode: 'number' }).notNull(),
  active: bigint('active', { mode: 'number' }).notNull(),
});
