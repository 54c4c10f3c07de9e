-- The SAML service provider's signing key (API.md §17: "signed AuthnRequest redirect"). Made at the first SAML
-- use when SAML_SP_PRIVATE_KEY / SAML_SP_CERTIFICATE are not set (they override it), and shared by every replica
-- and every SAML connection (the SP metadata of each connection publishes `certificate`).
-- private_key_sealed: the RSA private key (PKCS#8 PEM) sealed with ENCRYPTION_KEY (SecretBox, AAD
-- `saml:sp:key:<id>`); id is the SHA-256 fingerprint of the certificate. Not tenant-scoped. No grant to
-- massacorp_app: only system transactions read this table.
CREATE TABLE saml_sp_keys (
  id                 text PRIMARY KEY,
  private_key_sealed text NOT NULL,
  certificate        text NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  retired_at         timestamptz
);
-- Replicas starting together race to create the first key: INSERT ... ON CONFLICT on this index keeps one.
CREATE UNIQUE INDEX saml_sp_keys_current ON saml_sp_keys ((retired_at IS NULL)) WHERE retired_at IS NULL;
