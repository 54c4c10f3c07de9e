/**
 * What a client may be registered with (API.md §22): the fixed catalogues of scopes, grant types, client
 * authentication methods and ID token algorithms, and the bounds of its lists.
 */

/** The scopes the provider will answer; `roles` and `permissions` add those claims. */
export const SCOPES = ['openid', 'profile', 'email', 'offline_access', 'roles', 'permissions'] as const;
export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;
/** RS256 first: OIDC requires every provider to support it, so it is the default. */
export const ID_TOKEN_ALGS = ['RS256', 'EdDSA', 'ES256'] as const;

export type ClientType = 'confidential' | 'public';
export type GrantType = (typeof GRANT_TYPES)[number];
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** The methods that authenticate with a shared secret: only their clients have one. */
export const SECRET_METHODS: readonly AuthMethod[] = ['client_secret_basic', 'client_secret_post'];

export const MAX_REDIRECT_URIS = 20;
export const MAX_PERMISSIONS = 50;
export const MAX_JWKS_KEYS = 5;
/** The longest a rotated-out secret may keep authenticating. */
export const MAX_SECRET_OVERLAP_SECONDS = 7 * 24 * 3600;
