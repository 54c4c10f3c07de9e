/**
 * Column builders every module's tables.ts shares, spread into pgTable (drizzle's documented pattern), so
 * tenant_id and the created/updated timestamps are declared one way. The SQL itself lives in the hand-written
 * migrations under drizzle/; these describe it to the query builder. Each is a function: a builder object shared
 * by two tables would carry the first table's name into the second's column config (drizzle fills in the
 * column's unique-constraint name from the table that builds it first).
 */
import { integer, timestamp } from 'drizzle-orm/pg-core';

/** A `timestamp with time zone` column (every timestamp here is one), nullable until a modifier says otherwise. */
export const timestamptz = (name: string) => timestamp(name, { withTimezone: true });

const createdAt = () => timestamptz('created_at').notNull().defaultNow();

/** The owning tenant of a tenant-scoped row: RLS and every repository query filter on it. */
export const tenantScoped = () => ({
  tenantId: integer('tenant_id').notNull(),
});

/** A row written once (tokens, credentials, memberships). */
export const created = () => ({ createdAt: createdAt() });

/** A row that changes: the repositories' updates set updatedAt. */
export const timestamps = () => ({
  createdAt: createdAt(),
  updatedAt: timestamptz('updated_at').notNull().defaultNow(),
});
