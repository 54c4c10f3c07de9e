import { bigint, boolean, inet, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

export const wgServer = pgTable('wg_server', {
  interface: text('interface').primaryKey(),
  publicKey: text('public_key').notNull(),
  privateKeySealed: text('private_key_sealed').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const wgPeers = pgTable('wg_peers', {
  id: uuid('id').primaryKey().defaultRandom(),
  tenantId: integer('tenant_id').notNull(),
  name: text('name').notNull(),
  description: text('description'),
  peerType: text('peer_type').$type<PeerType>().notNull().default('client'),
  userId: integer('user_id'),
  publicKey: text('public_key').notNull(),
  presharedKeySealed: text('preshared_key_sealed'),
  assignedIp: inet('assigned_ip').notNull(),
  persistentKeepalive: integer('persistent_keepalive'),
  enabled: boolean('enabled').notNull().default(true),
  serverGenerated: boolean('server_generated').notNull().default(false),
  expiresAt: timestamp('expires_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  lastHandshakeAt: timestamp('last_handshake_at', { withTimezone: true }),
  rxBytes: bigint('rx_bytes', { mode: 'number' }).notNull().default(0),
  txBytes: bigint('tx_bytes', { mode: 'number' }).notNull().default(0),
  lastEndpoint: text('last_endpoint'),
  createdByUserId: integer('created_by_user_id'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const PEER_TYPES = ['client', 'service', 'gateway'] as const;
export type PeerType = (typeof PEER_TYPES)[number];
export type PeerRow = typeof wgPeers.$inferSelect;
export type NewPeer = typeof wgPeers.$inferInsert;
