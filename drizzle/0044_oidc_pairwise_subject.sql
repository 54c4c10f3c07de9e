-- OpenID Provider (issue 21): pairwise subject identifiers per client (OpenID Connect Core §8.1). A client with
-- subject_type 'pairwise' sees each user under an identifier of its own, so two applications of the tenant cannot
-- correlate their users by `sub`; 'public' (the default) is the user's id in the tenant.
ALTER TABLE oidc_clients
  ADD COLUMN subject_type text NOT NULL DEFAULT 'public' CHECK (subject_type IN ('public', 'pairwise'));
