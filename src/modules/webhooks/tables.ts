import { bigint, boolean, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { created, tenantScoped, timestamps, timestamptz } from '../../platform/db/columns.js';

/** A tenant's receiver of events (drizzle/0037). */
export const webhookEndpoints = pgTable('webhook_endpoints', {
  id: uuid('id').primaryKey().defaultRandom(),
  ...tenantScoped(),
  url: text('url').notNull(),
  description: text('description'),
  events: text('events').array().notNull(),
  enabled: boolean('enabled').notNull().default(true),
  secretSealed: text('secret_sealed').notNull(),
  previousSecretSealed: text('previous_secret_sealed'),
  previousSecretExpiresAt: timestamptz('previous_secret_expires_at'),
  cursorSeq: bigint('cursor_seq', { mode: 'number' }).notNull().default(0),
  failingSince: timestamptz('failing_since'),
  disabledReason: text('disabled_reason'),
  createdByUserId: integer('created_by_user_id'),
  ...timestamps(),
});

/** One event (or one batch of audit records) for one endpoint, with its attempts. */
export const webhookDeliveries = pgTable('webhook_deliveries', {
  id: uuid('id').primaryKey().defaultRandom(),
  ...tenantScoped(),
  endpointId: uuid('endpoint_id').notNull(),
  eventId: text('event_id').notNull(),
  eventType: text('event_type').notNull(),
  payload: text('payload').notNull(),
  contentType: text('content_type').notNull().default('application/json'),
  firstSeq: bigint('first_seq', { mode: 'number' }),
  lastSeq: bigint('last_seq', { mode: 'number' }),
  status: text('status', { enum: ['pending', 'delivered', 'failed'] })
    .notNull()
    .default('pending'),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: timestamptz('next_attempt_at').notNull().defaultNow(),
  leaseUntil: timestamptz('lease_until'),
  lastStatus: integer('last_status'),
  lastError: text('last_error'),
  lastLatencyMs: integer('last_latency_ms'),
  lastResponse: text('last_response'),
  replayOf: uuid('replay_of'),
  ...created(),
  deliveredAt: timestamptz('delivered_at'),
});

export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
