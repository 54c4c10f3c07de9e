import { eq, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { type TenantRow, tenants } from './tables.js';

export async function findTenantById(tx: Executor, id: number): Promise<TenantRow | null> {
  const rows = await tx.select().from(tenants).where(eq(tenants.id, id)).limit(1);
  return rows[0] ?? null;
}

/** Cross-tenant by nature (who is this slug?): call inside withSystem only. */
export async function findTenantBySlug(tx: Executor, slug: string): Promise<TenantRow | null> {
  const rows = await tx.select().from(tenants).where(eq(tenants.slug, slug)).limit(1);
  return rows[0] ?? null;
}

export async function insertTenant(
  tx: Executor,
  values: { slug: string; name: string; isPlatform?: boolean; settings?: Record<string, unknown> },
): Promise<TenantRow> {
  const rows = await tx
    .insert(tenants)
    .values({
      slug: values.slug,
      name: values.name,
      isPlatform: values.isPlatform ?? false,
      settings: values.settings ?? {},
    })
    .returning();
  return rows[0]!;
}

export async function countTenants(tx: Executor): Promise<number> {
  const r = await tx.execute<{ n: string }>(sql`select count(*)::text as n from tenants`);
  return Number(r.rows[0]!.n);
}
