import { Type } from '@sinclair/typebox';
import { Email, Nullable, PasswordInput, StrictObject, Uuid } from '../../platform/http/schemas.js';

export const LoginBody = StrictObject({
  email: Email,
  password: PasswordInput,
  mfa_code: Type.Optional(Type.String({ minLength: 6, maxLength: 9 })),
  captcha_token: Type.Optional(Type.String({ maxLength: 4096 })),
});

export const LoginResponse = Type.Object({
  success: Type.Boolean(),
  access_token: Nullable(Type.String()),
  refresh_token: Nullable(Type.String()),
  token_type: Type.Literal('bearer'),
  expires_in: Nullable(Type.Integer()),
  mfa_required: Type.Boolean(),
  mfa_session_token: Nullable(Type.String()),
  captcha_required: Type.Boolean(),
  captcha_site_key: Nullable(Type.String()),
  message: Type.String(),
});

export const TokenResponse = Type.Object({
  access_token: Type.String(),
  refresh_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_in: Type.Integer(),
});

export const RefreshBody = StrictObject({ refresh_token: Type.String({ minLength: 1, maxLength: 512 }) });

export const LogoutBody = StrictObject({
  refresh_token: Type.Optional(Type.String({ maxLength: 512 })),
  session_id: Type.Optional(Uuid),
  all_sessions: Type.Optional(Type.Boolean()),
});

export const MeResponse = Type.Object({
  authenticated: Type.Boolean(),
  user_id: Type.Integer(),
  tenant_id: Type.Integer(),
  email: Type.String(),
  mfa_required: Type.Boolean(),
  mfa_enabled: Type.Boolean(),
});

export const ChangePasswordBody = StrictObject({
  current_password: PasswordInput,
  new_password: PasswordInput,
});

export const RegisterBody = StrictObject({
  email: Email,
  password: Type.String({ minLength: 12, maxLength: 128 }),
  first_name: Type.String({ minLength: 2, maxLength: 100 }),
  last_name: Type.String({ minLength: 2, maxLength: 100 }),
});

/** Registration answers with the users module's UserRead. */
export { UserRead } from '../users/index.js';
