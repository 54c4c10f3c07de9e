-- Audit trail that survives GDPR erasure and retention pruning, plus password reset tokens.
-- Runs on PostgreSQL 15 through 18 (CI's server and PGlite).

-- Personal values that audit writers put in metadata (emails, names, phones) never enter the hashed record:
-- the writer stores them here and leaves an opaque random reference ("pii:<hex>") in the metadata. Erasure
-- deletes these rows; the hashed records, and therefore the chain, never change. See docs/audit.md.
CREATE TABLE audit_pii (
  tenant_id       integer NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  ref             text NOT NULL,
  subject_user_id integer,
  kind            text NOT NULL,
  value           text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, ref)
);
CREATE INDEX audit_pii_subject_idx ON audit_pii (tenant_id, subject_user_id);
CREATE INDEX audit_pii_email_idx ON audit_pii (tenant_id, lower(value)) WHERE kind = 'email';

-- Auditors filter by who acted and on what; GDPR exports look up a user's records both ways.
CREATE INDEX audit_log_tenant_actor_idx ON audit_log (tenant_id, actor_id, id DESC);
CREATE INDEX audit_log_tenant_resource_idx ON audit_log (tenant_id, resource_type, resource_id, id DESC);

-- Retention: records pruned from the head of a tenant's chain leave an anchor (the last pruned seq and its
-- hash), so verification starts from the anchor instead of the genesis hash. Written only by audit_prune().
CREATE TABLE audit_anchors (
  tenant_id          integer NOT NULL,
  pruned_through_seq bigint NOT NULL,
  last_hash_pruned   text NOT NULL,
  records_pruned     bigint NOT NULL,
  archive_ref        text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, pruned_through_seq)
);

-- Password reset (API.md §9): only sha256 of the token is stored; single use through an atomic claim.
CREATE TABLE password_reset_tokens (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   integer NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id     integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  UNIQUE (tenant_id, token_hash)
);
CREATE INDEX password_reset_tokens_user_idx ON password_reset_tokens (tenant_id, user_id, created_at DESC);

-- The append-only trigger, relaxed for exactly one case: a DELETE of records at or below the prune bound of
-- the tenant that audit_prune() announced, by the table's owner (audit_prune runs SECURITY DEFINER as the
-- owner). The app role has no DELETE privilege at all, so it is refused before the trigger even runs, and the
-- settings alone (which any role can set) open nothing without the owner's identity.
CREATE OR REPLACE FUNCTION audit_log_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF current_setting('massacorp.audit_prune_tenant', true) = OLD.tenant_id::text
       AND OLD.seq <= coalesce(nullif(current_setting('massacorp.audit_prune_through', true), '')::bigint, 0)
       AND current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID) THEN
      RETURN OLD;
    END IF;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

-- Prunes a tenant's records up to and including p_through_seq and writes the anchor in the same transaction.
-- The anchor's hash is read here, not passed in, so a caller cannot forge the starting point of verification.
CREATE OR REPLACE FUNCTION audit_prune(p_tenant integer, p_through_seq bigint, p_archive text)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_hash  text;
  v_count bigint;
  v_prev  bigint;
BEGIN
  SELECT coalesce(max(pruned_through_seq), 0) INTO v_prev FROM audit_anchors WHERE tenant_id = p_tenant;
  IF p_through_seq <= v_prev THEN
    RETURN 0;
  END IF;
  SELECT hash INTO v_hash FROM audit_log WHERE tenant_id = p_tenant AND seq = p_through_seq;
  IF v_hash IS NULL THEN
    RAISE EXCEPTION 'audit_prune: tenant % has no record with seq %', p_tenant, p_through_seq;
  END IF;
  PERFORM set_config('massacorp.audit_prune_tenant', p_tenant::text, true);
  PERFORM set_config('massacorp.audit_prune_through', p_through_seq::text, true);
  DELETE FROM audit_log WHERE tenant_id = p_tenant AND seq <= p_through_seq;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  PERFORM set_config('massacorp.audit_prune_tenant', '', true);
  PERFORM set_config('massacorp.audit_prune_through', '', true);
  INSERT INTO audit_anchors (tenant_id, pruned_through_seq, last_hash_pruned, records_pruned, archive_ref)
    VALUES (p_tenant, p_through_seq, v_hash, v_count, p_archive);
  RETURN v_count;
END $$;
REVOKE ALL ON FUNCTION audit_prune(integer, bigint, text) FROM PUBLIC;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['audit_pii', 'audit_anchors', 'password_reset_tokens'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I TO massacorp_app USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant())', t);
  END LOOP;
END $$;

GRANT SELECT, INSERT, DELETE ON audit_pii TO massacorp_app;
-- Anchors are written only by audit_prune (as the owner); the app reads them to verify.
GRANT SELECT ON audit_anchors TO massacorp_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON password_reset_tokens TO massacorp_app;
