-- RBAC: roles per tenant (system and custom, with single-parent inheritance) and role assignments of users.
-- System roles keep `permissions` empty here: their permissions come from the code catalogue
-- (src/modules/rbac/permissions.ts, SYSTEM_ROLES), so the catalogue stays the single source and a new release
-- changes every tenant's system roles at once without a data migration.

CREATE TABLE roles (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id      integer NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  code           text NOT NULL CHECK (code ~ '^[a-z][a-z0-9_.-]{1,62}$'),
  name           text NOT NULL,
  description    text,
  is_system      boolean NOT NULL DEFAULT false,
  permissions    text[] NOT NULL DEFAULT '{}',
  -- A role inherits its parent's permissions (see the foreign key below).
  parent_role_id uuid,
  mfa_required   boolean NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, code),
  -- Lets user_roles and children reference (tenant_id, id), so a row can never point into another tenant.
  UNIQUE (tenant_id, id),
  CHECK (parent_role_id IS NULL OR parent_role_id <> id),
  -- The parent is in the same tenant; deleting it detaches the children (column list: PostgreSQL >= 15).
  FOREIGN KEY (tenant_id, parent_role_id) REFERENCES roles (tenant_id, id) ON DELETE SET NULL (parent_role_id)
);
CREATE INDEX roles_parent_idx ON roles (tenant_id, parent_role_id);

CREATE TABLE user_roles (
  tenant_id  integer NOT NULL,
  user_id    integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role_id    uuid NOT NULL,
  expires_at timestamptz,
  granted_by integer,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id, role_id),
  FOREIGN KEY (tenant_id, role_id) REFERENCES roles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_roles_role_idx ON user_roles (tenant_id, role_id);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['roles', 'user_roles'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I TO massacorp_app USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant())', t);
  END LOOP;
END $$;
GRANT SELECT, INSERT, UPDATE, DELETE ON roles, user_roles TO massacorp_app;

-- Tenants created before this migration get their system roles; their superusers get `owner`.
INSERT INTO roles (tenant_id, code, name, description, is_system)
SELECT t.id, r.code, r.name, r.description, true
FROM tenants t
CROSS JOIN (VALUES
  ('owner', 'Owner', 'Everything in the tenant'),
  ('admin', 'Administrator', 'Administers users, roles, keys, sessions and settings'),
  ('manager', 'Manager', 'Manages users and their sessions, assigns roles'),
  ('member', 'Member', 'A regular user'),
  ('viewer', 'Viewer', 'Read-only access')
) AS r(code, name, description)
ON CONFLICT (tenant_id, code) DO NOTHING;
INSERT INTO user_roles (tenant_id, user_id, role_id)
SELECT u.tenant_id, u.id, r.id FROM users u JOIN roles r ON r.tenant_id = u.tenant_id AND r.code = 'owner'
WHERE u.is_superuser
ON CONFLICT DO NOTHING;
