import { type Static, Type } from '@sinclair/typebox';
import { Email, PasswordInput, StrictObject } from '../../platform/http/schemas.js';

export const TenantCreate = StrictObject({
  slug: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{1,62}$' }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  admin_email: Email,
  admin_password: PasswordInput,
});
export type TenantCreate = Static<typeof TenantCreate>;
