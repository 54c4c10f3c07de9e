-- OpenID Provider, protocol step (issue 21): what each tenant's provider (the oidc-provider library) keeps
-- between requests, so any replica serves any step. One table for every stored model, keyed like the library's
-- adapter interface (model name + id), scoped by tenant (each tenant is its own issuer) and behind RLS.
--
-- Kept here: authorization codes, grants, refresh tokens, opaque access tokens (userinfo), the provider's
-- browser sessions. Short-lived, replay-only artefacts (interactions, replay detection, pushed requests) live in
-- the shared store with a TTL. Tokens are stored under the library's id (a random handle; the token value is
-- that handle, so no value here is a password-equivalent beyond its own lifetime, like a session id).
--
-- account_id (the user) and client_id are columns so that ending a user's access or deleting a client ends
-- their artefacts in one statement; grant_id lets the library revoke a whole grant (code replay, refresh
-- token reuse); uid finds a browser session.
CREATE TABLE oidc_artefacts (
  tenant_id    integer NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  model        text NOT NULL CHECK (length(model) BETWEEN 1 AND 64),
  id           text NOT NULL CHECK (length(id) BETWEEN 1 AND 200),
  payload      jsonb NOT NULL,
  grant_id     text,
  uid          text,
  account_id   integer,
  client_id    text,
  expires_at   timestamptz NOT NULL,
  consumed_at  timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, model, id)
);
CREATE INDEX oidc_artefacts_grant_idx ON oidc_artefacts (tenant_id, grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oidc_artefacts_uid_idx ON oidc_artefacts (tenant_id, uid) WHERE uid IS NOT NULL;
CREATE INDEX oidc_artefacts_account_idx ON oidc_artefacts (tenant_id, account_id) WHERE account_id IS NOT NULL;
CREATE INDEX oidc_artefacts_client_idx ON oidc_artefacts (tenant_id, client_id) WHERE client_id IS NOT NULL;
-- The periodic prune deletes what has expired, oldest first.
CREATE INDEX oidc_artefacts_expiry_idx ON oidc_artefacts (expires_at);

ALTER TABLE oidc_artefacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE oidc_artefacts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON oidc_artefacts TO massacorp_app
  USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON oidc_artefacts TO massacorp_app;
