import { type Static, Type } from '@sinclair/typebox';
import { Email } from '../../platform/http/schemas.js';

export const TenantCreate = Type.Object(
  {
    slug: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{1,62}$' }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    admin_email: Email,
    admin_password: Type.String({ minLength: 1, maxLength: 128 }),
  },
  { additionalProperties: false },
);
export type TenantCreate = Static<typeof TenantCreate>;
