-- Issue 25: the users search asks the trigram indexes for the rare part of the needle only.
--
-- A pg_trgm GIN index reads the whole posting list of every trigram of an ILIKE pattern. In a large tenant a few
-- trigrams are in nearly every row (its email domain, the common start of its addresses or names), and those
-- lists are most of the cost of a search (at 1,000,000 users: 1,522 index buffers for '%user7919@big%' against 28
-- for '%r7919%'). The app now passes, besides the pattern, the longest run of the needle whose trigrams are rare
-- in the tenant (src/modules/users/search-index-pattern.ts); the index is asked for that run and the full
-- pattern is checked on the candidates, behind an OFFSET 0 fence so that PostgreSQL cannot fold the full pattern's
-- trigrams back into the index scan. The run is a substring of the needle, so every row the pattern matches is a
-- candidate: the answer is the full search's. Without a second argument the function is 0031's.
DROP FUNCTION IF EXISTS app_user_search(text);
CREATE FUNCTION app_user_search(p_pattern text, p_index_pattern text DEFAULT NULL)
  RETURNS TABLE (id integer)
  LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
  SET search_path = public, pg_temp
  ROWS 100
AS $$
  SELECT u.id FROM users u
  WHERE p_index_pattern IS NULL
    AND u.tenant_id = app_current_tenant()
    AND (u.email ILIKE p_pattern
         OR (coalesce(u.first_name, '') || ' ' || coalesce(u.last_name, '')) ILIKE p_pattern)
  UNION ALL
  SELECT c.id FROM (
    SELECT u.id, u.email, u.first_name, u.last_name FROM users u
    WHERE p_index_pattern IS NOT NULL
      AND u.tenant_id = app_current_tenant()
      AND (u.email ILIKE p_index_pattern
           OR (coalesce(u.first_name, '') || ' ' || coalesce(u.last_name, '')) ILIKE p_index_pattern)
    OFFSET 0
  ) c
  WHERE c.email ILIKE p_pattern
     OR (coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '')) ILIKE p_pattern
$$;
REVOKE ALL ON FUNCTION app_user_search(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_user_search(text, text) TO massacorp_app;
