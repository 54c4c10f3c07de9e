/** Social login bodies and answers (API.md §9; the fields beyond §9 are in docs/api-decisions.md). */
import { Type } from '@sinclair/typebox';
import { DateTime, Email, ListOf, Nullable, StrictObject, Uuid } from '../../../platform/http/schemas.js';

export const ProviderName = Type.Union([
  Type.Literal('google'),
  Type.Literal('github'),
  Type.Literal('microsoft'),
  Type.Literal('oidc'),
]);

export const ProviderParams = Type.Object({ provider: ProviderName });

/** `mode=link`: a signed-in caller (bearer access token) links the provider's identity to their account (§17). */
export const SocialAuthorizeQuery = Type.Object({
  mode: Type.Optional(Type.Union([Type.Literal('signin'), Type.Literal('link')])),
});

export const ProvidersResponse = Type.Object({
  providers: Type.Array(
    Type.Object({ provider: ProviderName, name: Type.String(), enabled: Type.Boolean() }),
  ),
});

export const SocialAuthorizeResponse = Type.Object({ auth_url: Type.String(), state: Type.String() });

export const CallbackQuery = Type.Object({
  code: Type.Optional(Type.String({ maxLength: 2048 })),
  state: Type.Optional(Type.String({ maxLength: 512 })),
  error: Type.Optional(Type.String({ maxLength: 256 })),
  error_description: Type.Optional(Type.String({ maxLength: 1024 })),
});

/**
 * The callback's (and complete-registration's) answer. Every key is always present (null/false when unused).
 * `success`: the provider's answer was valid; then exactly one of: tokens; `requires_registration` with
 * `oauth_session_token`; `mfa_required` with `mfa_session_token` (finish at POST /auth/login/mfa);
 * `email_verification_required` with `oauth_session_token` (complete-registration only, 202).
 */
export const OAuthCallbackResponse = Type.Object({
  success: Type.Boolean(),
  access_token: Nullable(Type.String()),
  refresh_token: Nullable(Type.String()),
  token_type: Nullable(Type.Literal('bearer')),
  expires_in: Nullable(Type.Integer()),
  requires_registration: Type.Boolean(),
  oauth_session_token: Nullable(Type.String()),
  provider: ProviderName,
  email: Nullable(Type.String()),
  name: Nullable(Type.String()),
  mfa_required: Type.Boolean(),
  mfa_session_token: Nullable(Type.String()),
  /** Present (true) only at the end of a link-mode flow: the identity was linked to the caller, no tokens. */
  linked: Type.Optional(Type.Boolean()),
  /**
   * complete-registration with an address the provider did not verify (202): nothing is created yet; a link was
   * mailed to `email`; finish with the same oauth_session_token and the mailed verification_token.
   */
  email_verification_required: Type.Boolean(),
});

export const CompleteRegistrationBody = StrictObject({
  oauth_session_token: Type.String({ minLength: 1, maxLength: 512 }),
  /** Only when the provider gave no verified address (else it must be absent or the same). */
  email: Type.Optional(Email),
  first_name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  last_name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  /**
   * The second call after a 202: the token of the mailed link (then nothing else but oauth_session_token).
   * Creates the account, verified, with the identity linked.
   */
  verification_token: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
});

export const LinkedAccount = Type.Object({
  id: Uuid,
  provider: ProviderName,
  name: Type.String(),
  email: Nullable(Type.String()),
  created_at: DateTime,
  last_login_at: Nullable(DateTime),
});

export const AccountsResponse = ListOf('accounts', LinkedAccount, { has_password: Type.Boolean() });

export const UnlinkBody = StrictObject({ provider: ProviderName });
