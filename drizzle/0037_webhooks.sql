-- Webhooks and audit streams (issue 22): endpoints per tenant, and their deliveries.
--
-- The audit log is the outbox. Every state change and auth event already writes its audit record in the same
-- transaction as the change (platform/audit/writer.ts), so an event exists exactly when its change committed: a
-- rolled-back change has no record, hence no event. Each endpoint keeps `cursor_seq`, the audit seq of its
-- tenant up to which its deliveries exist; the worker (modules/webhooks/worker.ts) reads the records after it,
-- inserts one delivery per matching event and moves the cursor in one transaction, with the endpoint's row
-- locked (FOR UPDATE SKIP LOCKED: one replica fans out an endpoint at a time, no event made twice). Records of a
-- tenant commit in seq order (the chain head's row lock serialises writers), so the cursor never skips one.
CREATE TABLE webhook_endpoints (
  id                         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id                  integer NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  url                        text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
  description                text CHECK (description IS NULL OR length(description) <= 500),
  events                     text[] NOT NULL,
  enabled                    boolean NOT NULL DEFAULT true,
  -- The signing secret (whsec_…) sealed with ENCRYPTION_KEY: HMAC needs it in clear at send time.
  secret_sealed              text NOT NULL,
  -- During a rotation the previous secret signs too (two v1 signatures), until previous_secret_expires_at.
  previous_secret_sealed     text,
  previous_secret_expires_at timestamptz,
  cursor_seq                 bigint NOT NULL DEFAULT 0,
  -- The first failed attempt of the current run of failures (null once a delivery succeeds).
  failing_since              timestamptz,
  disabled_reason            text,
  created_by_user_id         integer,
  created_at                 timestamptz NOT NULL DEFAULT now(),
  updated_at                 timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id)
);
CREATE INDEX webhook_endpoints_tenant_idx ON webhook_endpoints (tenant_id, created_at);

CREATE TABLE webhook_deliveries (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id       integer NOT NULL,
  endpoint_id     uuid NOT NULL,
  -- webhook-id: the same for every attempt and every replay of one event, so receivers de-duplicate on it.
  event_id        text NOT NULL,
  event_type      text NOT NULL,
  -- The exact bytes that are signed and sent.
  payload         text NOT NULL,
  content_type    text NOT NULL DEFAULT 'application/json',
  -- The audit records the delivery carries (one, or a batch of audit.record).
  first_seq       bigint,
  last_seq        bigint,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- A worker's claim: another replica takes the delivery over once it has passed (the worker died mid-send).
  lease_until     timestamptz,
  last_status     integer,
  last_error      text,
  last_latency_ms integer,
  last_response   text,
  replay_of       uuid,
  created_at      timestamptz NOT NULL DEFAULT now(),
  delivered_at    timestamptz,
  FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id) ON DELETE CASCADE
);
-- The workers' claim: due pending deliveries, oldest first.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
-- The delivery log of an endpoint, newest first (cursor on created_at, id).
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (tenant_id, endpoint_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (tenant_id, endpoint_id, event_id);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['webhook_endpoints', 'webhook_deliveries'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I TO massacorp_app USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant())', t);
  END LOOP;
END $$;
GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_endpoints, webhook_deliveries TO massacorp_app;
