import { type Static, Type } from '@sinclair/typebox';
import {
  DateTime,
  Email,
  ListOf,
  Nullable,
  StrictObject,
  Uuid,
  UuidParams,
} from '../../platform/http/schemas.js';

const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\x00-\\x1f\\x7f]+$' });
const RoleCode = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9_.-]+$' });
/** An absolute URL; checked by the service (scheme, host, SSRF policy, allow-list), which names the field on a 422. */
const Url = Type.String({ minLength: 1, maxLength: 2048 });
/** A DNS name (lower-cased by the service), at least two labels. */
export const Domain = Type.String({
  maxLength: 253,
  pattern: '^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\\.)+[a-zA-Z]{2,63}$',
});
const ConnectionTypeSchema = Type.Union([Type.Literal('oidc'), Type.Literal('saml')]);

export const DomainRead = Type.Object({
  domain: Type.String(),
  verified: Type.Boolean(),
  verified_at: Nullable(DateTime),
  /** The TXT record to publish: `_massacorp-verify.<domain>` = the connection's domain_token. */
  txt_record_name: Type.String(),
  created_at: DateTime,
});

export const OidcRead = Type.Object({
  issuer: Type.String(),
  client_id: Type.String(),
  /** The secret itself is write-only. */
  has_client_secret: Type.Boolean(),
  /** The redirect URI to register at the identity provider. */
  callback_url: Type.String(),
});

/** Which assertion attribute (Name or FriendlyName) carries each field; a mapped field reads only that one. */
const AttributeName = Type.String({ minLength: 1, maxLength: 1024, pattern: '^[^\\x00-\\x1f\\x7f]+$' });
export const SamlAttributeMapSchema = StrictObject({
  email: Type.Optional(AttributeName),
  name: Type.Optional(AttributeName),
  given_name: Type.Optional(AttributeName),
  family_name: Type.Optional(AttributeName),
});

export const SamlRead = Type.Object({
  idp_entity_id: Nullable(Type.String()),
  idp_sso_url: Nullable(Type.String()),
  idp_certificate: Nullable(Type.String()),
  /** The IdP's next signing certificate, pinned beside the current one during its key rollover. */
  idp_certificate_next: Nullable(Type.String()),
  /** Where the IdP's metadata was imported from (POST /connections/{id}/metadata/refresh reads it again). */
  idp_metadata_url: Nullable(Type.String()),
  attribute_map: Nullable(SamlAttributeMapSchema),
  sp_entity_id: Nullable(Type.String()),
  /** The Assertion Consumer Service URL to register at the identity provider (HTTP-POST binding). */
  acs_url: Type.String(),
  /** This connection's SP metadata (XML), for identity providers that import it. */
  metadata_url: Type.String(),
});

export const ConnectionRead = Type.Object({
  id: Uuid,
  type: ConnectionTypeSchema,
  name: Type.String(),
  enabled: Type.Boolean(),
  default_role: Type.String(),
  jit_provisioning: Type.Boolean(),
  sso_required: Type.Boolean(),
  trust_mfa: Type.Boolean(),
  redirect_uris: Type.Array(Type.String()),
  domains: Type.Array(DomainRead),
  domain_token: Type.String(),
  oidc: Nullable(OidcRead),
  saml: Nullable(SamlRead),
  created_at: DateTime,
  updated_at: DateTime,
});
export type ConnectionReadT = Static<typeof ConnectionRead>;

export const ConnectionList = ListOf('connections', ConnectionRead);

const OidcWrite = StrictObject({
  issuer: Url,
  client_id: Type.String({ minLength: 1, maxLength: 512 }),
  client_secret: Type.String({ minLength: 1, maxLength: 1024 }),
});
/** Largest IdP metadata document read (pasted or fetched); a federation aggregate does not belong here. */
export const IDP_METADATA_MAX_CHARS = 512 * 1024;
const Certificate = Type.String({ minLength: 1, maxLength: 20_000 });
/**
 * The IdP's settings: given one by one, or read from its metadata (pasted as `idp_metadata_xml`, or fetched from
 * `idp_metadata_url` through the SSRF guard). Fields given beside metadata win over what it says.
 */
const samlWriteFields = {
  idp_entity_id: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  idp_sso_url: Type.Optional(Url),
  idp_certificate: Type.Optional(Certificate),
  idp_certificate_next: Type.Optional(Nullable(Certificate)),
  idp_metadata_xml: Type.Optional(Type.String({ minLength: 1, maxLength: IDP_METADATA_MAX_CHARS })),
  idp_metadata_url: Type.Optional(Nullable(Url)),
  attribute_map: Type.Optional(Nullable(SamlAttributeMapSchema)),
  sp_entity_id: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
};
const SamlWrite = StrictObject(samlWriteFields);
export type SamlWriteT = Static<typeof SamlWrite>;
const Common = {
  name: Name,
  enabled: Type.Optional(Type.Boolean()),
  default_role: Type.Optional(RoleCode),
  jit_provisioning: Type.Optional(Type.Boolean()),
  sso_required: Type.Optional(Type.Boolean()),
  trust_mfa: Type.Optional(Type.Boolean()),
  redirect_uris: Type.Optional(Type.Array(Url, { maxItems: 20 })),
};

export const CreateConnectionBody = StrictObject({
  type: ConnectionTypeSchema,
  ...Common,
  domains: Type.Optional(Type.Array(Domain, { maxItems: 50 })),
  oidc: Type.Optional(OidcWrite),
  saml: Type.Optional(SamlWrite),
});
export type CreateConnection = Static<typeof CreateConnectionBody>;

export const UpdateConnectionBody = StrictObject({
  ...Common,
  name: Type.Optional(Name),
  oidc: Type.Optional(Type.Partial(OidcWrite, { additionalProperties: false })),
  saml: Type.Optional(SamlWrite),
});
export type UpdateConnection = Static<typeof UpdateConnectionBody>;

export const ConnectionParams = UuidParams;

/** A connection test's result (./connection-test.ts), read by the console's result page. */
export const TestResultParams = Type.Object({
  id: Uuid,
  result: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
});
export const ConnectionTestResultRead = Type.Object({
  result_id: Type.String(),
  connection_id: Uuid,
  ok: Type.Boolean(),
  error: Nullable(Type.String()),
  identity: Nullable(
    Type.Object({
      issuer: Type.String(),
      subject: Type.String(),
      email: Nullable(Type.String()),
      email_verified: Type.Boolean(),
      name: Nullable(Type.String()),
      given_name: Nullable(Type.String()),
      family_name: Nullable(Type.String()),
      mfa_asserted: Type.Boolean(),
    }),
  ),
  attributes: Type.Array(
    Type.Object({
      name: Type.String(),
      friendly_name: Nullable(Type.String()),
      values: Type.Array(Type.String()),
    }),
  ),
  tested_at: DateTime,
});
export const DomainParams = Type.Object({ id: Uuid, domain: Domain });
export const AddDomainBody = StrictObject({ domain: Domain });
export const DomainList = Type.Object({ domains: Type.Array(DomainRead) });

export const DiscoverBody = StrictObject({ email: Email });
export const DiscoverResponse = Type.Object({ connection_id: Uuid, type: ConnectionTypeSchema });

/** `mode=link`: a signed-in caller (bearer access token) links the identity to their own account (§17). */
export const AuthorizeMode = Type.Union([Type.Literal('signin'), Type.Literal('link')]);
/**
 * The client application's own state (RFC 6749 §4.1.1: 1*VSCHAR, printable ASCII), kept with the flow and echoed
 * on the final redirect (with `code`, or with `error`). Not to be confused with the `state` of the authorize
 * response, which is the flow's own state at the identity provider.
 */
const ClientState = Type.String({ minLength: 1, maxLength: 512, pattern: '^[\\x20-\\x7E]+$' });
/** RFC 7636 §4.2, S256 only: BASE64URL(SHA-256(code_verifier)), 43 characters, no padding. */
const CodeChallenge = Type.String({ minLength: 43, maxLength: 43, pattern: '^[A-Za-z0-9_-]{43}$' });
/** RFC 7636 §4.1: 43 to 128 characters of [A-Z] [a-z] [0-9] - . _ ~ */
const CodeVerifier = Type.String({ minLength: 43, maxLength: 128, pattern: '^[A-Za-z0-9._~-]{43,128}$' });

export const AuthorizeQuery = Type.Object({
  redirect_uri: Url,
  state: Type.Optional(ClientState),
  /** Binds the one-time code to the client that started the flow: POST /sso/token then needs the verifier. */
  code_challenge: Type.Optional(CodeChallenge),
  /** Only S256 (plain would hand the verifier to whoever sees the authorize URL); required with code_challenge. */
  code_challenge_method: Type.Optional(Type.Literal('S256')),
  mode: Type.Optional(AuthorizeMode),
});
export const AuthorizeResponse = Type.Object({ auth_url: Type.String(), state: Type.String() });

export const TokenBody = StrictObject({
  code: Type.String({ minLength: 1, maxLength: 256 }),
  /** Required when the flow was started with a code_challenge, refused when it was not. */
  code_verifier: Type.Optional(CodeVerifier),
});

export const OidcCallbackQuery = Type.Object({
  state: Type.Optional(Type.String({ maxLength: 512 })),
  code: Type.Optional(Type.String({ maxLength: 4096 })),
  iss: Type.Optional(Type.String({ maxLength: 2048 })),
  error: Type.Optional(Type.String({ maxLength: 256 })),
  error_description: Type.Optional(Type.String({ maxLength: 2048 })),
});

/** One of the caller's external identities (GET /sso/identities): enterprise connections and social providers. */
export const IdentityRead = Type.Object({
  id: Uuid,
  /** null for a social login provider. */
  connection_id: Nullable(Uuid),
  /** `sso` for an enterprise connection, else the social provider (google, github, microsoft, oidc). */
  provider: Type.String(),
  issuer: Type.String(),
  subject: Type.String(),
  email: Nullable(Type.String()),
  created_at: DateTime,
  last_login_at: Nullable(DateTime),
});
export const IdentityList = ListOf('identities', IdentityRead);
export const IdentityParams = UuidParams;
