/**
 * The order in which app.ts builds the modules' providers: each module after every module that provides what it
 * needs. Stable: where the needs do not decide, the list order stays. Refuses (throws, so the app does not boot)
 * when a need has no provider, when two modules provide the same name, or when the needs form a cycle, naming
 * the modules and names involved.
 */
import type { ProviderName } from './context.js';

export interface Orderable {
  name: string;
  needs?: readonly ProviderName[];
  provides?: Partial<Record<ProviderName, unknown>>;
}

/** What the platform itself reads from the context: some module must provide each. */
export const PLATFORM_NEEDS: readonly ProviderName[] = ['tenancy', 'sessions', 'permissions'];

export function orderModules<M extends Orderable>(
  modules: readonly M[],
  platformNeeds: readonly ProviderName[] = PLATFORM_NEEDS,
): M[] {
  const provider = new Map<ProviderName, M>();
  for (const m of modules) {
    for (const name of Object.keys(m.provides ?? {}) as ProviderName[]) {
      const other = provider.get(name);
      if (other)
        throw new Error(`modules ${other.name} and ${m.name} both provide '${name}': one owner per provider`);
      provider.set(name, m);
    }
  }
  for (const name of platformNeeds)
    if (!provider.has(name)) throw new Error(`the platform needs '${name}', which no module provides`);
  const deps = new Map<M, Set<M>>();
  for (const m of modules) {
    const on = new Set<M>();
    for (const name of m.needs ?? []) {
      const p = provider.get(name);
      if (!p) throw new Error(`module ${m.name} needs '${name}', which no module provides`);
      if (p !== m) on.add(p);
    }
    deps.set(m, on);
  }
  const ordered: M[] = [];
  const placed = new Set<M>();
  while (ordered.length < modules.length) {
    const next = modules.find((m) => !placed.has(m) && [...deps.get(m)!].every((d) => placed.has(d)));
    if (!next) throw new Error(`cyclic needs between modules: ${cycle(modules, deps, placed)}`);
    ordered.push(next);
    placed.add(next);
  }
  return ordered;
}

/** One cycle among the modules not yet placed, as `a → b → a`, each arrow labelled with the name needed. */
function cycle<M extends Orderable>(modules: readonly M[], deps: Map<M, Set<M>>, placed: Set<M>): string {
  const label = (from: M, to: M) =>
    (from.needs ?? []).find((n) => Object.hasOwn(to.provides ?? {}, n)) ?? '?';
  // Every module left has an unplaced dependency: walking them must come back to a module already seen.
  let m = modules.find((x) => !placed.has(x))!;
  const path: M[] = [];
  while (!path.includes(m)) {
    path.push(m);
    m = [...deps.get(m)!].find((d) => !placed.has(d))!;
  }
  const loop = [...path.slice(path.indexOf(m)), m];
  return loop.map((x, i) => (i === 0 ? x.name : `(needs '${label(loop[i - 1]!, x)}') → ${x.name}`)).join(' ');
}
