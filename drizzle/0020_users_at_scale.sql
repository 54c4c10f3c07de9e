-- Issue 25, users at scale: list, search and filter stay flat whatever the tenant's size.
--
-- 1. Substring search (ILIKE '%x%') on email, first, last and full name is served by pg_trgm GIN indexes.
--    PGlite ships pg_trgm too (registered in src/platform/db/client.ts).
-- 2. `total` of GET /users comes from a per-tenant counter maintained by triggers in the same transaction as the
--    insert, delete or (de)activation, instead of count(*) over the tenant.
-- 3. Filters by is_active and keyset pages by id have an index that leads with the tenant.
-- 4. app_current_tenant() only reads a GUC (which parallel workers receive from the leader): PARALLEL SAFE, so
--    the RLS policy no longer forbids parallel plans.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER FUNCTION app_current_tenant() PARALLEL SAFE;

CREATE INDEX users_email_trgm_idx ON users USING gin (email gin_trgm_ops);
-- The search matches the email or the full name (which contains the first and the last name, so one index
-- serves all three); the expression is the repository's, character for character.
CREATE INDEX users_full_name_trgm_idx ON users
  USING gin ((coalesce(first_name, '') || ' ' || coalesce(last_name, '')) gin_trgm_ops);
CREATE INDEX users_tenant_active_id_idx ON users (tenant_id, is_active, id);

-- The counter: one row per tenant that has users. A tenant table like any other (forced RLS, policy).
CREATE TABLE user_counts (
  tenant_id integer PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  total     bigint NOT NULL DEFAULT 0 CHECK (total >= 0),
  active    bigint NOT NULL DEFAULT 0 CHECK (active >= 0 AND active <= total)
);
ALTER TABLE user_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_counts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON user_counts TO massacorp_app
  USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
-- The app reads it; the triggers below (running as the writer of users, the app role included) maintain it.
GRANT SELECT, INSERT, UPDATE ON user_counts TO massacorp_app;

INSERT INTO user_counts (tenant_id, total, active)
  SELECT tenant_id, count(*), count(*) FILTER (WHERE is_active) FROM users GROUP BY tenant_id;

-- Statement-level with transition tables: a bulk insert of a million users updates the counter once per tenant.
CREATE OR REPLACE FUNCTION user_counts_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO user_counts AS c (tenant_id, total, active)
    SELECT tenant_id, count(*), count(*) FILTER (WHERE is_active) FROM new_users GROUP BY tenant_id
  ON CONFLICT (tenant_id) DO UPDATE SET total = c.total + excluded.total, active = c.active + excluded.active;
  RETURN NULL;
END $$;
CREATE TRIGGER users_count_insert AFTER INSERT ON users
  REFERENCING NEW TABLE AS new_users FOR EACH STATEMENT EXECUTE FUNCTION user_counts_on_insert();

-- UPDATE only: a tenant being deleted cascades to its users and to this row; nothing is re-created.
CREATE OR REPLACE FUNCTION user_counts_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE user_counts c SET total = c.total - d.n, active = c.active - d.a
    FROM (SELECT tenant_id, count(*) AS n, count(*) FILTER (WHERE is_active) AS a FROM old_users GROUP BY tenant_id) d
    WHERE c.tenant_id = d.tenant_id;
  RETURN NULL;
END $$;
CREATE TRIGGER users_count_delete AFTER DELETE ON users
  REFERENCING OLD TABLE AS old_users FOR EACH STATEMENT EXECUTE FUNCTION user_counts_on_delete();

-- Row-level and only when is_active changes: logins and profile edits (most updates) never touch the counter.
CREATE OR REPLACE FUNCTION user_counts_on_activation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE user_counts SET active = active + CASE WHEN NEW.is_active THEN 1 ELSE -1 END
    WHERE tenant_id = NEW.tenant_id;
  RETURN NULL;
END $$;
CREATE TRIGGER users_count_activation AFTER UPDATE OF is_active ON users
  FOR EACH ROW WHEN (OLD.is_active IS DISTINCT FROM NEW.is_active) EXECUTE FUNCTION user_counts_on_activation();
