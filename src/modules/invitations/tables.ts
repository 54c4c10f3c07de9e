import { bigint, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { tenantScoped, timestamps, timestamptz } from '../../platform/db/columns.js';

/** drizzle/0035_invitations.sql. The status is derived (accepted_at, revoked_at, expires_at): see repository.ts. */
export const invitations = pgTable('invitations', {
  id: uuid('id').primaryKey().defaultRandom(),
  ...tenantScoped(),
  seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity(),
  email: text('email').notNull(),
  roleIds: uuid('role_ids').array().notNull().default([]),
  tokenHash: text('token_hash').notNull(),
  invitedBy: integer('invited_by'),
  expiresAt: timestamptz('expires_at').notNull(),
  acceptedAt: timestamptz('accepted_at'),
  acceptedUserId: integer('accepted_user_id'),
  revokedAt: timestamptz('revoked_at'),
  ...timestamps(),
});
export type InvitationRow = typeof invitations.$inferSelect;
