-- Foundation: tenants, users, sessions, refresh tokens, the audit log and its hash chain.
-- Runs on PostgreSQL 15 through 18 (CI's server and PGlite). Row-level security applies to the non-owner role
-- massacorp_app, which the application switches to in every tenant transaction.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'massacorp_app') THEN
    CREATE ROLE massacorp_app NOLOGIN;
  END IF;
END $$;
-- The connection user must be able to SET ROLE massacorp_app (no-op for superusers).
DO $$
BEGIN
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    EXECUTE format('GRANT massacorp_app TO %I', current_user);
  END IF;
END $$;

CREATE OR REPLACE FUNCTION app_current_tenant() RETURNS integer
  LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('app.tenant_id', true), '')::integer $$;

CREATE TABLE tenants (
  id           serial PRIMARY KEY,
  slug         text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  name         text NOT NULL,
  status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  is_platform  boolean NOT NULL DEFAULT false,
  settings     jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  suspended_at timestamptz
);

CREATE TABLE users (
  id                  serial PRIMARY KEY,
  tenant_id           integer NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  email               text NOT NULL,
  password_hash       text,
  first_name          text,
  last_name           text,
  phone               text,
  is_active           boolean NOT NULL DEFAULT true,
  is_verified         boolean NOT NULL DEFAULT false,
  is_superuser        boolean NOT NULL DEFAULT false,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  last_login_at       timestamptz,
  password_changed_at timestamptz,
  UNIQUE (tenant_id, email)
);

CREATE TABLE sessions (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id      integer NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id        integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  last_seen_at   timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz NOT NULL,
  revoked_at     timestamptz,
  revoked_reason text,
  ip_address     text,
  user_agent     text,
  device_type    text,
  browser        text,
  os             text
);
CREATE INDEX sessions_tenant_user_idx ON sessions (tenant_id, user_id, created_at DESC);

CREATE TABLE refresh_tokens (
  id          uuid PRIMARY KEY,
  tenant_id   integer NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  session_id  uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  token_hash  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  replaced_by uuid
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (tenant_id, session_id);

-- Append-only audit trail, chained per tenant: hash = sha256(prev_hash || canonical JSON of the record).
CREATE TABLE audit_log (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id     integer NOT NULL,
  seq           bigint NOT NULL,
  event_type    text NOT NULL,
  actor_type    text NOT NULL CHECK (actor_type IN ('user', 'api_key', 'system')),
  actor_id      text,
  resource_type text,
  resource_id   text,
  success       boolean NOT NULL,
  ip_address    text,
  user_agent    text,
  request_id    text,
  session_id    text,
  metadata      jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at    timestamptz NOT NULL,
  prev_hash     text NOT NULL,
  hash          text NOT NULL,
  UNIQUE (tenant_id, seq)
);
CREATE INDEX audit_log_tenant_created_idx ON audit_log (tenant_id, id DESC);
CREATE INDEX audit_log_tenant_event_idx ON audit_log (tenant_id, event_type, id DESC);

-- The head of each tenant's chain; its row lock serialises concurrent writers so the chain never forks.
CREATE TABLE audit_chain_heads (
  tenant_id integer PRIMARY KEY,
  last_seq  bigint NOT NULL,
  last_hash text NOT NULL
);

CREATE OR REPLACE FUNCTION audit_log_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_immutable();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_immutable();

-- Row-level security: every tenant table, forced, scoped to app.tenant_id.
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants TO massacorp_app
  USING (id = app_current_tenant()) WITH CHECK (id = app_current_tenant());

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['users', 'sessions', 'refresh_tokens', 'audit_log', 'audit_chain_heads'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I TO massacorp_app USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant())', t);
  END LOOP;
END $$;

GRANT USAGE ON SCHEMA public TO massacorp_app;
GRANT SELECT, UPDATE ON tenants TO massacorp_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, sessions, refresh_tokens, audit_chain_heads TO massacorp_app;
-- The app may only append to the audit log: no UPDATE, DELETE or TRUNCATE privilege, and the trigger besides.
GRANT SELECT, INSERT ON audit_log TO massacorp_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO massacorp_app;
