import { integer, pgTable, serial, text, uuid } from 'drizzle-orm/pg-core';
import { tenantScoped, timestamps, timestamptz } from '../../platform/db/columns.js';

export const apiKeys = pgTable('api_keys', {
  id: serial('id').primaryKey(),
  ...tenantScoped(),
  name: text('name').notNull(),
  keyHash: text('key_hash').notNull(),
  keyPrefix: text('key_prefix').notNull(),
  scopes: text('scopes').array().notNull().default([]),
  owner: text('owner', { enum: ['user', 'tenant'] })
    .notNull()
    .default('user'),
  userId: integer('user_id'),
  roleId: uuid('role_id'),
  createdByUserId: integer('created_by_user_id'),
  expiresAt: timestamptz('expires_at'),
  lastUsedAt: timestamptz('last_used_at'),
  revokedAt: timestamptz('revoked_at'),
  revokedReason: text('revoked_reason'),
  ...timestamps(),
});
/** A key as the application reads it: its hash stays in the table (the repository's lookups are by hash). */
export type ApiKeyRow = Omit<typeof apiKeys.$inferSelect, 'keyHash'>;
