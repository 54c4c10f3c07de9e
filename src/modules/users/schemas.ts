import { type Static, Type } from '@sinclair/typebox';
import { BulkIds } from '../../platform/http/bulk.js';
import {
  Email,
  ListOf,
  Nullable,
  offsetPaging,
  PasswordInput,
  StrictObject,
  Timestamps,
} from '../../platform/http/schemas.js';

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
  ...Timestamps,
});

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

/** What a user may change on their own profile (an admin too, on any account). */
const PersonalFields = {
  first_name: Type.Optional(Nullable(Name)),
  last_name: Type.Optional(Nullable(Name)),
  phone: Type.Optional(Nullable(Phone)),
};

export const ProfileUpdate = StrictObject(PersonalFields);

/** The orders GET /users offers; each has an index that leads with the tenant (drizzle/0038). */
export const USER_SORTS = [
  'email',
  '-email',
  'created_at',
  '-created_at',
  'last_login_at',
  '-last_login_at',
] as const;
export type UserSort = (typeof USER_SORTS)[number];

/**
 * A row of GET /users: UserRead plus what the console's list shows (issue 20), read in the page's own statement.
 */
export const UserListItem = Type.Composite([
  UserRead,
  Type.Object({
    /** Active role codes (unexpired assignments), sorted. */
    roles: Type.Array(Type.String()),
    has_mfa: Type.Boolean(),
    last_login_at: Nullable(Type.String()),
  }),
]);

/** GET /users/{id}: a list row plus the rest of the row. */
export const UserReadFull = Type.Composite([
  UserListItem,
  Type.Object({
    is_superuser: Type.Boolean(),
    phone: Nullable(Type.String()),
    password_changed_at: Nullable(Type.String()),
    has_password: Type.Boolean(),
  }),
]);

export const UserListQuery = Type.Object({
  ...offsetPaging(),
  search: Type.Optional(Type.String({ maxLength: 200 })),
  is_active: Type.Optional(Type.Boolean()),
  /** Keyset pagination: the previous page's `next_cursor` (opaque to clients; today the last id). */
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,10}$' })),
  /** The order (default: by id). A leading `-` reverses it. With a sort, page with `skip` (no `cursor`). */
  sort: Type.Optional(Type.Union(USER_SORTS.map((s) => Type.Literal(s)))),
});
export const UserList = ListOf('users', UserListItem, {
  /** False when a search matched more than the count cap: `total` is then the cap, a lower bound. */
  total_is_exact: Type.Boolean(),
  /** The `cursor` of the next page; null on the last page. */
  next_cursor: Nullable(Type.String()),
});

export const BulkDeactivateBody = StrictObject({ user_ids: BulkIds });

/** What only an admin sets on an account (a user's own profile update cannot). */
const AccountFlags = {
  is_active: Type.Optional(Type.Boolean()),
  is_verified: Type.Optional(Type.Boolean()),
  is_superuser: Type.Optional(Type.Boolean()),
};

export const UserCreate = StrictObject({
  email: Email,
  password: PasswordInput,
  ...PersonalFields,
  ...AccountFlags,
});

export const UserUpdate = StrictObject({ ...PersonalFields, email: Type.Optional(Email), ...AccountFlags });

export type Profile = Static<typeof Profile>;
export type ProfileUpdate = Static<typeof ProfileUpdate>;
export type UserListQuery = Static<typeof UserListQuery>;
export type BulkDeactivateBody = Static<typeof BulkDeactivateBody>;
export type UserCreate = Static<typeof UserCreate>;
export type UserUpdate = Static<typeof UserUpdate>;
