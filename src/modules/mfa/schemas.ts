import { Type } from '@sinclair/typebox';
import { Nullable, Uuid } from '../../platform/http/schemas.js';

export const TotpCodeBody = Type.Object(
  { code: Type.String({ pattern: '^[0-9]{6}$' }) },
  { additionalProperties: false },
);
/** /verify accepts "123 456" too (6–9 characters, API.md §8). */
export const VerifyCodeBody = Type.Object(
  { code: Type.String({ minLength: 6, maxLength: 9 }) },
  { additionalProperties: false },
);
export const RecoveryCodeBody = Type.Object(
  { code: Type.String({ minLength: 8, maxLength: 9 }) },
  { additionalProperties: false },
);

export const SetupResponse = Type.Object({
  success: Type.Boolean(),
  message: Type.String(),
  secret: Type.String(),
  provisioning_uri: Type.String(),
  qr_code_base64: Type.String(),
});

export const EnableResponse = Type.Object({
  success: Type.Boolean(),
  message: Type.String(),
  enabled: Type.Boolean(),
  recovery_codes: Type.Array(Type.String()),
});

export const DisableResponse = Type.Object({
  success: Type.Boolean(),
  message: Type.String(),
  enabled: Type.Boolean(),
});

export const StatusResponse = Type.Object({
  success: Type.Boolean(),
  enabled: Type.Boolean(),
  configured: Type.Boolean(),
  recovery_codes_remaining: Type.Integer(),
  last_used_at: Nullable(Type.String()),
  created_at: Nullable(Type.String()),
});

export const VerifyResponse = Type.Object({
  success: Type.Boolean(),
  message: Type.String(),
  data: Type.Object({ valid: Type.Boolean() }),
});
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
export const RegistrationResponseJson = Type.Object(
  {
    ...credentialEnvelope,
    response: Type.Object(
      { clientDataJSON: B64url, attestationObject: B64url, transports: Transports },
      { additionalProperties: true },
    ),
  },
  { additionalProperties: false },
);
export const AuthenticationResponseJson = Type.Object(
  {
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
  },
  { additionalProperties: false },
);

export const RegisterVerifyBody = Type.Object(
  { response: RegistrationResponseJson, name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) },
  { additionalProperties: false },
);

/** POST /mfa/webauthn/verify: an assertion for the challenge of /mfa/webauthn/verify/options (step-up). */
export const WebauthnVerifyBody = Type.Object(
  { response: AuthenticationResponseJson },
  { additionalProperties: false },
);

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
export const CredentialList = Type.Object({ credentials: Type.Array(CredentialRead), total: Type.Integer() });

const StepToken = Type.String({ minLength: 1, maxLength: 4096 });
export const LoginMfaBody = Type.Object(
  {
    mfa_session_token: StepToken,
    totp_code: Type.Optional(Type.String({ pattern: '^[0-9]{6}$' })),
    recovery_code: Type.Optional(Type.String({ minLength: 8, maxLength: 9 })),
    webauthn_response: Type.Optional(AuthenticationResponseJson),
  },
  { additionalProperties: false },
);
export const LoginWebauthnOptionsBody = Type.Object(
  { mfa_session_token: StepToken },
  { additionalProperties: false },
);
