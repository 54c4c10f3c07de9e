/** Feature flag resolution order and rollout bucketing (pure). */
import { describe, expect, it } from 'vitest';
import { type FlagFacts, resolveFlag, rolloutBucket } from '../../src/modules/features/resolution.js';

const base: FlagFacts = {
  key: 'new-ui',
  defaultEnabled: false,
  rolloutPercent: null,
  user: null,
  roles: [],
  tenant: null,
};

describe('resolveFlag', () => {
  it('takes user, then roles, then tenant, then the global rollout, then default_enabled', () => {
    expect(resolveFlag({ ...base, defaultEnabled: true }, 1, '7')).toBe(true);
    // Global (rollout 0 %) beats the default.
    expect(resolveFlag({ ...base, defaultEnabled: true, rolloutPercent: 0 }, 1, '7')).toBe(false);
    expect(resolveFlag({ ...base, rolloutPercent: 100 }, 1, '7')).toBe(true);
    // Tenant beats global.
    expect(resolveFlag({ ...base, rolloutPercent: 100, tenant: false }, 1, '7')).toBe(false);
    // Role beats tenant.
    expect(resolveFlag({ ...base, tenant: false, roles: [true] }, 1, '7')).toBe(true);
    // User beats role.
    expect(resolveFlag({ ...base, tenant: true, roles: [true], user: false }, 1, '7')).toBe(false);
  });

  it("lets enabled win when the caller's roles disagree", () => {
    expect(resolveFlag({ ...base, roles: [false, true] }, 1, '7')).toBe(true);
    expect(resolveFlag({ ...base, roles: [false, false], tenant: true }, 1, '7')).toBe(false);
  });

  it('falls back to default_enabled without a caller even with a rollout', () => {
    expect(resolveFlag({ ...base, defaultEnabled: true, rolloutPercent: 0 }, null, null)).toBe(true);
  });
});

describe('rolloutBucket', () => {
  it('is stable and in 0..99', () => {
    const b = rolloutBucket('flag', 3, '42');
    expect(rolloutBucket('flag', 3, '42')).toBe(b);
    expect(b).toBeGreaterThanOrEqual(0);
    expect(b).toBeLessThan(100);
  });

  it('enables a share within ±2 % of the percent over 10,000 users', () => {
    for (const percent of [1, 10, 25, 50, 90]) {
      let on = 0;
      for (let id = 1; id <= 10_000; id++) {
        if (resolveFlag({ ...base, key: 'checkout-v2', rolloutPercent: percent }, 12, String(id))) on++;
      }
      expect(Math.abs(on / 10_000 - percent / 100)).toBeLessThanOrEqual(0.02);
    }
  });

  it('salts by flag and tenant: another flag picks another set of users', () => {
    const pick = (flag: string, tenant: number) =>
      new Set(
        Array.from({ length: 1000 }, (_, i) => i).filter((i) => rolloutBucket(flag, tenant, String(i)) < 10),
      );
    const a = pick('a', 1);
    const overlap = [...pick('b', 1)].filter((i) => a.has(i)).length;
    expect(overlap).toBeLessThan(40); // independent sets of ~100 overlap by ~10
    const otherTenant = [...pick('a', 2)].filter((i) => a.has(i)).length;
    expect(otherTenant).toBeLessThan(40);
  });
});
