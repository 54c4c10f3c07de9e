import { bigint, boolean, integer, jsonb, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { created, tenantScoped, timestamps, timestamptz } from '../../platform/db/columns.js';

/** One row per user who started TOTP setup; `enabled` once a first code confirmed it. */
export const mfaTotp = pgTable(
  'mfa_totp',
  {
    ...tenantScoped(),
    userId: integer('user_id').notNull(),
    secretEncrypted: text('secret_encrypted').notNull(),
    enabled: boolean('enabled').notNull().default(false),
    enabledAt: timestamptz('enabled_at'),
    lastUsedStep: bigint('last_used_step', { mode: 'number' }),
    lastUsedAt: timestamptz('last_used_at'),
    ...timestamps(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.userId] })],
);
export type TotpRow = typeof mfaTotp.$inferSelect;

export const recoveryCodes = pgTable('mfa_recovery_codes', {
  id: uuid('id').primaryKey().defaultRandom(),
  ...tenantScoped(),
  userId: integer('user_id').notNull(),
  codeHash: text('code_hash').notNull(),
  ...created(),
  usedAt: timestamptz('used_at'),
});
export type RecoveryCodeRow = typeof recoveryCodes.$inferSelect;

export const webauthnCredentials = pgTable('webauthn_credentials', {
  id: uuid('id').primaryKey().defaultRandom(),
  ...tenantScoped(),
  userId: integer('user_id').notNull(),
  /** base64url credential id, as the browser reports it. */
  credentialId: text('credential_id').notNull(),
  /** base64url COSE public key (public data: no need to seal it). */
  publicKey: text('public_key').notNull(),
  counter: bigint('counter', { mode: 'number' }).notNull().default(0),
  transports: jsonb('transports').$type<string[]>().notNull().default([]),
  deviceType: text('device_type'),
  backedUp: boolean('backed_up').notNull().default(false),
  name: text('name').notNull(),
  ...created(),
  lastUsedAt: timestamptz('last_used_at'),
});
export type WebauthnCredentialRow = typeof webauthnCredentials.$inferSelect;
