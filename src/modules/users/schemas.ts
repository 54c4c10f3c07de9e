import { type Static, Type } from '@sinclair/typebox';
import { Email, Nullable } from '../../platform/http/schemas.js';

const Name = Type.String({ minLength: 1, maxLength: 100 });
/** E.164: a plus, a country code that does not start with 0, at most 15 digits in all. */
export const Phone = Type.String({ pattern: '^\\+[1-9][0-9]{1,14}$' });

export const UserRead = Type.Object({
  id: Type.Integer(),
  tenant_id: Type.Integer(),
  email: Type.String(),
  first_name: Nullable(Type.String()),
  last_name: Nullable(Type.String()),
  full_name: Nullable(Type.String()),
  is_active: Type.Boolean(),
  is_verified: Type.Boolean(),
  created_at: Type.String(),
  updated_at: Type.String(),
});

export const UserReadFull = Type.Composite([
  UserRead,
  Type.Object({
    is_superuser: Type.Boolean(),
    phone: Nullable(Type.String()),
    last_login_at: Nullable(Type.String()),
    password_changed_at: Nullable(Type.String()),
    has_password: Type.Boolean(),
    has_mfa: Type.Boolean(),
    roles: Type.Array(Type.String()),
  }),
]);

export const Profile = Type.Object({
  id: Type.Integer(),
  email: Type.String(),
  first_name: Nullable(Type.String()),
  last_name: Nullable(Type.String()),
  full_name: Nullable(Type.String()),
  phone: Nullable(Type.String()),
  is_verified: Type.Boolean(),
  has_mfa: Type.Boolean(),
  tenant_id: Type.Integer(),
  tenant_name: Type.String(),
  created_at: Type.String(),
  last_login_at: Nullable(Type.String()),
});

export const ProfileUpdate = Type.Object(
  {
    first_name: Type.Optional(Nullable(Name)),
    last_name: Type.Optional(Nullable(Name)),
    phone: Type.Optional(Nullable(Phone)),
  },
  { additionalProperties: false },
);

export const UserListQuery = Type.Object({
  skip: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  search: Type.Optional(Type.String({ maxLength: 200 })),
  is_active: Type.Optional(Type.Boolean()),
  /** Keyset pagination: the previous page's `next_cursor` (opaque to clients; today the last id). */
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,10}$' })),
});
export const UserList = Type.Object({
  users: Type.Array(UserRead),
  total: Type.Integer(),
  /** False when a search matched more than the count cap: `total` is then the cap, a lower bound. */
  total_is_exact: Type.Boolean(),
  /** The `cursor` of the next page; null on the last page. */
  next_cursor: Nullable(Type.String()),
});

export const UserCreate = Type.Object(
  {
    email: Email,
    password: Type.String({ minLength: 1, maxLength: 128 }),
    first_name: Type.Optional(Nullable(Name)),
    last_name: Type.Optional(Nullable(Name)),
    phone: Type.Optional(Nullable(Phone)),
    is_active: Type.Optional(Type.Boolean()),
    is_verified: Type.Optional(Type.Boolean()),
    is_superuser: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const UserUpdate = Type.Object(
  {
    first_name: Type.Optional(Nullable(Name)),
    last_name: Type.Optional(Nullable(Name)),
    phone: Type.Optional(Nullable(Phone)),
    email: Type.Optional(Email),
    is_active: Type.Optional(Type.Boolean()),
    is_verified: Type.Optional(Type.Boolean()),
    is_superuser: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export type Profile = Static<typeof Profile>;
export type ProfileUpdate = Static<typeof ProfileUpdate>;
export type UserListQuery = Static<typeof UserListQuery>;
export type UserCreate = Static<typeof UserCreate>;
export type UserUpdate = Static<typeof UserUpdate>;
