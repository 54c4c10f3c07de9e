/** What the agent must do to make the interface match the database: a pure function, tested on its own. */
import type { DesiredPeerConfig, DumpPeer } from './wg-driver.js';

export interface ReconcilePlan {
  upserts: DesiredPeerConfig[];
  removals: string[];
}

const sameSet = (a: string[], b: string[]) =>
  a.length === b.length && [...a].sort().join(',') === [...b].sort().join(',');

/**
 * @param desired peers that must be on the interface (active, in this interface's network)
 * @param actual  peers the interface has now
 * @param managed public keys this agent put there; others are left alone unless pruneUnknown
 */
export function planReconcile(
  desired: DesiredPeerConfig[],
  actual: DumpPeer[],
  managed: ReadonlySet<string>,
  pruneUnknown = false,
): ReconcilePlan {
  const current = new Map(actual.map((p) => [p.publicKey, p]));
  const wanted = new Set(desired.map((p) => p.publicKey));
  const upserts = desired.filter((d) => {
    const c = current.get(d.publicKey);
    return (
      !c || !sameSet(c.allowedIps, d.allowedIps) || (c.presharedKey ?? null) !== (d.presharedKey ?? null)
    );
  });
  const removals = actual
    .filter((p) => !wanted.has(p.publicKey) && (managed.has(p.publicKey) || pruneUnknown))
    .map((p) => p.publicKey);
  return { upserts, removals };
}
