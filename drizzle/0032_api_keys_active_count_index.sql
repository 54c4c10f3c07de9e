-- Issue 25: GET /api-keys answers the tenant's `total` and `active_count` beside its page. That count read the
-- api_keys table sequentially, every tenant's keys (tests/integration/scale.tables.test.ts: 20,000 keys beside
-- another tenant's 60,000). Over this partial index it reads only the tenant's unrevoked keys.
CREATE INDEX IF NOT EXISTS api_keys_tenant_active_idx ON api_keys (tenant_id, expires_at) WHERE revoked_at IS NULL;
