-- SCIM 2.0 provisioning (API.md §17): the identity provider's own id of each user it provisioned (`externalId`,
-- RFC 7643 §3.1). Additive: the users table is untouched; a user the IdP never sent has no row here.
-- external_id is unique per tenant (Okta and Entra ID probe `externalId eq "…"` before creating), never across
-- tenants; the row goes with its user.
CREATE TABLE scim_external_ids (
  tenant_id   integer NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id     integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  external_id text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 255),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id),
  UNIQUE (tenant_id, external_id)
);
CREATE INDEX scim_external_ids_user_idx ON scim_external_ids (user_id);

ALTER TABLE scim_external_ids ENABLE ROW LEVEL SECURITY;
ALTER TABLE scim_external_ids FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON scim_external_ids TO massacorp_app
  USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON scim_external_ids TO massacorp_app;
