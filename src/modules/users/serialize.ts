import type { UserRow } from './tables.js';

export function fullName(u: Pick<UserRow, 'firstName' | 'lastName'>): string | null {
  const { firstName: first, lastName: last } = u;
  if (first && last) return `${first} ${last}`;
  return first || last || null;
}

/** UserRead of API.md §6. */
export function toUserRead(u: UserRow) {
  return {
    id: u.id,
    tenant_id: u.tenantId,
    email: u.email,
    first_name: u.firstName,
    last_name: u.lastName,
    full_name: fullName(u),
    is_active: u.isActive,
    is_verified: u.isVerified,
    created_at: u.createdAt.toISOString(),
    updated_at: u.updatedAt.toISOString(),
  };
}

/** A row of GET /users (docs/api.md §6): UserRead plus the list's columns. */
export function toUserListItem(u: UserRow, extra: { roles: string[]; hasMfa: boolean }) {
  return {
    ...toUserRead(u),
    roles: extra.roles,
    has_mfa: extra.hasMfa,
    last_login_at: u.lastLoginAt?.toISOString() ?? null,
  };
}

/** UserReadFull of API.md §6: a list row (roles, MFA, last sign-in) plus the rest of the row. */
export function toUserReadFull(u: UserRow, extra: { roles: string[]; hasMfa: boolean }) {
  return {
    ...toUserListItem(u, extra),
    is_superuser: u.isSuperuser,
    phone: u.phone,
    password_changed_at: u.passwordChangedAt?.toISOString() ?? null,
    has_password: u.passwordHash !== null,
  };
}

/** What an audit record may say about a user: never the password hash. */
export function auditView(u: UserRow) {
  return {
    email: u.email,
    first_name: u.firstName,
    last_name: u.lastName,
    phone: u.phone,
    is_active: u.isActive,
    is_verified: u.isVerified,
    is_superuser: u.isSuperuser,
  };
}
