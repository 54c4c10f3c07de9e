import { integer, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { created, tenantScoped, timestamptz } from '../../platform/db/columns.js';

/**
 * What a tenant's OpenID Provider keeps between requests (drizzle/0041): codes, grants, refresh tokens, opaque
 * access tokens and the provider's browser sessions, one row per stored artefact of the oidc-provider library.
 */
export const oidcArtefacts = pgTable(
  'oidc_artefacts',
  {
    ...tenantScoped(),
    model: text('model').notNull(),
    id: text('id').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    grantId: text('grant_id'),
    uid: text('uid'),
    accountId: integer('account_id'),
    clientId: text('client_id'),
    expiresAt: timestamptz('expires_at').notNull(),
    consumedAt: timestamptz('consumed_at'),
    ...created(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.model, t.id] })],
);
