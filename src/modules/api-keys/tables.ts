import { integer, pgTable, serial, text, timestamp, uuid } from 'drizzle-orm/pg-core';

export const apiKeys = pgTable('api_keys', {
  id: serial('id').primaryKey(),
  tenantId: integer('tenant_id').notNull(),
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
  expiresAt: timestamp('expires_at', { withTimezone: true }),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  revokedReason: text('revoked_reason'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
/** A key as the application reads it: its hash stays in the table (the repository's lookups are by hash). */
export type ApiKeyRow = Omit<typeof apiKeys.$inferSelect, 'keyHash'>;
