-- Signing keys of the JWTs the app issues (API.md §19). One current key per algorithm (retired_at is null);
-- retired keys still verify until verify_until, then they are ignored and their secret is wiped.
-- secret_sealed: the private JWK (EdDSA, ES256) or the HMAC secret (HS*), sealed with ENCRYPTION_KEY
-- (SecretBox, AAD `jwt:key:<kid>`). A row with a null secret records the retirement of the key derived from
-- JWT_SECRET, which is never stored. No grant to massacorp_app: only system transactions read this table.
CREATE TABLE jwt_signing_keys (
  kid           text PRIMARY KEY,
  alg           text NOT NULL,
  secret_sealed text,
  public_jwk    jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  retired_at    timestamptz,
  verify_until  timestamptz,
  CHECK ((retired_at IS NULL) = (verify_until IS NULL))
);
-- Replicas starting together race to create the first key: INSERT ... ON CONFLICT on this index keeps one.
CREATE UNIQUE INDEX jwt_signing_keys_current ON jwt_signing_keys (alg) WHERE retired_at IS NULL;
