-- Issue 20, the users list's sort (GET /users?sort=): each order walks an index that leads with the tenant, so a
-- sorted page costs what the page costs at a million users (issue 25). Each index also carries the id and
-- is_active, so a deep `skip` (and the active filter) finds the page's ids by an index-only scan, as the default
-- order does with users_tenant_active_id_idx.
--
-- last_login_at is written at every sign-in: indexing it costs that update its HOT path (every index of users
-- gets an entry). A sign-in already writes a session, a refresh token and an audit record; sorting a large
-- tenant by last sign-in without an index would read every row of the tenant.
CREATE INDEX users_tenant_email_cover_idx ON users (tenant_id, email) INCLUDE (id, is_active);
CREATE INDEX users_tenant_created_idx ON users (tenant_id, created_at, id) INCLUDE (is_active);
CREATE INDEX users_tenant_last_login_idx ON users (tenant_id, last_login_at NULLS FIRST, id) INCLUDE (is_active);
