import { integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { created, tenantScoped, timestamptz } from '../../platform/db/columns.js';

export const passwordResetTokens = pgTable('password_reset_tokens', {
  id: uuid('id').primaryKey().defaultRandom(),
  ...tenantScoped(),
  userId: integer('user_id').notNull(),
  tokenHash: text('token_hash').notNull(),
  ...created(),
  expiresAt: timestamptz('expires_at').notNull(),
  usedAt: timestamptz('used_at'),
});
export type PasswordResetTokenRow = typeof passwordResetTokens.$inferSelect;
