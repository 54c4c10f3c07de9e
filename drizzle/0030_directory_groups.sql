-- Directory groups (API.md §20, issue 19): SCIM Groups are groups of their own per tenant, no longer role codes.
-- A tenant administrator maps a group to roles; membership of a mapped group grants those roles through RBAC.
-- Each assignment in user_roles now records its sources: `direct` (assigned through /users/{id}/roles, the
-- console, SSO, registration) and `via_group` (a mapped directory group of the user grants it). A row lives while
-- at least one source holds; leaving a group removes the role only when neither another group nor a direct
-- assignment keeps it.

CREATE TABLE directory_groups (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    integer NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 255),
  external_id  text CHECK (external_id IS NULL OR length(external_id) BETWEEN 1 AND 255),
  -- meta.version (a weak ETag): bumped on every change of the group, its name, members or mapped roles.
  version      integer NOT NULL DEFAULT 1,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id)
);
-- displayName is unique per tenant, case-insensitively (RFC 7643 §4.2: uniqueness "server").
CREATE UNIQUE INDEX directory_groups_name_idx ON directory_groups (tenant_id, lower(display_name));

CREATE TABLE directory_group_members (
  tenant_id  integer NOT NULL,
  group_id   uuid NOT NULL,
  user_id    integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, group_id, user_id),
  FOREIGN KEY (tenant_id, group_id) REFERENCES directory_groups (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX directory_group_members_user_idx ON directory_group_members (tenant_id, user_id);

CREATE TABLE directory_group_roles (
  tenant_id  integer NOT NULL,
  group_id   uuid NOT NULL,
  role_id    uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, group_id, role_id),
  FOREIGN KEY (tenant_id, group_id) REFERENCES directory_groups (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, role_id) REFERENCES roles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX directory_group_roles_role_idx ON directory_group_roles (tenant_id, role_id);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['directory_groups', 'directory_group_members', 'directory_group_roles'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I TO massacorp_app USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant())', t);
  END LOOP;
END $$;
GRANT SELECT, INSERT, UPDATE, DELETE ON directory_groups, directory_group_members, directory_group_roles
  TO massacorp_app;

ALTER TABLE user_roles
  ADD COLUMN direct boolean NOT NULL DEFAULT true,
  ADD COLUMN via_group boolean NOT NULL DEFAULT false,
  ADD CONSTRAINT user_roles_source_check CHECK (direct OR via_group);

-- Existing pushes: until now a SCIM Group was a role (its id the role's id, its displayName the role's code).
-- In every tenant holding a SCIM key, each role with holders becomes a directory group with the same id (so the
-- identity provider's stored group ids keep working), the same displayName, mapped to that role, with the
-- role's holders as members. Their assignments keep `direct` (nothing tells a pushed assignment from a manual
-- one) and gain `via_group`.
INSERT INTO directory_groups (id, tenant_id, display_name)
SELECT r.id, r.tenant_id, r.code
FROM roles r
WHERE EXISTS (SELECT 1 FROM api_keys k WHERE k.tenant_id = r.tenant_id AND 'scim' = ANY (k.scopes))
  AND EXISTS (SELECT 1 FROM user_roles ur WHERE ur.tenant_id = r.tenant_id AND ur.role_id = r.id);
INSERT INTO directory_group_roles (tenant_id, group_id, role_id)
SELECT g.tenant_id, g.id, g.id FROM directory_groups g;
INSERT INTO directory_group_members (tenant_id, group_id, user_id)
SELECT ur.tenant_id, ur.role_id, ur.user_id
FROM user_roles ur JOIN directory_groups g ON g.tenant_id = ur.tenant_id AND g.id = ur.role_id;
UPDATE user_roles ur SET via_group = true
FROM directory_groups g WHERE g.tenant_id = ur.tenant_id AND g.id = ur.role_id;

-- SCIM users (RFC 7643 §4.1): userName is any string unique per tenant (case-insensitive), kept apart from the
-- sign-in email; the readWrite attributes the app itself does not use (name.formatted, displayName, title,
-- phoneNumbers, the enterprise extension, ...) are stored as written in `attributes`; `version` feeds meta.version.
ALTER TABLE scim_external_ids
  ALTER COLUMN external_id DROP NOT NULL,
  ADD COLUMN user_name text CHECK (user_name IS NULL OR length(user_name) BETWEEN 1 AND 255),
  ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
  ADD COLUMN version integer NOT NULL DEFAULT 1;
CREATE UNIQUE INDEX scim_external_ids_user_name_idx ON scim_external_ids (tenant_id, lower(user_name));
