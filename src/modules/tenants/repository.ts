import { asc, eq, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { firstOrNull, one } from '../../platform/db/rows.js';
import type { StoredTenantSettings } from './settings.js';
import { type TenantRow, tenants } from './tables.js';

const tenantColumns = {
  id: tenants.id,
  slug: tenants.slug,
  name: tenants.name,
  status: tenants.status,
  isPlatform: tenants.isPlatform,
  settings: tenants.settings,
  createdAt: tenants.createdAt,
  updatedAt: tenants.updatedAt,
  suspendedAt: tenants.suspendedAt,
};

export async function findTenantById(tx: Executor, id: number): Promise<TenantRow | null> {
  return one(tx.select(tenantColumns).from(tenants).where(eq(tenants.id, id)));
}

/** Cross-tenant by nature (who is this slug?): call inside withSystem only. */
export async function findTenantBySlug(tx: Executor, slug: string): Promise<TenantRow | null> {
  return one(tx.select(tenantColumns).from(tenants).where(eq(tenants.slug, slug)));
}

export async function insertTenant(
  tx: Executor,
  values: { slug: string; name: string; isPlatform?: boolean; settings?: StoredTenantSettings },
): Promise<TenantRow> {
  const rows = await tx
    .insert(tenants)
    .values({
      slug: values.slug,
      name: values.name,
      isPlatform: values.isPlatform ?? false,
      settings: values.settings ?? {},
    })
    .returning(tenantColumns);
  return rows[0]!;
}

export async function countTenants(tx: Executor): Promise<number> {
  const r = await tx.execute<{ n: string }>(sql`select count(*)::text as n from tenants`);
  return Number(r.rows[0]!.n);
}

/** Locks the row for a read-modify-write (concurrent settings changes serialise). */
export async function findTenantForUpdate(tx: Executor, id: number): Promise<TenantRow | null> {
  return one(tx.select(tenantColumns).from(tenants).where(eq(tenants.id, id)).for('update'));
}

export async function updateTenant(
  tx: Executor,
  id: number,
  patch: Partial<Pick<TenantRow, 'name' | 'settings' | 'status' | 'suspendedAt'>>,
): Promise<TenantRow | null> {
  const rows = await tx
    .update(tenants)
    .set({ ...patch, updatedAt: new Date() })
    .where(eq(tenants.id, id))
    .returning(tenantColumns);
  return firstOrNull(rows);
}

/** Cross-tenant (platform operators): call inside withSystem only. */
export async function listTenantsPage(
  tx: Executor,
  q: { skip: number; limit: number; status?: 'active' | 'suspended' },
): Promise<{ rows: TenantRow[]; total: number }> {
  const where = q.status ? eq(tenants.status, q.status) : undefined;
  const rows = await tx
    .select(tenantColumns)
    .from(tenants)
    .where(where)
    .orderBy(asc(tenants.id))
    .offset(q.skip)
    .limit(q.limit);
  const count = await tx.select({ n: sql<string>`count(*)::text` }).from(tenants).where(where);
  return { rows, total: Number(count[0]!.n) };
}

export async function deleteTenantRow(tx: Executor, id: number): Promise<void> {
  await tx.delete(tenants).where(eq(tenants.id, id));
}
