-- Issue 25, the audit trail at scale.
--
-- 1. Time ranges (GET /audit/logs?from&to, the export's from/to) start in an index that leads with
--    (tenant_id, created_at) instead of walking the primary key over the whole history.
-- 2. audit_verifications: how far each tenant's chain has been verified in full (a background job re-hashed
--    every record from the genesis or the retention anchor through `through_seq`, whose hash was
--    `through_hash`). GET /audit/verify starts there, so it costs what was appended since, and moves it on.
--    A tenant table like any other (forced RLS, policy); the app reads and writes its own tenant's row.
CREATE INDEX audit_log_tenant_time_idx ON audit_log (tenant_id, created_at, id);

CREATE TABLE audit_verifications (
  tenant_id      integer PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  through_seq    bigint NOT NULL CHECK (through_seq >= 0),
  through_hash   text NOT NULL,
  -- When the last full re-verification finished, and when the mark last moved (a full or an incremental run).
  full_at        timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE audit_verifications ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_verifications FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_verifications TO massacorp_app
  USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
GRANT SELECT, INSERT, UPDATE ON audit_verifications TO massacorp_app;
