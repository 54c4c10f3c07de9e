import { boolean, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { created, tenantScoped, timestamps, timestamptz } from '../../platform/db/columns.js';

/** Which assertion attribute (its Name or FriendlyName) carries each field; a mapped field reads only that one. */
export interface SamlAttributeMap {
  email?: string;
  name?: string;
  given_name?: string;
  family_name?: string;
}

export const CONNECTION_TYPES = ['oidc', 'saml'] as const;
export type ConnectionType = (typeof CONNECTION_TYPES)[number];

export const ssoConnections = pgTable('sso_connections', {
  id: uuid('id').primaryKey().defaultRandom(),
  ...tenantScoped(),
  type: text('type').$type<ConnectionType>().notNull(),
  name: text('name').notNull(),
  enabled: boolean('enabled').notNull().default(true),
  defaultRole: text('default_role').notNull().default('member'),
  jitProvisioning: boolean('jit_provisioning').notNull().default(true),
  ssoRequired: boolean('sso_required').notNull().default(false),
  trustMfa: boolean('trust_mfa').notNull().default(false),
  redirectUris: text('redirect_uris').array().notNull().default([]),
  oidcIssuer: text('oidc_issuer'),
  oidcClientId: text('oidc_client_id'),
  oidcClientSecretSealed: text('oidc_client_secret_sealed'),
  samlIdpEntityId: text('saml_idp_entity_id'),
  samlIdpSsoUrl: text('saml_idp_sso_url'),
  samlIdpCertificate: text('saml_idp_certificate'),
  samlSpEntityId: text('saml_sp_entity_id'),
  // drizzle/0033_saml_idp_fidelity.sql: the IdP's next certificate (key rollover), where its metadata was
  // imported from, and which attributes carry the email and names.
  samlIdpCertificateNext: text('saml_idp_certificate_next'),
  samlIdpMetadataUrl: text('saml_idp_metadata_url'),
  samlAttributeMap: jsonb('saml_attribute_map').$type<SamlAttributeMap>(),
  domainToken: text('domain_token').notNull(),
  createdByUserId: integer('created_by_user_id'),
  // The grant ceiling (drizzle/0015_sso_grant_ceiling.sql, ./ceiling.ts): who last edited the connection, and what
  // they could grant then.
  lastEditorUserId: integer('last_editor_user_id'),
  lastEditorApiKeyId: integer('last_editor_api_key_id'),
  lastEditorRoleId: uuid('last_editor_role_id'),
  grantCeiling: text('grant_ceiling').array(),
  grantCeilingPrivileged: boolean('grant_ceiling_privileged'),
  lastEditedAt: timestamptz('last_edited_at'),
  ...timestamps(),
});
export type ConnectionRow = typeof ssoConnections.$inferSelect;
export type NewConnection = typeof ssoConnections.$inferInsert;

export const ssoDomains = pgTable('sso_domains', {
  id: uuid('id').primaryKey().defaultRandom(),
  ...tenantScoped(),
  connectionId: uuid('connection_id').notNull(),
  domain: text('domain').notNull(),
  verifiedAt: timestamptz('verified_at'),
  verifiedBy: text('verified_by'),
  ...created(),
});
export type DomainRow = typeof ssoDomains.$inferSelect;

export const externalIdentities = pgTable('external_identities', {
  id: uuid('id').primaryKey().defaultRandom(),
  ...tenantScoped(),
  userId: integer('user_id').notNull(),
  /** Null for social login identities (provider google, github, ...). */
  connectionId: uuid('connection_id'),
  /** `sso` for enterprise connections, else the social provider. */
  provider: text('provider').notNull(),
  issuer: text('issuer').notNull(),
  subject: text('subject').notNull(),
  email: text('email'),
  ...created(),
  lastLoginAt: timestamptz('last_login_at'),
});
export type ExternalIdentityRow = typeof externalIdentities.$inferSelect;
