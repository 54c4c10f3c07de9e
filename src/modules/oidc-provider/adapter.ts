/**
 * The storage adapter of one tenant's provider (oidc-provider's Adapter interface). What must outlive a Redis
 * failover and be revocable by user, client or grant (codes, grants, refresh tokens, opaque access tokens,
 * browser sessions) is a row of `oidc_artefacts` in PostgreSQL, under the tenant's RLS; what only guards a short
 * step (the interaction between the authorization request and the sign-in page, replay detection of client
 * assertions, pushed requests) is a key of the shared store with the artefact's TTL. Either way any replica
 * serves any step. Clients are not stored here: the `Client` model reads the registry (see clients.ts).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Tx } from '../../platform/db/client.js';
import type { OidcProviderDeps } from './deps.js';
import * as repo from './repository.js';

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

const text = (v: unknown) => (typeof v === 'string' ? v : null);

/** The adapter class oidc-provider instantiates once per model name, bound to one tenant. */
export function artefactAdapter(
  deps: Pick<OidcProviderDeps, 'database' | 'store' | 'clock'>,
  tenantId: number,
  /** The library's invalid_grant error (passed in: the library is loaded lazily, provider.ts). */
  InvalidGrant: new (description?: string) => Error,
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

    async upsert(id: string, payload: Payload, expiresIn: number): Promise<void> {
      if (this.model === 'Client') return; // clients are registered through the API, never by the protocol
      const ttl = Math.max(1, Math.ceil(expiresIn || 1));
      if (this.inStore) {
        await deps.store.set(storeKey(tenantId, this.model, id), JSON.stringify(payload), ttl);
        return;
      }
      await inTenant((tx) =>
        repo.upsertArtefact(tx, tenantId, {
          model: this.model,
          id,
          payload,
          grantId: text(payload.grantId),
          uid: text(payload.uid),
          accountId: accountOf(payload),
          clientId: text(payload.clientId),
          expiresAt: new Date(deps.clock.now() + ttl * 1000),
        }),
      );
    }

    async find(id: string): Promise<Payload | undefined> {
      if (this.model === 'Client') return (await findClient(id)) as Payload | undefined;
      if (this.inStore) {
        const raw = await deps.store.get(storeKey(tenantId, this.model, id));
        return raw ? (JSON.parse(raw) as Payload) : undefined;
      }
      return this.findBy({ id });
    }

    async findByUid(uid: string): Promise<Payload | undefined> {
      return this.findBy({ uid });
    }

    async findByUserCode(): Promise<undefined> {
      return undefined; // the device flow is not offered
    }

    private async findBy(by: { id: string } | { uid: string }): Promise<Payload | undefined> {
      const row = await inTenant((tx) => repo.findArtefact(tx, tenantId, this.model, by, now()));
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
      const won = await inTenant((tx) => repo.consumeArtefact(tx, tenantId, this.model, id, now()));
      if (won || !SINGLE_USE.has(this.model)) return;
      const grantId = await inTenant((tx) => repo.artefactGrantId(tx, tenantId, this.model, id));
      if (grantId) await this.revokeByGrantId(grantId);
      throw new InvalidGrant(`${this.model} already used`);
    }

    async destroy(id: string): Promise<void> {
      if (this.inStore) {
        await deps.store.del(storeKey(tenantId, this.model, id));
        return;
      }
      await inTenant((tx) => repo.deleteArtefact(tx, tenantId, this.model, id));
    }

    /** Every artefact of the grant, whatever its model (the library calls it on any one model's adapter). */
    async revokeByGrantId(grantId: string): Promise<void> {
      await inTenant((tx) => repo.deleteGrantArtefacts(tx, tenantId, grantId));
    }
  };
}
