import { type Static, Type } from '@sinclair/typebox';
import {
  DateTime,
  IntId,
  ListOf,
  Nullable,
  offsetPaging,
  StrictObject,
  Timestamps,
} from '../../platform/http/schemas.js';

const PeerTypeSchema = Type.Union([Type.Literal('client'), Type.Literal('service'), Type.Literal('gateway')]);
const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\x00-\\x1f\\x7f]+$' });
const Description = Type.String({ maxLength: 500 });
const Keepalive = Type.Integer({ minimum: 0, maximum: 65535 });

export const PeerRead = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Nullable(Type.String()),
  peer_type: PeerTypeSchema,
  user_id: Nullable(Type.Integer()),
  public_key: Type.String(),
  assigned_ip: Type.String(),
  allowed_ips: Type.Array(Type.String()),
  persistent_keepalive: Nullable(Type.Integer()),
  enabled: Type.Boolean(),
  has_preshared_key: Type.Boolean(),
  expires_at: Nullable(Type.String()),
  revoked_at: Nullable(Type.String()),
  last_handshake_at: Nullable(Type.String()),
  rx_bytes: Type.Integer(),
  tx_bytes: Type.Integer(),
  ...Timestamps,
});

/** The create response: secrets appear here only, once. */
export const PeerCreated = Type.Composite([
  PeerRead,
  Type.Object({
    private_key: Nullable(Type.String()),
    preshared_key: Nullable(Type.String()),
    config: Type.String(),
    qr_code_base64: Nullable(Type.String()),
  }),
]);

export const CreatePeerBody = StrictObject({
  name: Name,
  description: Type.Optional(Description),
  public_key: Type.Optional(Type.String({ maxLength: 64 })),
  peer_type: Type.Optional(PeerTypeSchema),
  user_id: Type.Optional(IntId),
  expires_at: Type.Optional(DateTime),
  persistent_keepalive: Type.Optional(Keepalive),
  /** true: the server generates a preshared key (returned once, kept sealed for the gateway). */
  preshared_key: Type.Optional(Type.Boolean()),
});

export const UpdatePeerBody = StrictObject({
  name: Type.Optional(Name),
  description: Type.Optional(Nullable(Description)),
  peer_type: Type.Optional(PeerTypeSchema),
  user_id: Type.Optional(Nullable(IntId)),
  expires_at: Type.Optional(Nullable(DateTime)),
  persistent_keepalive: Type.Optional(Nullable(Keepalive)),
  enabled: Type.Optional(Type.Boolean()),
});

export const ListPeersQuery = Type.Object({
  ...offsetPaging({ maxSkip: null, maxLimit: 500, defaultLimit: 100 }),
  include_revoked: Type.Optional(Type.Boolean({ default: false })),
  user_id: Type.Optional(IntId),
});

export type CreatePeerBody = Static<typeof CreatePeerBody>;
export type UpdatePeerBody = Static<typeof UpdatePeerBody>;
export type ListPeersQuery = Static<typeof ListPeersQuery>;

export const PeerList = ListOf('peers', PeerRead);

export const ServerRead = Type.Object({
  public_key: Type.String(),
  endpoint: Nullable(Type.String()),
  listen_port: Type.Integer(),
  network: Type.String(),
  address: Type.String(),
  peers_total: Type.Integer(),
  peers_active: Type.Integer(),
});
