-- How each session was opened (issue 18, item 4): sso_required must end, and keep refusing, every session of a
-- user in an SSO-required domain that was NOT opened through that domain's connection, and keep the ones that
-- were. sign_in_method is the first factor of the sign-in: 'password', 'sso' (an enterprise connection, named by
-- sso_connection_id) or 'oauth:<provider>' (social login); an MFA step keeps the first factor it completes.
-- Sessions opened before this column existed are 'unknown': nothing says they came through a connection, so they
-- count as non-SSO (ended when sso_required is switched on, refused at refresh in such a domain). No foreign key
-- on sso_connection_id: a deleted connection leaves the id, which then matches no connection (non-SSO).
ALTER TABLE sessions ADD COLUMN sign_in_method text NOT NULL DEFAULT 'unknown';
ALTER TABLE sessions ADD COLUMN sso_connection_id uuid;
