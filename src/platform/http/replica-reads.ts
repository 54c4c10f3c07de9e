/**
 * Read-your-writes for the replica reads (platform/db/replica.ts). Once a write has succeeded (onSend: after the
 * handler committed, before the client can have the answer), its author is marked in the store for the replica
 * window; a read that could go to the replica asks, through `readScope`, whether the caller is marked, and then
 * reads from the primary. Marks live in the shared store, so a write on one API replica and a read on another
 * agree. Installed only when DATABASE_REPLICA_URL is set: without a replica nothing here runs.
 */

import type { FastifyInstance } from 'fastify';
import type { Principal } from '../context.js';
import { readScope, readYourWritesWindowMs } from '../db/replica.js';
import type { KeyValueStore } from '../store/types.js';
import { WRITE_METHODS } from './methods.js';

/** One writer: a user (all their sessions), an API key or an OIDC client. */
function writerKey(p: Principal): string {
  if (p.kind === 'api_key') return `rw:${p.tenantId}:k:${p.apiKeyId}`;
  if (p.kind === 'oidc_client') return `rw:${p.tenantId}:c:${p.oidcClientId}`;
  return `rw:${p.tenantId}:u:${p.userId}`;
}

export function installReplicaReads(app: FastifyInstance, store: KeyValueStore, maxLagMs: number): void {
  const ttlSeconds = Math.ceil(readYourWritesWindowMs(maxLagMs) / 1000);
  // Run the rest of the request inside the scope (the pattern of @fastify/request-context); the principal is read
  // when a replica read asks, after the guard has set it.
  app.addHook('onRequest', (request, _reply, done) => {
    readScope.run(
      {
        wroteRecently: async () => {
          const p = request.principal;
          if (!p) return false;
          // A store that cannot answer cannot vouch for the replica: read from the primary.
          return store.get(writerKey(p)).then(
            (v) => v !== null,
            () => true,
          );
        },
      },
      done,
    );
  });
  app.addHook('onSend', async (request, reply, payload) => {
    const p = request.principal;
    if (p && WRITE_METHODS.has(request.method) && reply.statusCode < 400)
      await store.set(writerKey(p), '1', ttlSeconds).catch((err) => {
        request.log.warn({ err: (err as Error).message }, 'read-your-writes mark not stored');
      });
    return payload;
  });
}
