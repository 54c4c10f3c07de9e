-- Issue 25: the users search, served by the pg_trgm indexes of 0020 for the app role too.
--
-- Under row-level security PostgreSQL evaluates the policy's qual before any qual that is not LEAKPROOF, and
-- ILIKE is not: it may not become an index condition ahead of the policy, so the app role's search read every
-- row of the tenant (seconds at a million users) while the owner's used the indexes. This function runs as the
-- owner, who bypasses RLS (docs/operations.md: the connecting role is a superuser or has BYPASSRLS), and so may
-- plan the trigram indexes; it confines itself to the caller's tenant, `app_current_tenant()`, exactly as the
-- policy does: no tenant set, no rows. It answers ids only; the caller reads the rows under RLS as before.
-- The expressions are 0020's indexes', character for character.
CREATE OR REPLACE FUNCTION app_user_search(p_pattern text)
  RETURNS TABLE (id integer)
  LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
  SET search_path = public, pg_temp
  ROWS 100
AS $$
  SELECT u.id FROM users u
  WHERE u.tenant_id = app_current_tenant()
    AND (u.email ILIKE p_pattern
         OR (coalesce(u.first_name, '') || ' ' || coalesce(u.last_name, '')) ILIKE p_pattern)
$$;
REVOKE ALL ON FUNCTION app_user_search(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_user_search(text) TO massacorp_app;
