import { integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { created, tenantScoped, timestamps, timestamptz } from '../../platform/db/columns.js';

export const sessions = pgTable('sessions', {
  id: uuid('id').primaryKey().defaultRandom(),
  ...tenantScoped(),
  userId: integer('user_id').notNull(),
  ...timestamps(),
  lastSeenAt: timestamptz('last_seen_at').notNull().defaultNow(),
  expiresAt: timestamptz('expires_at').notNull(),
  revokedAt: timestamptz('revoked_at'),
  revokedReason: text('revoked_reason'),
  ipAddress: text('ip_address'),
  userAgent: text('user_agent'),
  deviceType: text('device_type'),
  browser: text('browser'),
  os: text('os'),
  /** The first factor of the sign-in that opened it (drizzle/0016): password, sso, oauth:<provider>, unknown. */
  signInMethod: text('sign_in_method').notNull().default('unknown'),
  /** The enterprise connection of an `sso` sign-in (sso_required keeps these sessions alive). */
  ssoConnectionId: uuid('sso_connection_id'),
});
export type SessionRow = typeof sessions.$inferSelect;

export const refreshTokens = pgTable('refresh_tokens', {
  id: uuid('id').primaryKey(),
  ...tenantScoped(),
  sessionId: uuid('session_id').notNull(),
  tokenHash: text('token_hash').notNull(),
  ...created(),
  expiresAt: timestamptz('expires_at').notNull(),
  usedAt: timestamptz('used_at'),
  replacedBy: uuid('replaced_by'),
});
