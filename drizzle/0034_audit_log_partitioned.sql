-- Issue 25: audit_log partitioned by month (declarative range partitioning on created_at), so that retention
-- drops whole months instead of deleting millions of rows one by one.
--
-- * Monthly partitions audit_log_pYYYYMM, [first of the month, first of the next), made ahead of time by
--   audit_log_ensure_partitions() (here for every month that holds records and the next three; at every app start
--   and once a day after that). A DEFAULT partition catches a record whose month has no partition yet (a server
--   that ran months without starting, a clock far off): nothing is ever refused for want of a partition. A month
--   whose records already sit in the default partition gets no partition of its own (PostgreSQL would refuse to
--   create it); it stays in the default, which retention then handles by deletes as before.
-- * Unique keys must contain the partition key: the primary key is (id, created_at), and (tenant_id, seq) is an
--   index, no longer a unique constraint. Its uniqueness never rested on the constraint: each record's seq is its
--   tenant's audit_chain_heads.last_seq + 1, taken under that row's lock in the writer's transaction, and a
--   duplicated or missing seq breaks the hash chain, which verification reports.
-- * Row-level security, the append-only triggers and the app's privileges (SELECT, INSERT) are on the parent,
--   which is the only way the app reaches the records; every partition also has RLS forced with the same policy,
--   and the app holds no privilege on any partition.
-- * Retention (platform/audit/retention.ts): audit_anchor() records each tenant's pruned prefix (archive written
--   first) without deleting; audit_drop_pruned_partitions() then drops every monthly partition whose records are
--   all inside their tenant's pruned prefix; audit_delete_pruned() deletes what is left of a prefix (records of a
--   month that another tenant still keeps). With one retention for all tenants, retention deletes nothing.

LOCK TABLE audit_log IN ACCESS EXCLUSIVE MODE;
ALTER TABLE audit_log RENAME TO audit_log_unpartitioned;
ALTER SEQUENCE IF EXISTS audit_log_id_seq RENAME TO audit_log_unpartitioned_id_seq;
DROP INDEX IF EXISTS audit_log_tenant_created_idx;
DROP INDEX IF EXISTS audit_log_tenant_event_idx;
DROP INDEX IF EXISTS audit_log_tenant_actor_idx;
DROP INDEX IF EXISTS audit_log_tenant_resource_idx;
DROP INDEX IF EXISTS audit_log_tenant_time_idx;
ALTER TABLE audit_log_unpartitioned DROP CONSTRAINT IF EXISTS audit_log_pkey;
ALTER TABLE audit_log_unpartitioned DROP CONSTRAINT IF EXISTS audit_log_tenant_id_seq_key;
ALTER TABLE audit_log_unpartitioned DROP CONSTRAINT IF EXISTS audit_log_actor_type_check;

CREATE TABLE audit_log (
  id            bigint GENERATED ALWAYS AS IDENTITY,
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
  PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);

CREATE INDEX audit_log_tenant_seq_idx ON audit_log (tenant_id, seq);
CREATE INDEX audit_log_tenant_created_idx ON audit_log (tenant_id, id DESC);
CREATE INDEX audit_log_tenant_event_idx ON audit_log (tenant_id, event_type, id DESC);
CREATE INDEX audit_log_tenant_actor_idx ON audit_log (tenant_id, actor_id, id DESC);
CREATE INDEX audit_log_tenant_resource_idx ON audit_log (tenant_id, resource_type, resource_id, id DESC);
CREATE INDEX audit_log_tenant_time_idx ON audit_log (tenant_id, created_at, id);

CREATE TABLE audit_log_default PARTITION OF audit_log DEFAULT;

-- One month's partition, with the parent's row-level security repeated on it (nobody but the owner reaches a
-- partition directly; this keeps "every tenant table forces RLS" true of each of them). SECURITY DEFINER: the app
-- calls audit_log_ensure_partitions() at start, as its own role.
CREATE OR REPLACE FUNCTION audit_log_secure_partition(p_name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', p_name);
  EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', p_name);
  IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = p_name::regclass AND polname = 'tenant_isolation') THEN
    EXECUTE format('CREATE POLICY tenant_isolation ON %I TO massacorp_app USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant())', p_name);
  END IF;
END $$;
REVOKE ALL ON FUNCTION audit_log_secure_partition(text) FROM PUBLIC;

-- Makes the monthly partitions from p_from's month through p_until's month that do not exist yet, skipping a month
-- whose records are already in the default partition. Returns how many it made.
CREATE OR REPLACE FUNCTION audit_log_ensure_partitions(p_from timestamptz, p_until timestamptz) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_month timestamptz := date_trunc('month', p_from AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  v_next  timestamptz;
  v_name  text;
  v_made  integer := 0;
BEGIN
  -- Two replicas starting together: one makes the partitions, the other waits and finds them.
  PERFORM pg_advisory_xact_lock(hashtext('audit_log_ensure_partitions'));
  WHILE v_month <= p_until LOOP
    v_next := (v_month AT TIME ZONE 'UTC' + interval '1 month') AT TIME ZONE 'UTC';
    v_name := 'audit_log_p' || to_char(v_month AT TIME ZONE 'UTC', 'YYYYMM');
    IF to_regclass(v_name) IS NULL
       AND NOT EXISTS (SELECT 1 FROM audit_log_default WHERE created_at >= v_month AND created_at < v_next) THEN
      EXECUTE format('CREATE TABLE %I PARTITION OF audit_log FOR VALUES FROM (%L) TO (%L)', v_name, v_month, v_next);
      PERFORM audit_log_secure_partition(v_name);
      v_made := v_made + 1;
    END IF;
    v_month := v_next;
  END LOOP;
  RETURN v_made;
END $$;
REVOKE ALL ON FUNCTION audit_log_ensure_partitions(timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_log_ensure_partitions(timestamptz, timestamptz) TO massacorp_app;

SELECT audit_log_secure_partition('audit_log_default');
SELECT audit_log_ensure_partitions(
  coalesce((SELECT min(created_at) FROM audit_log_unpartitioned), now()),
  now() + interval '3 months');

INSERT INTO audit_log OVERRIDING SYSTEM VALUE SELECT * FROM audit_log_unpartitioned;
SELECT setval('audit_log_id_seq',
              greatest(coalesce((SELECT max(id) FROM audit_log_unpartitioned), 0), 1),
              (SELECT max(id) FROM audit_log_unpartitioned) IS NOT NULL);
DROP TABLE audit_log_unpartitioned;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_immutable();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_immutable();

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_log TO massacorp_app
  USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
GRANT SELECT, INSERT ON audit_log TO massacorp_app;
GRANT USAGE, SELECT ON SEQUENCE audit_log_id_seq TO massacorp_app;

-- Retention, in three steps (see the top). The anchor's hash is read here, never passed in.
CREATE OR REPLACE FUNCTION audit_anchor(p_tenant integer, p_through_seq bigint, p_archive text)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_hash  text;
  v_prev  bigint;
  v_count bigint;
BEGIN
  SELECT coalesce(max(pruned_through_seq), 0) INTO v_prev FROM audit_anchors WHERE tenant_id = p_tenant;
  IF p_through_seq <= v_prev THEN
    RETURN false;
  END IF;
  SELECT hash INTO v_hash FROM audit_log WHERE tenant_id = p_tenant AND seq = p_through_seq;
  IF v_hash IS NULL THEN
    RAISE EXCEPTION 'audit_anchor: tenant % has no record with seq %', p_tenant, p_through_seq;
  END IF;
  SELECT count(*) INTO v_count FROM audit_log WHERE tenant_id = p_tenant AND seq > v_prev AND seq <= p_through_seq;
  INSERT INTO audit_anchors (tenant_id, pruned_through_seq, last_hash_pruned, records_pruned, archive_ref)
    VALUES (p_tenant, p_through_seq, v_hash, v_count, p_archive);
  RETURN true;
END $$;
REVOKE ALL ON FUNCTION audit_anchor(integer, bigint, text) FROM PUBLIC;

-- Drops each monthly partition that ends at or before p_before and all of whose records lie in their tenant's pruned
-- prefix (an empty past month included). The default partition and months after p_before are never dropped.
-- Returns the names dropped.
CREATE OR REPLACE FUNCTION audit_drop_pruned_partitions(p_before timestamptz) RETURNS text[]
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_name    text;
  v_end     timestamptz;
  v_kept    boolean;
  v_dropped text[] := '{}';
BEGIN
  FOR v_name IN
    SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'audit_log'::regclass AND c.relname ~ '^audit_log_p[0-9]{6}$'
     ORDER BY c.relname
  LOOP
    -- Partitions are made by audit_log_ensure_partitions only, named by their month.
    v_end := (to_timestamp(substr(v_name, 12), 'YYYYMM') AT TIME ZONE 'UTC' + interval '1 month') AT TIME ZONE 'UTC';
    CONTINUE WHEN v_end > p_before;
    -- Per tenant, the partition's highest seq against that tenant's anchor (an index-only read per partition).
    EXECUTE format(
      'SELECT EXISTS (SELECT 1 FROM (SELECT tenant_id, max(seq) AS top FROM %I GROUP BY tenant_id) p
          WHERE p.top > coalesce((SELECT max(a.pruned_through_seq) FROM audit_anchors a WHERE a.tenant_id = p.tenant_id), 0))',
      v_name) INTO v_kept;
    IF NOT v_kept THEN
      EXECUTE format('ALTER TABLE audit_log DETACH PARTITION %I', v_name);
      EXECUTE format('DROP TABLE %I', v_name);
      v_dropped := v_dropped || v_name;
    END IF;
  END LOOP;
  RETURN v_dropped;
END $$;
REVOKE ALL ON FUNCTION audit_drop_pruned_partitions(timestamptz) FROM PUBLIC;

-- Deletes what remains of a tenant's pruned prefix (records in months another tenant keeps, or in the default
-- partition), through the append-only trigger's one exception. Returns how many.
CREATE OR REPLACE FUNCTION audit_delete_pruned(p_tenant integer) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_through bigint;
  v_count   bigint;
BEGIN
  SELECT coalesce(max(pruned_through_seq), 0) INTO v_through FROM audit_anchors WHERE tenant_id = p_tenant;
  IF v_through = 0 THEN
    RETURN 0;
  END IF;
  PERFORM set_config('massacorp.audit_prune_tenant', p_tenant::text, true);
  PERFORM set_config('massacorp.audit_prune_through', v_through::text, true);
  DELETE FROM audit_log WHERE tenant_id = p_tenant AND seq <= v_through;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  PERFORM set_config('massacorp.audit_prune_tenant', '', true);
  PERFORM set_config('massacorp.audit_prune_through', '', true);
  RETURN v_count;
END $$;
REVOKE ALL ON FUNCTION audit_delete_pruned(integer) FROM PUBLIC;

-- audit_prune (0006) keeps working for one tenant alone: anchor, then delete.
CREATE OR REPLACE FUNCTION audit_prune(p_tenant integer, p_through_seq bigint, p_archive text)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF NOT audit_anchor(p_tenant, p_through_seq, p_archive) THEN
    RETURN 0;
  END IF;
  RETURN audit_delete_pruned(p_tenant);
END $$;
REVOKE ALL ON FUNCTION audit_prune(integer, bigint, text) FROM PUBLIC;
