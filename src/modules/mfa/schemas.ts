import { Type } from '@sinclair/typebox';
import {
  Acknowledgement,
  ListOf,
  Nullable,
  StrictObject,
  SuccessEnvelope,
  Uuid,
} from '../../platform/http/schemas.js';

export const TotpCodeBody = StrictObject({ code: Type.String({ pattern: '^[0-9]{6}$' }) });
/** /verify accepts "123 456" too (6–9 characters, API.md §8). */
export const VerifyCodeBody = StrictObject({ code: Type.String({ minLength: 6, maxLength: 9 }) });
export const RecoveryCodeBody = StrictObject({ code: Type.String({ minLength: 8, maxLength: 9 }) });

export const SetupResponse = Type.Object({
  ...Acknowledgement,
  secret: Type.String(),
  provisioning_uri: Type.String(),
  qr_code_base64: Type.String(),
});

export const EnableResponse = Type.Object({
  ...Acknowledgement,
  enabled: Type.Boolean(),
  recovery_codes: Type.Array(Type.String()),
});

export const DisableResponse = Type.Object({ ...Acknowledgement, enabled: Type.Boolean() });

export const StatusResponse = Type.Object({
  success: Type.Boolean(),
  enabled: Type.Boolean(),
  configured: Type.Boolean(),
  recovery_codes_remaining: Type.Integer(),
  last_used_at: Nullable(Type.String()),
  created_at: Nullable(Type.String()),
});

export const VerifyResponse = SuccessEnvelope(Type.Object({ valid: Type.Boolean() }));
export const RecoveryVerifyResponse = Type.Object({
  success: Type.Boolean(),
  valid: Type.Boolean(),
  recovery_codes_remaining: Type.Integer(),
});
export const RegenerateResponse = Type.Object({
  success: Type.Boolean(),
  recovery_codes: Type.Array(Type.String()),
});

// WebAuthn JSON as @simplewebauthn/browser sends it. The outer shape is strict; the inner `response` may carry
// fields newer browsers add, which the verifier ignores.
const B64url = Type.String({ minLength: 1, maxLength: 16_384, pattern: '^[A-Za-z0-9_-]+={0,2}$' });
const Transports = Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 10 }));
const credentialEnvelope = {
  id: B64url,
  rawId: B64url,
  type: Type.Literal('public-key'),
  authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
  clientExtensionResults: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
};
export const RegistrationResponseJson = StrictObject({
  ...credentialEnvelope,
  response: Type.Object(
    { clientDataJSON: B64url, attestationObject: B64url, transports: Transports },
    { additionalProperties: true },
  ),
});
export const AuthenticationResponseJson = StrictObject({
  ...credentialEnvelope,
  response: Type.Object(
    {
      clientDataJSON: B64url,
      authenticatorData: B64url,
      signature: B64url,
      userHandle: Type.Optional(Type.String({ maxLength: 1024 })),
    },
    { additionalProperties: true },
  ),
});

export const RegisterVerifyBody = StrictObject({
  response: RegistrationResponseJson,
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
});

/** POST /mfa/webauthn/verify: an assertion for the challenge of /mfa/webauthn/verify/options (step-up). */
export const WebauthnVerifyBody = StrictObject({ response: AuthenticationResponseJson });

/** The options objects of @simplewebauthn/server, passed through to navigator.credentials. */
export const WebauthnOptions = Type.Object({ challenge: Type.String() }, { additionalProperties: true });

export const CredentialRead = Type.Object({
  id: Uuid,
  name: Type.String(),
  credential_id: Type.String(),
  transports: Type.Array(Type.String()),
  device_type: Nullable(Type.String()),
  backed_up: Type.Boolean(),
  created_at: Type.String(),
  last_used_at: Nullable(Type.String()),
});
export const CredentialList = ListOf('credentials', CredentialRead);

const StepToken = Type.String({ minLength: 1, maxLength: 4096 });
export const LoginMfaBody = StrictObject({
  mfa_session_token: StepToken,
  totp_code: Type.Optional(Type.String({ pattern: '^[0-9]{6}$' })),
  recovery_code: Type.Optional(Type.String({ minLength: 8, maxLength: 9 })),
  webauthn_response: Type.Optional(AuthenticationResponseJson),
});
export const LoginWebauthnOptionsBody = StrictObject({ mfa_session_token: StepToken });
