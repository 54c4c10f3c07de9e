import { bigint, boolean, inet, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { created, tenantScoped, timestamps, timestamptz } from '../../platform/db/columns.js';

export const wgServer = pgTable('wg_server', {
  interface: text('interface').primaryKey(),
  publicKey: text('public_key').notNull(),
  privateKeySealed: text('private_key_sealed').notNull(),
  ...created(),
});

export const wgPeers = pgTable('wg_peers', {
  id: uuid('id').primaryKey().defaultRandom(),
  ...tenantScoped(),
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
  expiresAt: timestamptz('expires_at'),
  revokedAt: timestamptz('revoked_at'),
  lastHandshakeAt: timestamptz('last_handshake_at'),
  rxBytes: bigint('rx_bytes', { mode: 'number' }).notNull().default(0),
  txBytes: bigint('tx_bytes', { mode: 'number' }).notNull().default(0),
  lastEndpoint: text('last_endpoint'),
  createdByUserId: integer('created_by_user_id'),
  ...timestamps(),
});

export const PEER_TYPES = ['client', 'service', 'gateway'] as const;
export type PeerType = (typeof PEER_TYPES)[number];
export type PeerRow = typeof wgPeers.$inferSelect;
export type NewPeer = typeof wgPeers.$inferInsert;
