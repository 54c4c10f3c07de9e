-- Invitations (issue 20, admin lifecycle): an administrator invites an address with roles; the person accepts
-- through a single-use link (a password) or through the tenant's SSO connection for the address's domain.
-- Only the SHA-256 of the 256-bit token is stored. The status is derived: accepted_at, revoked_at, expires_at.
CREATE TABLE invitations (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        integer NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  -- The list's keyset cursor (newest first): uuids do not order, created_at may tie.
  seq              bigint GENERATED ALWAYS AS IDENTITY,
  email            text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
  -- Checked grantable by the inviter when invited (and by whoever resends); a role deleted since is skipped.
  role_ids         uuid[] NOT NULL DEFAULT '{}',
  token_hash       text NOT NULL,
  invited_by       integer,
  expires_at       timestamptz NOT NULL,
  accepted_at      timestamptz,
  accepted_user_id integer,
  revoked_at       timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  UNIQUE (tenant_id, token_hash),
  CHECK (accepted_at IS NULL OR revoked_at IS NULL),
  FOREIGN KEY (tenant_id, invited_by) REFERENCES users (tenant_id, id) ON DELETE SET NULL (invited_by),
  FOREIGN KEY (tenant_id, accepted_user_id) REFERENCES users (tenant_id, id) ON DELETE SET NULL (accepted_user_id)
);
-- One open (neither accepted nor revoked) invitation per address: a new one replaces it (the service revokes the
-- old one in the same transaction; two concurrent invitations of one address cannot both commit).
CREATE UNIQUE INDEX invitations_open_email_idx ON invitations (tenant_id, email)
  WHERE accepted_at IS NULL AND revoked_at IS NULL;
CREATE INDEX invitations_list_idx ON invitations (tenant_id, seq DESC);

ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invitations TO massacorp_app
  USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON invitations TO massacorp_app;
GRANT USAGE, SELECT ON SEQUENCE invitations_seq_seq TO massacorp_app;
