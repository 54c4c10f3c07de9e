-- A row can never point into another tenant (issue 18, item 10). Foreign keys between tenant tables carried the
-- referenced id alone (sessions.user_id -> users.id, ...). Referential checks run as the table owner, past RLS,
-- so a tenant transaction could insert a row naming another tenant's user, session or SSO connection: the insert
-- succeeded (or failed with 23503, which tells whether that id exists in some tenant), and deleting the other
-- tenant's row cascaded into this tenant's data. Every such key now pairs tenant_id with the id, as roles and
-- user_roles did from 0002, so the database itself refuses the cross-tenant reference.
-- Runs on PostgreSQL 15 through 18: ON DELETE SET NULL (column list) needs 15.

-- The referenced side: (tenant_id, id) is unique because id already is; the index is what a foreign key needs.
ALTER TABLE users ADD CONSTRAINT users_tenant_id_id_key UNIQUE (tenant_id, id);
ALTER TABLE sessions ADD CONSTRAINT sessions_tenant_id_id_key UNIQUE (tenant_id, id);
ALTER TABLE sso_connections ADD CONSTRAINT sso_connections_tenant_id_id_key UNIQUE (tenant_id, id);

ALTER TABLE sessions DROP CONSTRAINT sessions_user_id_fkey,
  ADD CONSTRAINT sessions_user_id_fkey FOREIGN KEY (tenant_id, user_id)
    REFERENCES users (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_session_id_fkey,
  ADD CONSTRAINT refresh_tokens_session_id_fkey FOREIGN KEY (tenant_id, session_id)
    REFERENCES sessions (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE user_roles DROP CONSTRAINT user_roles_user_id_fkey,
  ADD CONSTRAINT user_roles_user_id_fkey FOREIGN KEY (tenant_id, user_id)
    REFERENCES users (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE mfa_totp DROP CONSTRAINT mfa_totp_user_id_fkey,
  ADD CONSTRAINT mfa_totp_user_id_fkey FOREIGN KEY (tenant_id, user_id)
    REFERENCES users (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE mfa_recovery_codes DROP CONSTRAINT mfa_recovery_codes_user_id_fkey,
  ADD CONSTRAINT mfa_recovery_codes_user_id_fkey FOREIGN KEY (tenant_id, user_id)
    REFERENCES users (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE webauthn_credentials DROP CONSTRAINT webauthn_credentials_user_id_fkey,
  ADD CONSTRAINT webauthn_credentials_user_id_fkey FOREIGN KEY (tenant_id, user_id)
    REFERENCES users (tenant_id, id) ON DELETE CASCADE;
-- SET NULL of the user column only: tenant_id is NOT NULL and stays.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_user_id_fkey,
  ADD CONSTRAINT api_keys_user_id_fkey FOREIGN KEY (tenant_id, user_id)
    REFERENCES users (tenant_id, id) ON DELETE CASCADE,
  DROP CONSTRAINT api_keys_created_by_user_id_fkey,
  ADD CONSTRAINT api_keys_created_by_user_id_fkey FOREIGN KEY (tenant_id, created_by_user_id)
    REFERENCES users (tenant_id, id) ON DELETE SET NULL (created_by_user_id);
ALTER TABLE wg_peers DROP CONSTRAINT wg_peers_user_id_fkey,
  ADD CONSTRAINT wg_peers_user_id_fkey FOREIGN KEY (tenant_id, user_id)
    REFERENCES users (tenant_id, id) ON DELETE SET NULL (user_id);
ALTER TABLE password_reset_tokens DROP CONSTRAINT password_reset_tokens_user_id_fkey,
  ADD CONSTRAINT password_reset_tokens_user_id_fkey FOREIGN KEY (tenant_id, user_id)
    REFERENCES users (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE sso_domains DROP CONSTRAINT sso_domains_connection_id_fkey,
  ADD CONSTRAINT sso_domains_connection_id_fkey FOREIGN KEY (tenant_id, connection_id)
    REFERENCES sso_connections (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE external_identities DROP CONSTRAINT external_identities_user_id_fkey,
  ADD CONSTRAINT external_identities_user_id_fkey FOREIGN KEY (tenant_id, user_id)
    REFERENCES users (tenant_id, id) ON DELETE CASCADE,
  DROP CONSTRAINT external_identities_connection_id_fkey,
  ADD CONSTRAINT external_identities_connection_id_fkey FOREIGN KEY (tenant_id, connection_id)
    REFERENCES sso_connections (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE scim_external_ids DROP CONSTRAINT scim_external_ids_user_id_fkey,
  ADD CONSTRAINT scim_external_ids_user_id_fkey FOREIGN KEY (tenant_id, user_id)
    REFERENCES users (tenant_id, id) ON DELETE CASCADE;
