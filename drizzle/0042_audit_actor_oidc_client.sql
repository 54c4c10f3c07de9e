-- Machine tokens (docs/oidc-provider.md, "Machine tokens"): a token the tenant's OpenID Provider issued to a
-- client (client_credentials) acts on /api/v1 like a tenant-owned API key, and the audit trail names the client
-- as the actor: actor_type 'oidc_client', actor_id the client's registry id (uuid). On the partitioned table the
-- constraint is dropped and added on the parent, which carries it to every partition.
ALTER TABLE audit_log DROP CONSTRAINT IF EXISTS audit_log_actor_type_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_actor_type_check
  CHECK (actor_type IN ('user', 'api_key', 'oidc_client', 'system'));
