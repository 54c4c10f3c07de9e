-- The delivery log's retention (WEBHOOK_DELIVERY_RETENTION_DAYS): the workers delete finished deliveries (they
-- hold payloads, that is personal data) older than the bound, oldest first, in batches. This index serves that
-- scan across tenants without reading the pending ones or walking every tenant's log.
CREATE INDEX webhook_deliveries_finished_idx ON webhook_deliveries (created_at) WHERE status <> 'pending';
