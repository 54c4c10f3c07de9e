-- OpenID Provider (issue 21): back-channel logout (OpenID Connect Back-Channel Logout 1.0). A client may register
-- the URL where the provider POSTs a signed logout token when the user signs out, so an application that keeps its
-- own session ends it without the browser. https (http only to loopback, like redirect URIs); the provider
-- reaches it through the SSRF guard.
ALTER TABLE oidc_clients
  ADD COLUMN backchannel_logout_uri text CHECK (backchannel_logout_uri IS NULL OR length(backchannel_logout_uri) <= 2048);
