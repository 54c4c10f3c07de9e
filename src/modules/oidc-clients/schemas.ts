import { Type } from '@sinclair/typebox';
import { Acknowledgement, Nullable, StrictObject, Uuid } from '../../platform/http/schemas.js';
import {
  AUTH_METHODS,
  GRANT_TYPES,
  ID_TOKEN_ALGS,
  MAX_JWKS_KEYS,
  MAX_PERMISSIONS,
  MAX_REDIRECT_URIS,
  MAX_SECRET_OVERLAP_SECONDS,
  SCOPES,
} from './catalogue.js';

const OneOf = (values: readonly string[]) => Type.Union(values.map((v) => Type.Literal(v)));
const Uris = Type.Array(Type.String({ minLength: 1, maxLength: 2048 }), {
  maxItems: MAX_REDIRECT_URIS,
  uniqueItems: true,
});
const Name = Type.String({ minLength: 1, maxLength: 200 });
const GrantTypes = Type.Array(OneOf(GRANT_TYPES), {
  minItems: 1,
  maxItems: GRANT_TYPES.length,
  uniqueItems: true,
});
const Scopes = Type.Array(OneOf(SCOPES), { maxItems: SCOPES.length, uniqueItems: true });
const Permissions = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
  maxItems: MAX_PERMISSIONS,
  uniqueItems: true,
});
/** A JWK Set of public keys; each key is checked by node's key parser (service.ts), not here. */
const Jwks = StrictObject({
  keys: Type.Array(Type.Record(Type.String({ maxLength: 20 }), Type.Unknown()), {
    minItems: 1,
    maxItems: MAX_JWKS_KEYS,
  }),
});
const JwksUri = Type.String({ minLength: 1, maxLength: 2048 });

const Settings = {
  redirect_uris: Type.Optional(Uris),
  post_logout_redirect_uris: Type.Optional(Uris),
  /** Where the provider POSTs a logout token when the user signs out (back-channel logout); null: none. */
  backchannel_logout_uri: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 2048 }))),
  /** `pairwise`: the client sees each user under an identifier of its own (default `public`: the user's id). */
  subject_type: Type.Optional(Type.Union([Type.Literal('public'), Type.Literal('pairwise')])),
  grant_types: Type.Optional(GrantTypes),
  token_endpoint_auth_method: Type.Optional(OneOf(AUTH_METHODS)),
  jwks: Type.Optional(Nullable(Jwks)),
  jwks_uri: Type.Optional(Nullable(JwksUri)),
  allowed_scopes: Type.Optional(Scopes),
  first_party: Type.Optional(Type.Boolean()),
  permissions: Type.Optional(Permissions),
  id_token_signed_response_alg: Type.Optional(OneOf(ID_TOKEN_ALGS)),
  enabled: Type.Optional(Type.Boolean()),
};

export const CreateClientBody = StrictObject({
  name: Name,
  type: Type.Union([Type.Literal('confidential'), Type.Literal('public')]),
  ...Settings,
});

/** `type` is not here: a client never changes type (its secret, its PKCE rule): register another one. */
export const UpdateClientBody = StrictObject({ name: Type.Optional(Name), ...Settings });

export const RotateSecretBody = StrictObject({
  previous_secret_expires_in: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: MAX_SECRET_OVERLAP_SECONDS,
      description: 'Seconds the previous secret keeps authenticating (default 0: it stops at once)',
    }),
  ),
});

export const ClientRead = Type.Object({
  id: Type.String(),
  client_id: Type.String(),
  name: Type.String(),
  type: Type.Union([Type.Literal('confidential'), Type.Literal('public')]),
  redirect_uris: Type.Array(Type.String()),
  post_logout_redirect_uris: Type.Array(Type.String()),
  backchannel_logout_uri: Nullable(Type.String()),
  subject_type: Type.Union([Type.Literal('public'), Type.Literal('pairwise')]),
  grant_types: Type.Array(Type.String()),
  token_endpoint_auth_method: Type.String(),
  jwks: Nullable(Type.Object({ keys: Type.Array(Type.Record(Type.String(), Type.Unknown())) })),
  jwks_uri: Nullable(Type.String()),
  allowed_scopes: Type.Array(Type.String()),
  first_party: Type.Boolean(),
  permissions: Type.Array(Type.String()),
  id_token_signed_response_alg: Type.String(),
  /** Public clients: PKCE (S256) on every authorization request. */
  require_pkce: Type.Boolean(),
  /** Whether the client authenticates with a secret (never the secret nor its hash). */
  has_secret: Type.Boolean(),
  /** While a rotated-out secret still authenticates. */
  previous_secret_expires_at: Nullable(Type.String()),
  enabled: Type.Boolean(),
  created_by_user_id: Nullable(Type.Integer()),
  created_at: Type.String(),
  updated_at: Type.String(),
});

/** Creation and rotation: the client with its secret, shown in this response only (null for a client without). */
export const ClientWithSecret = Type.Object({
  ...ClientRead.properties,
  client_secret: Nullable(Type.String({ description: 'mcs_…: shown once' })),
});

export const ClientsQuery = Type.Object({
  cursor: Type.Optional(Type.String({ maxLength: 100 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
});

export const ClientList = Type.Object({
  clients: Type.Array(ClientRead),
  next_cursor: Nullable(Type.String()),
});

export const ClientDeleted = Type.Object({ ...Acknowledgement });

export const ClientIdParams = Type.Object({ id: Uuid });
