-- Issue 19: SAML as identity providers really set it up.
-- * A second pinned IdP certificate, for the IdP's key rollover (Okta and Entra ID publish the next one ahead).
-- * The IdP metadata URL the connection was imported from (re-read by POST .../metadata/refresh).
-- * A per-connection attribute map: which assertion attribute carries the email, the names.
ALTER TABLE sso_connections ADD COLUMN IF NOT EXISTS saml_idp_certificate_next text;
ALTER TABLE sso_connections ADD COLUMN IF NOT EXISTS saml_idp_metadata_url text;
ALTER TABLE sso_connections ADD COLUMN IF NOT EXISTS saml_attribute_map jsonb;
