import { boolean, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { tenantScoped, timestamps } from '../../platform/db/columns.js';

/** The global catalogue (no tenant): platform operators write it, every tenant reads it. */
export const featureFlags = pgTable('feature_flags', {
  key: text('key').primaryKey(),
  description: text('description').notNull().default(''),
  defaultEnabled: boolean('default_enabled').notNull().default(false),
  rolloutPercent: integer('rollout_percent'),
  ...timestamps(),
});
export type FeatureFlagRow = typeof featureFlags.$inferSelect;

export const featureOverrides = pgTable('feature_overrides', {
  id: uuid('id').primaryKey().defaultRandom(),
  ...tenantScoped(),
  flagKey: text('flag_key').notNull(),
  scope: text('scope', { enum: ['tenant', 'role', 'user'] }).notNull(),
  /** '' for the tenant scope, the role uuid or the user id (as text) otherwise. */
  targetId: text('target_id').notNull().default(''),
  enabled: boolean('enabled').notNull(),
  ...timestamps(),
});
export type FeatureOverrideRow = typeof featureOverrides.$inferSelect;
