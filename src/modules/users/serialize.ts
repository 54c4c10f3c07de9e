import type { UserRow } from './tables.js';

export function fullName(u: Pick<UserRow, 'firstName' | 'lastName'>): string | null {
  const name = [u.firstName, u.lastName].filter(Boolean).join(' ');
  return name || null;
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
