import { Type } from '@sinclair/typebox';
import { Email, PasswordInput, StrictObject, SuccessEnvelope } from '../../platform/http/schemas.js';

export const RequestBody = StrictObject({ email: Email });
const ResetToken = Type.String({ minLength: 1, maxLength: 200 });
export const ConfirmBody = StrictObject({ token: ResetToken, new_password: PasswordInput });
export const TokenParams = Type.Object({ token: ResetToken });
export const ValidateResponse = SuccessEnvelope(
  Type.Object({
    valid: Type.Boolean(),
    reason: Type.Optional(
      Type.Union([
        Type.Literal('INVALID_TOKEN'),
        Type.Literal('TOKEN_EXPIRED'),
        Type.Literal('TOKEN_ALREADY_USED'),
      ]),
    ),
  }),
);
