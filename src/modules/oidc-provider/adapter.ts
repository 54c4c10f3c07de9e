/**
 * The storage adapter of one tenant's provider (oidc-provider's Adapter interface). What must outlive a Redis
 * failover and be revocable by user, client or grant (codes, grants, refresh tokens, opaque access tokens,
 * browser sessions) is a row of `oidc_artefacts` in PostgreSQL, under the tenant's RLS; what only guards a short
 * step (the interaction between the authorization request and the sign-in page, replay detection of client
 * assertions, pushed requests) is a key of the shared store with the artefact's TTL. Either way any replica
 * serves any step. Clients are not stored here: the `Client` model reads the registry (see clients.ts).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import { errors } from 'oidc-provider';
import type { Tx } from '../../platform/db/client.js';
import { ofTenant } from '../../platform/db/rows.js';
import type { OidcProviderDeps } from './deps.js';
import { oidcArtefacts } from './tables.js';

/** Models kept only in the store: each lives minutes and matters only until its one use. */
const STORE_MODELS = new Set(['Interaction', 'ReplayDetection', 'PushedAuthorizationRequest']);
/** Models whose use is single: a second `consume` is a replay (code) or a reuse (rotated refresh token). */
const SINGLE_USE = new Set([
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);

type Payload = Record<string, unknown> & {
  grantId?: string;
  uid?: string;
  accountId?: string;
  clientId?: string;
  consumed?: number;
};

/**
 * A transaction the caller already holds (an interaction route saving a grant and writing its audit record): the
 * adapter writes in it, so the grant exists exactly when its record does.
 */
export const ambientTx = new AsyncLocalStorage<{ tenantId: number; tx: Tx }>();

const storeKey = (tenantId: number, model: string, id: string) => `op:${tenantId}:${model}:${id}`;

/** The user id an artefact belongs to, when it names one (accountId is the user id as a string). */
function accountOf(payload: Payload): number | null {
  const n = Number(payload.accountId);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/** The adapter class oidc-provider instantiates once per model name, bound to one tenant. */
export function artefactAdapter(
  deps: Pick<OidcProviderDeps, 'database' | 'store' | 'clock'>,
  tenantId: number,
  /** The `Client` model: the registry's metadata of a client_id, undefined when the tenant has no such client. */
  findClient: (clientId: string) => Promise<Record<string, unknown> | undefined>,
) {
  const inTenant = <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => {
    const ambient = ambientTx.getStore();
    if (ambient && ambient.tenantId === tenantId) return fn(ambient.tx);
    return deps.database.withTenant(tenantId, fn);
  };
  const now = () => new Date(deps.clock.now());

  return class ArtefactAdapter {
    readonly inStore: boolean;

    constructor(readonly model: string) {
      this.inStore = STORE_MODELS.has(model);
    }

    private where(id: string) {
      return ofTenant(oidcArtefacts, tenantId, eq(oidcArtefacts.model, this.model), eq(oidcArtefacts.id, id));
    }

    async upsert(id: string, payload: Payload, expiresIn: number): Promise<void> {
      if (this.model === 'Client') return; // clients are registered through the API, never by the protocol
      const ttl = Math.max(1, Math.ceil(expiresIn || 1));
      if (this.inStore) {
        await deps.store.set(storeKey(tenantId, this.model, id), JSON.stringify(payload), ttl);
        return;
      }
      const values = {
        tenantId,
        model: this.model,
        id,
        payload,
        grantId: typeof payload.grantId === 'string' ? payload.grantId : null,
        uid: typeof payload.uid === 'string' ? payload.uid : null,
        accountId: accountOf(payload),
        clientId: typeof payload.clientId === 'string' ? payload.clientId : null,
        expiresAt: new Date(deps.clock.now() + ttl * 1000),
      };
      await inTenant((tx) =>
        tx
          .insert(oidcArtefacts)
          .values(values)
          .onConflictDoUpdate({
            target: [oidcArtefacts.tenantId, oidcArtefacts.model, oidcArtefacts.id],
            set: {
              payload: values.payload,
              expiresAt: values.expiresAt,
              grantId: values.grantId,
              uid: values.uid,
            },
          }),
      );
    }

    async find(id: string): Promise<Payload | undefined> {
      if (this.model === 'Client') return (await findClient(id)) as Payload | undefined;
      if (this.inStore) {
        const raw = await deps.store.get(storeKey(tenantId, this.model, id));
        return raw ? (JSON.parse(raw) as Payload) : undefined;
      }
      return this.findWhere(eq(oidcArtefacts.id, id));
    }

    async findByUid(uid: string): Promise<Payload | undefined> {
      return this.findWhere(eq(oidcArtefacts.uid, uid));
    }

    async findByUserCode(): Promise<undefined> {
      return undefined; // the device flow is not offered
    }

    private async findWhere(condition: ReturnType<typeof eq>): Promise<Payload | undefined> {
      const [row] = await inTenant((tx) =>
        tx
          .select({ payload: oidcArtefacts.payload, consumedAt: oidcArtefacts.consumedAt })
          .from(oidcArtefacts)
          .where(
            ofTenant(
              oidcArtefacts,
              tenantId,
              eq(oidcArtefacts.model, this.model),
              condition,
              gt(oidcArtefacts.expiresAt, now()),
            ),
          )
          .limit(1),
      );
      if (!row) return undefined;
      const payload = row.payload as Payload;
      // The library reads `consumed` to detect a replayed code or a reused refresh token (and revoke the grant).
      return row.consumedAt ? { ...payload, consumed: Math.floor(row.consumedAt.getTime() / 1000) } : payload;
    }

    /**
     * Marks a single-use artefact used, atomically: of two requests racing with the same code or refresh token
     * (on one replica or two), exactly one gets past this; the other is refused as a replay and the grant both
     * came from is revoked, as for any replay (RFC 6749 §4.1.2, OAuth 2.0 Security BCP §4.14).
     */
    async consume(id: string): Promise<void> {
      const updated = await inTenant((tx) =>
        tx
          .update(oidcArtefacts)
          .set({ consumedAt: now() })
          .where(and(this.where(id), isNull(oidcArtefacts.consumedAt)))
          .returning({ grantId: oidcArtefacts.grantId }),
      );
      if (updated.length === 0 && SINGLE_USE.has(this.model)) {
        const [row] = await inTenant((tx) =>
          tx.select({ grantId: oidcArtefacts.grantId }).from(oidcArtefacts).where(this.where(id)).limit(1),
        );
        if (row?.grantId) await this.revokeByGrantId(row.grantId);
        throw new errors.InvalidGrant(`${this.model} already used`);
      }
    }

    async destroy(id: string): Promise<void> {
      if (this.inStore) {
        await deps.store.del(storeKey(tenantId, this.model, id));
        return;
      }
      await inTenant((tx) => tx.delete(oidcArtefacts).where(this.where(id)));
    }

    /** Every artefact of the grant, whatever its model (the library calls it on any one model's adapter). */
    async revokeByGrantId(grantId: string): Promise<void> {
      await inTenant((tx) =>
        tx.delete(oidcArtefacts).where(ofTenant(oidcArtefacts, tenantId, eq(oidcArtefacts.grantId, grantId))),
      );
    }
  };
}

/** Ends everything a user holds at the tenant's provider (grants, tokens, sessions), in the caller's transaction. */
export async function deleteUserArtefacts(tx: Tx, tenantId: number, userId: number): Promise<number> {
  const gone = await tx
    .delete(oidcArtefacts)
    .where(ofTenant(oidcArtefacts, tenantId, eq(oidcArtefacts.accountId, userId)))
    .returning({ id: oidcArtefacts.id });
  return gone.length;
}

/** Ends everything issued to a client (a deleted or disabled client's grants and tokens). */
export async function deleteClientArtefacts(tx: Tx, tenantId: number, clientId: string): Promise<number> {
  const gone = await tx
    .delete(oidcArtefacts)
    .where(ofTenant(oidcArtefacts, tenantId, eq(oidcArtefacts.clientId, clientId)))
    .returning({ id: oidcArtefacts.id });
  return gone.length;
}

/** Deletes up to `limit` expired artefacts of every tenant (the periodic prune; cross-tenant by nature). */
export async function pruneExpiredArtefacts(
  deps: Pick<OidcProviderDeps, 'database' | 'clock'>,
  limit: number,
): Promise<number> {
  return deps.database.withSystem(async (tx) => {
    const r = await tx.execute(sql`
      delete from oidc_artefacts where ctid in (
        select ctid from oidc_artefacts where expires_at < ${new Date(deps.clock.now()).toISOString()}::timestamptz
         order by expires_at limit ${limit})`);
    return r.rowCount ?? 0;
  });
}
