-- WireGuard: the server identity per interface and the peers of every tenant (API.md §15).
-- Runs on PostgreSQL 15 through 18 (CI's server and PGlite).

-- One row per gateway interface. Global infrastructure, not tenant data: only system transactions (the agent,
-- the CLI, GET /server through withSystem) read it, so the app role gets no privilege on it at all.
CREATE TABLE wg_server (
  interface          text PRIMARY KEY CHECK (interface ~ '^[A-Za-z0-9_=+.-]{1,15}$'),
  public_key         text NOT NULL UNIQUE,
  private_key_sealed text NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE wg_peers (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id            integer NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name                 text NOT NULL,
  description          text,
  peer_type            text NOT NULL DEFAULT 'client' CHECK (peer_type IN ('client', 'service', 'gateway')),
  user_id              integer REFERENCES users(id) ON DELETE SET NULL,
  public_key           text NOT NULL,
  preshared_key_sealed text,
  assigned_ip          inet NOT NULL,
  persistent_keepalive integer CHECK (persistent_keepalive BETWEEN 0 AND 65535),
  enabled              boolean NOT NULL DEFAULT true,
  server_generated     boolean NOT NULL DEFAULT false,
  expires_at           timestamptz,
  revoked_at           timestamptz,
  last_handshake_at    timestamptz,
  rx_bytes             bigint NOT NULL DEFAULT 0,
  tx_bytes             bigint NOT NULL DEFAULT 0,
  last_endpoint        text,
  created_by_user_id   integer,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT wg_peers_tenant_name_key UNIQUE (tenant_id, name)
);
-- Global on purpose: one interface, one key space, one address pool shared by every tenant.
CREATE UNIQUE INDEX wg_peers_public_key_key ON wg_peers (public_key);
CREATE UNIQUE INDEX wg_peers_assigned_ip_key ON wg_peers (assigned_ip);
CREATE INDEX wg_peers_tenant_created_idx ON wg_peers (tenant_id, created_at DESC);
CREATE INDEX wg_peers_tenant_user_idx ON wg_peers (tenant_id, user_id) WHERE user_id IS NOT NULL;

ALTER TABLE wg_peers ENABLE ROW LEVEL SECURITY;
ALTER TABLE wg_peers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON wg_peers TO massacorp_app
  USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON wg_peers TO massacorp_app;

-- The address pool spans tenants, but RLS hides other tenants' rows from the app role. This function (owned by
-- the migration role, which bypasses RLS like withSystem does) answers only "the lowest free host offset in
-- [first, last] of this network", never whose addresses they are. Callers serialise on an advisory lock per
-- network, and the unique index on assigned_ip stays the last word.
CREATE OR REPLACE FUNCTION wg_lowest_free_offset(net cidr, first_offset bigint, last_offset bigint)
  RETURNS bigint LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH used AS (
    SELECT (p.assigned_ip - network(net)::inet) AS o FROM wg_peers p WHERE p.assigned_ip << net
  ), candidates AS (
    SELECT first_offset AS o
    UNION ALL
    SELECT u.o + 1 FROM used u
  )
  SELECT min(c.o) FROM candidates c
  WHERE c.o BETWEEN first_offset AND last_offset
    AND NOT EXISTS (SELECT 1 FROM used u WHERE u.o = c.o)
$$;
REVOKE ALL ON FUNCTION wg_lowest_free_offset(cidr, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION wg_lowest_free_offset(cidr, bigint, bigint) TO massacorp_app;

-- Peers the agent itself put on an interface: it never removes a peer it did not create (unless told to).
CREATE TABLE wg_agent_peers (
  interface  text NOT NULL,
  public_key text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (interface, public_key)
);

-- Wakes the agent (LISTEN massacorp_wg) when a change that matters to the interface commits. Statistics updates
-- (handshake, bytes) do not touch these columns, so the agent's own writes do not wake it again.
CREATE OR REPLACE FUNCTION wg_peers_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('massacorp_wg', TG_OP);
  RETURN NULL;
END $$;
CREATE TRIGGER wg_peers_changed
  AFTER INSERT OR DELETE OR UPDATE OF public_key, preshared_key_sealed, assigned_ip, persistent_keepalive, enabled, expires_at, revoked_at
  ON wg_peers FOR EACH STATEMENT EXECUTE FUNCTION wg_peers_notify();
