import { and, eq } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { users, type UserRow } from './tables.js';

export async function findUserByEmail(tx: Executor, tenantId: number, email: string): Promise<UserRow | null> {
  const rows = await tx
    .select()
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.email, email)))
    .limit(1);
  return rows[0] ?? null;
}

export async function findUserById(tx: Executor, tenantId: number, id: number): Promise<UserRow | null> {
  const rows = await tx
    .select()
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.id, id)))
    .limit(1);
  return rows[0] ?? null;
}

export interface NewUser {
  email: string;
  passwordHash: string | null;
  firstName?: string | null;
  lastName?: string | null;
  phone?: string | null;
  isActive?: boolean;
  isVerified?: boolean;
  isSuperuser?: boolean;
}

export async function insertUser(tx: Executor, tenantId: number, u: NewUser): Promise<UserRow> {
  const rows = await tx
    .insert(users)
    .values({
      tenantId,
      email: u.email,
      passwordHash: u.passwordHash,
      firstName: u.firstName ?? null,
      lastName: u.lastName ?? null,
      phone: u.phone ?? null,
      isActive: u.isActive ?? true,
      isVerified: u.isVerified ?? false,
      isSuperuser: u.isSuperuser ?? false,
      passwordChangedAt: u.passwordHash ? new Date() : null,
    })
    .returning();
  return rows[0]!;
}

export async function updateUserPassword(tx: Executor, tenantId: number, id: number, passwordHash: string): Promise<void> {
  const now = new Date();
  await tx
    .update(users)
    .set({ passwordHash, passwordChangedAt: now, updatedAt: now })
    .where(and(eq(users.tenantId, tenantId), eq(users.id, id)));
}

export async function touchLastLogin(tx: Executor, tenantId: number, id: number, rehashed: string | null): Promise<void> {
  const now = new Date();
  await tx
    .update(users)
    .set(rehashed ? { lastLoginAt: now, passwordHash: rehashed } : { lastLoginAt: now })
    .where(and(eq(users.tenantId, tenantId), eq(users.id, id)));
}
