import { boolean, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** The global catalogue (no tenant): platform operators write it, every tenant reads it. */
export const featureFlags = pgTable('feature_flags', {
  key: text('key').primaryKey(),
  description: text('description').notNull().default(''),
  defaultEnabled: boolean('default_enabled').notNull().default(false),
  rolloutPercent: integer('rollout_percent'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
export type FeatureFlagRow = typeof featureFlags.$inferSelect;

export const featureOverrides = pgTable('feature_overrides', {
  id: uuid('id').primaryKey().defaultRandom(),
  tenantId: integer('tenant_id').notNull(),
  flagKey: text('flag_key').notNull(),
  scope: text('scope', { enum: ['tenant', 'role', 'user'] }).notNull(),
  /** '' for the tenant scope, the role uuid or the user id (as text) otherwise. */
  targetId: text('target_id').notNull().default(''),
  enabled: boolean('enabled').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
export type FeatureOverrideRow = typeof featureOverrides.$inferSelect;
