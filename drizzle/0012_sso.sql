-- Enterprise SSO (API.md §17): connections per tenant, their email domains, and the external identities that
-- sign users in (enterprise connections now, social login providers later). Runs on PostgreSQL 15 through 18.

CREATE TABLE sso_connections (
  id                         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id                  integer NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  type                       text NOT NULL CHECK (type IN ('oidc', 'saml')),
  name                       text NOT NULL,
  enabled                    boolean NOT NULL DEFAULT true,
  -- A role code of the tenant (system or custom), given to users created on their first sign-in.
  default_role               text NOT NULL DEFAULT 'member',
  jit_provisioning           boolean NOT NULL DEFAULT true,
  -- Users whose email domain is a verified domain of this (enabled) connection may not sign in with a password.
  sso_required               boolean NOT NULL DEFAULT false,
  trust_mfa                  boolean NOT NULL DEFAULT false,
  -- Where the one-time code may be sent (exact match).
  redirect_uris              text[] NOT NULL DEFAULT '{}',
  oidc_issuer                text,
  oidc_client_id             text,
  -- SecretBox-sealed, AAD `sso:oidc-secret:<id>` (src/cli/keys.ts sealedColumns); never returned.
  oidc_client_secret_sealed  text,
  saml_idp_entity_id         text,
  saml_idp_sso_url           text,
  saml_idp_certificate       text,
  saml_sp_entity_id          text,
  -- The value of the DNS TXT record `_massacorp-verify.<domain>` that proves a domain.
  domain_token               text NOT NULL,
  created_by_user_id         integer,
  created_at                 timestamptz NOT NULL DEFAULT now(),
  updated_at                 timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT sso_connections_tenant_name_key UNIQUE (tenant_id, name),
  CONSTRAINT sso_connections_oidc_check CHECK (type <> 'oidc' OR (oidc_issuer IS NOT NULL AND oidc_client_id IS NOT NULL))
);
CREATE INDEX sso_connections_tenant_idx ON sso_connections (tenant_id, created_at);

ALTER TABLE sso_connections ENABLE ROW LEVEL SECURITY;
ALTER TABLE sso_connections FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sso_connections TO massacorp_app
  USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON sso_connections TO massacorp_app;

CREATE TABLE sso_domains (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id      integer NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  connection_id  uuid NOT NULL REFERENCES sso_connections(id) ON DELETE CASCADE,
  domain         text NOT NULL CHECK (domain = lower(domain) AND length(domain) BETWEEN 1 AND 253),
  verified_at    timestamptz,
  -- `dns` or `operator:<tenant id>:<user id>`.
  verified_by    text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  -- A domain is on one connection of a tenant.
  CONSTRAINT sso_domains_tenant_domain_key UNIQUE (tenant_id, domain)
);
-- A domain belongs to one tenant: once verified, nobody else can verify it. Unverified claims do not block the
-- rightful owner (only they can publish the TXT record).
CREATE UNIQUE INDEX sso_domains_verified_key ON sso_domains (domain) WHERE verified_at IS NOT NULL;
CREATE INDEX sso_domains_connection_idx ON sso_domains (connection_id);

ALTER TABLE sso_domains ENABLE ROW LEVEL SECURITY;
ALTER TABLE sso_domains FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sso_domains TO massacorp_app
  USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON sso_domains TO massacorp_app;

-- Identities at identity providers. Enterprise connections: provider 'sso', keyed by (connection, issuer,
-- subject), never by email or issuer alone. Social login (API.md §9): connection_id null, provider google,
-- github, microsoft or oidc, keyed by (tenant, provider, issuer, subject).
CREATE TABLE external_identities (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id      integer NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id        integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  connection_id  uuid REFERENCES sso_connections(id) ON DELETE CASCADE,
  provider       text NOT NULL CHECK (provider ~ '^[a-z0-9_-]{1,32}$'),
  issuer         text NOT NULL,
  subject        text NOT NULL,
  email          text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  last_login_at  timestamptz,
  CONSTRAINT external_identities_kind_check CHECK ((connection_id IS NOT NULL) = (provider = 'sso'))
);
CREATE UNIQUE INDEX external_identities_connection_key
  ON external_identities (connection_id, issuer, subject) WHERE connection_id IS NOT NULL;
CREATE UNIQUE INDEX external_identities_provider_key
  ON external_identities (tenant_id, provider, issuer, subject) WHERE connection_id IS NULL;
CREATE INDEX external_identities_user_idx ON external_identities (tenant_id, user_id);

ALTER TABLE external_identities ENABLE ROW LEVEL SECURITY;
ALTER TABLE external_identities FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON external_identities TO massacorp_app
  USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON external_identities TO massacorp_app;
