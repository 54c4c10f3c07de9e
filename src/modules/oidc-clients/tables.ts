import { boolean, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { tenantScoped, timestamps, timestamptz } from '../../platform/db/columns.js';

/** A tenant's OIDC client (drizzle/0040): a relying party or a service of the tenant's OpenID Provider. */
export const oidcClients = pgTable('oidc_clients', {
  id: uuid('id').primaryKey().defaultRandom(),
  ...tenantScoped(),
  clientId: text('client_id').notNull(),
  name: text('name').notNull(),
  type: text('type', { enum: ['confidential', 'public'] }).notNull(),
  redirectUris: text('redirect_uris').array().notNull().default([]),
  postLogoutRedirectUris: text('post_logout_redirect_uris').array().notNull().default([]),
  backchannelLogoutUri: text('backchannel_logout_uri'),
  subjectType: text('subject_type', { enum: ['public', 'pairwise'] })
    .notNull()
    .default('public'),
  grantTypes: text('grant_types').array().notNull(),
  tokenEndpointAuthMethod: text('token_endpoint_auth_method', {
    enum: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
  }).notNull(),
  jwks: jsonb('jwks').$type<{ keys: Record<string, unknown>[] }>(),
  jwksUri: text('jwks_uri'),
  allowedScopes: text('allowed_scopes').array().notNull(),
  firstParty: boolean('first_party').notNull().default(false),
  permissions: text('permissions').array().notNull().default([]),
  idTokenSignedResponseAlg: text('id_token_signed_response_alg', { enum: ['RS256', 'EdDSA', 'ES256'] })
    .notNull()
    .default('RS256'),
  secretHash: text('secret_hash'),
  previousSecretHash: text('previous_secret_hash'),
  previousSecretExpiresAt: timestamptz('previous_secret_expires_at'),
  enabled: boolean('enabled').notNull().default(true),
  createdByUserId: integer('created_by_user_id'),
  ...timestamps(),
});

export type OidcClientRow = typeof oidcClients.$inferSelect;
