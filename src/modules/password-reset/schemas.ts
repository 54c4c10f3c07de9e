import { Type } from '@sinclair/typebox';
import { Email } from '../../platform/http/schemas.js';

export const RequestBody = Type.Object({ email: Email }, { additionalProperties: false });
export const ConfirmBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 200 }),
    new_password: Type.String({ minLength: 1, maxLength: 128 }),
  },
  { additionalProperties: false },
);
export const TokenParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) });
export const ValidateResponse = Type.Object({
  success: Type.Boolean(),
  message: Type.String(),
  data: Type.Object({
    valid: Type.Boolean(),
    reason: Type.Optional(
      Type.Union([
        Type.Literal('INVALID_TOKEN'),
        Type.Literal('TOKEN_EXPIRED'),
        Type.Literal('TOKEN_ALREADY_USED'),
      ]),
    ),
  }),
});
