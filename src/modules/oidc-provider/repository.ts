/**
 * SQL only for the OpenID Provider's artefacts (drizzle/0041). tenant_id is in every WHERE (and in every inserted
 * row), RLS the second wall; the prune alone is cross-tenant by nature.
 */
import { and, eq, gt, isNull, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { ofTenant } from '../../platform/db/rows.js';
import { oidcArtefacts } from './tables.js';

export type NewArtefact = Omit<typeof oidcArtefacts.$inferInsert, 'tenantId' | 'createdAt' | 'consumedAt'>;

const artefactIs = (model: string, id: string) =>
  and(eq(oidcArtefacts.model, model), eq(oidcArtefacts.id, id));

/** Inserts or replaces an artefact (the library saves a model again when it changes, e.g. a session). */
export async function upsertArtefact(tx: Executor, tenantId: number, values: NewArtefact): Promise<void> {
  await tx
    .insert(oidcArtefacts)
    .values({ ...values, tenantId })
    .onConflictDoUpdate({
      target: [oidcArtefacts.tenantId, oidcArtefacts.model, oidcArtefacts.id],
      set: {
        payload: values.payload,
        expiresAt: values.expiresAt,
        grantId: values.grantId,
        uid: values.uid,
      },
      // The conflicting row is the tenant's own (the key leads with tenant_id); said again for the reader.
      setWhere: eq(oidcArtefacts.tenantId, tenantId),
    });
}

/** The unexpired artefact of `model` matching `by` (its id, or a session's uid), with when it was consumed. */
export async function findArtefact(
  tx: Executor,
  tenantId: number,
  model: string,
  by: { id: string } | { uid: string },
  now: Date,
) {
  const match: SQL = 'id' in by ? eq(oidcArtefacts.id, by.id) : eq(oidcArtefacts.uid, by.uid);
  const [row] = await tx
    .select({ payload: oidcArtefacts.payload, consumedAt: oidcArtefacts.consumedAt })
    .from(oidcArtefacts)
    .where(
      ofTenant(
        oidcArtefacts,
        tenantId,
        eq(oidcArtefacts.model, model),
        match,
        gt(oidcArtefacts.expiresAt, now),
      ),
    )
    .limit(1);
  return row ?? null;
}

/** Marks an artefact consumed if it was not: true when this call did (of racing callers, exactly one). */
export async function consumeArtefact(
  tx: Executor,
  tenantId: number,
  model: string,
  id: string,
  now: Date,
): Promise<boolean> {
  const updated = await tx
    .update(oidcArtefacts)
    .set({ consumedAt: now })
    .where(ofTenant(oidcArtefacts, tenantId, artefactIs(model, id), isNull(oidcArtefacts.consumedAt)))
    .returning({ id: oidcArtefacts.id });
  return updated.length > 0;
}

/** The grant an artefact belongs to, or null. */
export async function artefactGrantId(tx: Executor, tenantId: number, model: string, id: string) {
  const [row] = await tx
    .select({ grantId: oidcArtefacts.grantId })
    .from(oidcArtefacts)
    .where(ofTenant(oidcArtefacts, tenantId, artefactIs(model, id)))
    .limit(1);
  return row?.grantId ?? null;
}

export async function deleteArtefact(
  tx: Executor,
  tenantId: number,
  model: string,
  id: string,
): Promise<void> {
  await tx.delete(oidcArtefacts).where(ofTenant(oidcArtefacts, tenantId, artefactIs(model, id)));
}

/** Every artefact of a grant, whatever its model. */
export async function deleteGrantArtefacts(tx: Executor, tenantId: number, grantId: string): Promise<void> {
  await tx.delete(oidcArtefacts).where(ofTenant(oidcArtefacts, tenantId, eq(oidcArtefacts.grantId, grantId)));
}

/** Ends everything a user holds at the tenant's provider (grants, tokens, sessions); how many artefacts went. */
export async function deleteUserArtefacts(tx: Executor, tenantId: number, userId: number): Promise<number> {
  const gone = await tx
    .delete(oidcArtefacts)
    .where(ofTenant(oidcArtefacts, tenantId, eq(oidcArtefacts.accountId, userId)))
    .returning({ id: oidcArtefacts.id });
  return gone.length;
}

/** The grants a user gave the tenant's applications (the GDPR export). */
export function userGrants(tx: Executor, tenantId: number, userId: number) {
  return tx
    .select({
      clientId: oidcArtefacts.clientId,
      payload: oidcArtefacts.payload,
      createdAt: oidcArtefacts.createdAt,
      expiresAt: oidcArtefacts.expiresAt,
    })
    .from(oidcArtefacts)
    .where(
      ofTenant(
        oidcArtefacts,
        tenantId,
        eq(oidcArtefacts.accountId, userId),
        eq(oidcArtefacts.model, 'Grant'),
      ),
    );
}

/** Deletes up to `limit` expired artefacts of every tenant, oldest first (the periodic prune). */
export async function pruneExpiredArtefacts(tx: Executor, limit: number, now: Date): Promise<number> {
  const r = await tx.execute(sql`
    delete from oidc_artefacts where ctid in (
      select ctid from oidc_artefacts where expires_at < ${now.toISOString()}::timestamptz
       order by expires_at limit ${limit})`);
  return r.rowCount ?? 0;
}
