/**
 * Which part of a user search the trigram indexes should look up (issue 25).
 *
 * A pg_trgm GIN index answers `ILIKE '%needle%'` by intersecting the posting lists of every trigram of the
 * needle, and reads each list whole: a trigram that nearly every user has (the tenant's own email domain, `use`
 * of `user…`, `nam` of a common surname) costs a read of the whole list, a buffer per few hundred users. The rare
 * trigrams alone already narrow the candidates to a handful, so the index is asked for the longest run of the
 * needle whose trigrams are all rare, and the whole needle is checked on those candidates (app_user_search,
 * drizzle/0045). The run is a substring of the needle as typed, so every user the needle matches is among the
 * candidates: the answer is exactly the full search's, only cheaper to find.
 *
 * Which trigrams are common is measured per tenant on a spread sample of its users (usersRepo.searchTrigramSample)
 * and kept per process for a while (SearchTrigrams).
 */

/** A trigram more frequent than this share of the sampled users is not worth reading from the index. */
export const COMMON_TRIGRAM_SHARE = 0.02;
/** Below this many users in the sample (a small tenant), every posting list is short: the needle is used as is. */
export const MIN_SAMPLE = 500;
/**
 * The shortest run worth asking for: two rare trigrams (four characters). One alone may still be in up to 2 % of
 * the tenant, tens of thousands of rows to check at a million users: then the full needle is cheaper.
 */
const MIN_RUN_CHARS = 4;

/** Letters and digits: what pg_trgm keeps of a word; anything else separates words. */
const WORD_CHAR = /[\p{L}\p{N}]/u;

/**
 * The LIKE pattern (`%…%`, escaped) the index should be asked for, or null when the needle itself is the best
 * there is (no common trigram in it, or no rare one to use instead).
 */
export function indexPatternFor(needle: string, common: ReadonlySet<string>): string | null {
  if (common.size === 0) return null;
  const chars = [...needle];
  let best: { start: number; end: number } | null = null;
  let anyCommon = false;
  let run: { start: number; end: number } | null = null;
  for (let i = 0; i + 3 <= chars.length; i++) {
    const three = chars.slice(i, i + 3);
    // pg_trgm takes trigrams within words only: one spanning a separator is never looked up.
    if (!three.every((c) => WORD_CHAR.test(c))) {
      run = null;
      continue;
    }
    if (common.has(three.join('').toLowerCase())) {
      anyCommon = true;
      run = null;
      continue;
    }
    run = run ? { start: run.start, end: i + 3 } : { start: i, end: i + 3 };
    if (!best || run.end - run.start > best.end - best.start) best = { ...run };
  }
  if (!anyCommon || !best || best.end - best.start < MIN_RUN_CHARS) return null;
  return likePattern(chars.slice(best.start, best.end).join(''));
}

/** Escapes LIKE metacharacters, so a search for `50%_off` matches that text literally. */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Per tenant, the common trigrams measured on a sample, for `ttlMs`; at most `maxTenants` remembered. */
export class SearchTrigrams {
  readonly #known = new Map<number, { common: ReadonlySet<string>; until: number }>();

  constructor(
    private readonly ttlMs = 3_600_000,
    private readonly maxTenants = 1000,
  ) {}

  get(tenantId: number, now: number): ReadonlySet<string> | undefined {
    const hit = this.#known.get(tenantId);
    if (!hit || hit.until <= now) return undefined;
    return hit.common;
  }

  set(tenantId: number, common: ReadonlySet<string>, now: number): void {
    this.#known.delete(tenantId);
    if (this.#known.size >= this.maxTenants) this.#known.delete(this.#known.keys().next().value as number);
    this.#known.set(tenantId, { common, until: now + this.ttlMs });
  }
}

/** The common trigrams of a sample: `counts` per trigram among `sampled` users. */
export function commonTrigrams(counts: { trigram: string; users: number }[], sampled: number): Set<string> {
  if (sampled < MIN_SAMPLE) return new Set();
  return new Set(counts.filter((c) => c.users > sampled * COMMON_TRIGRAM_SHARE).map((c) => c.trigram));
}
