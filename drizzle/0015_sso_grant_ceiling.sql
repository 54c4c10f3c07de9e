-- Issue 18 item 3: what an SSO connection may grant (its default_role at JIT creation) and whom it may sign in or
-- link are bounded by what its LAST EDITOR could grant (docs/api-decisions.md, "Issue 18: linking and MFA rules").
-- Recorded on every create and update:
--   last_editor_user_id     the editing user (or the creator of a user-owned API key); null for tenant-owned keys
--   last_editor_api_key_id  the API key that edited, when a key did
--   last_editor_role_id     the role of a tenant-owned API key (it acts with that role)
--   grant_ceiling           a snapshot of the editor's effective permissions at the edit
--   grant_ceiling_privileged whether the editor was an owner, a superuser or a platform operator at the edit
--   last_edited_at
-- At sign-in the ceiling is the snapshot intersected with what the editor (user or key role) holds NOW: an editor
-- later demoted, deactivated or deleted takes the connection's power down with them (fail closed), and an editor
-- later promoted does not raise it (the snapshot). Rows from before this migration have no snapshot (NULL): they
-- are bounded by their creator's current permissions only, until the next edit records one.
ALTER TABLE sso_connections
  ADD COLUMN last_editor_user_id      integer,
  ADD COLUMN last_editor_api_key_id   integer,
  ADD COLUMN last_editor_role_id      uuid,
  ADD COLUMN grant_ceiling            text[],
  ADD COLUMN grant_ceiling_privileged boolean,
  ADD COLUMN last_edited_at           timestamptz;

UPDATE sso_connections SET last_editor_user_id = created_by_user_id, last_edited_at = updated_at;
