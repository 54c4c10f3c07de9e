import { describe, expect, it } from 'vitest';
import { modules } from '../../src/modules/index.js';
import type { ProviderName } from '../../src/platform/context.js';
import { type Orderable, orderModules, PLATFORM_NEEDS } from '../../src/platform/module-order.js';

const mod = (name: string, provides: ProviderName[] = [], needs: ProviderName[] = []): Orderable => ({
  name,
  needs,
  provides: Object.fromEntries(provides.map((p) => [p, () => ({})])),
});
const names = (ms: Orderable[]) => ms.map((m) => m.name);

describe('issue 23: module providers are built in need order, checked at boot', () => {
  it('a provider comes before the modules that need it; where needs do not decide, the list order stays', () => {
    const list = [
      mod('keys', ['mfa'], ['permissions']),
      mod('plain-a'),
      mod('rbac', ['permissions'], ['users']),
      mod('plain-b'),
      mod('users', ['users']),
    ];
    expect(names(orderModules(list, []))).toEqual(['plain-a', 'plain-b', 'users', 'rbac', 'keys']);
  });

  it('an order the needs already satisfy is kept as is', () => {
    const list = [mod('users', ['users']), mod('rbac', ['permissions'], ['users']), mod('x', [], ['users'])];
    expect(names(orderModules(list, []))).toEqual(['users', 'rbac', 'x']);
  });

  it('refuses a need no module provides, naming the module and the need', () => {
    expect(() => orderModules([mod('rbac', ['permissions'], ['users'])], [])).toThrow(
      "module rbac needs 'users', which no module provides",
    );
  });

  it('refuses a platform need no module provides', () => {
    expect(() => orderModules([mod('users', ['users'])], ['tenancy'])).toThrow(
      "the platform needs 'tenancy', which no module provides",
    );
  });

  it('refuses cyclic needs, naming the cycle', () => {
    const list = [
      mod('free', ['retention']),
      mod('a', ['users'], ['mfa']),
      mod('b', ['mfa'], ['sessions']),
      mod('c', ['sessions'], ['users']),
    ];
    expect(() => orderModules(list, [])).toThrow(
      "cyclic needs between modules: a (needs 'mfa') → b (needs 'sessions') → c (needs 'users') → a",
    );
  });

  it('refuses a name provided by two modules', () => {
    expect(() => orderModules([mod('a', ['users']), mod('b', ['users'])], [])).toThrow(
      "modules a and b both provide 'users'",
    );
  });

  it("the app's own modules: every need and the platform's are provided, without cycle", () => {
    const ordered = orderModules(modules);
    expect(new Set(ordered)).toEqual(new Set(modules));
    const provided = new Set(ordered.flatMap((m) => Object.keys(m.provides ?? {})));
    for (const need of PLATFORM_NEEDS) expect(provided).toContain(need);
    // Each module's factories run after those of the modules it needs.
    const seen = new Set<string>();
    for (const m of ordered) {
      for (const need of m.needs ?? [])
        if (!Object.hasOwn(m.provides ?? {}, need)) expect(seen).toContain(need);
      for (const p of Object.keys(m.provides ?? {})) seen.add(p);
    }
  });
});
