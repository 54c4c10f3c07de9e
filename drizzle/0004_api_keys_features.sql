-- API keys (API.md §9, §13) and feature flags (§14).
-- Runs on PostgreSQL 15 through 18. Tenant tables get FORCE'd row-level security like every other one.

-- API keys. Only sha256(raw key) is stored; the raw key is shown once at creation.
-- key_hash is unique across tenants on purpose: the raw key does not say which tenant it belongs to, so the
-- authenticator finds it by hash (one indexed lookup) before it knows the tenant.
CREATE TABLE api_keys (
  id                 serial PRIMARY KEY,
  tenant_id          integer NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
  key_hash           text NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
  key_prefix         text NOT NULL,
  scopes             text[] NOT NULL DEFAULT '{}',
  -- 'user': acts as user_id (scopes ∩ the user's current permissions) and dies with the user.
  -- 'tenant': acts with role_id's permissions ∩ scopes and outlives its creator.
  owner              text NOT NULL DEFAULT 'user' CHECK (owner IN ('user', 'tenant')),
  user_id            integer REFERENCES users(id) ON DELETE CASCADE,
  role_id            uuid,
  created_by_user_id integer REFERENCES users(id) ON DELETE SET NULL,
  expires_at         timestamptz,
  last_used_at       timestamptz,
  revoked_at         timestamptz,
  revoked_reason     text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  CHECK ((owner = 'user' AND user_id IS NOT NULL AND role_id IS NULL) OR (owner = 'tenant' AND user_id IS NULL AND role_id IS NOT NULL))
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, created_at DESC, id DESC);
CREATE INDEX api_keys_tenant_user_idx ON api_keys (tenant_id, user_id) WHERE user_id IS NOT NULL;

-- The feature flag catalogue is global (platform operators write it); every tenant reads it.
CREATE TABLE feature_flags (
  key             text PRIMARY KEY CHECK (key ~ '^[a-z0-9][a-z0-9_.-]{1,63}$'),
  description     text NOT NULL DEFAULT '',
  default_enabled boolean NOT NULL DEFAULT false,
  rollout_percent integer CHECK (rollout_percent BETWEEN 0 AND 100),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Overrides per tenant, role or user. target_id is '' for the tenant scope, the role's uuid or the user's id
-- as text otherwise, so one unique key covers the three scopes (PostgreSQL 15 compatible, no NULLS NOT DISTINCT).
CREATE TABLE feature_overrides (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id  integer NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  flag_key   text NOT NULL REFERENCES feature_flags(key) ON DELETE CASCADE ON UPDATE CASCADE,
  scope      text NOT NULL CHECK (scope IN ('tenant', 'role', 'user')),
  target_id  text NOT NULL DEFAULT '',
  enabled    boolean NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((scope = 'tenant') = (target_id = '')),
  UNIQUE (tenant_id, flag_key, scope, target_id)
);
CREATE INDEX feature_overrides_tenant_target_idx ON feature_overrides (tenant_id, scope, target_id);

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_keys TO massacorp_app
  USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
ALTER TABLE feature_overrides ENABLE ROW LEVEL SECURITY;
ALTER TABLE feature_overrides FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON feature_overrides TO massacorp_app
  USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON api_keys, feature_overrides TO massacorp_app;
GRANT USAGE, SELECT ON SEQUENCE api_keys_id_seq TO massacorp_app;
-- Tenants only read the catalogue; operators write it in system transactions (withSystem).
GRANT SELECT ON feature_flags TO massacorp_app;
