/**
 * Flag resolution, pure (unit-tested): user override, then the caller's roles (if they disagree, enabled wins,
 * as permissions of several roles add up), then the tenant override, then the catalogue's rollout percent, then
 * the catalogue's default_enabled.
 */
import { createHash } from 'node:crypto';

export interface FlagFacts {
  key: string;
  defaultEnabled: boolean;
  rolloutPercent: number | null;
  user: boolean | null;
  /** Values of the overrides set on the caller's roles (any number of them). */
  roles: boolean[];
  tenant: boolean | null;
}

/**
 * Deterministic bucket 0..99 of a subject for a flag: sha256(flagKey:tenantId:subject) mod 100. Salting with the
 * flag key keeps the 10 % of one flag from always being the 10 % of every other flag.
 */
export function rolloutBucket(flagKey: string, tenantId: number | null, subject: string): number {
  const digest = createHash('sha256')
    .update(`${flagKey}:${tenantId ?? ''}:${subject}`)
    .digest('hex');
  return Number(BigInt(`0x${digest}`) % 100n);
}

/** `subject` is the user id (or `key-<id>` for a tenant-owned API key); null without a caller. */
export function resolveFlag(f: FlagFacts, tenantId: number | null, subject: string | null): boolean {
  if (f.user !== null) return f.user;
  if (f.roles.length > 0) return f.roles.includes(true);
  if (f.tenant !== null) return f.tenant;
  if (f.rolloutPercent !== null && subject !== null)
    return rolloutBucket(f.key, tenantId, subject) < f.rolloutPercent;
  return f.defaultEnabled;
}
