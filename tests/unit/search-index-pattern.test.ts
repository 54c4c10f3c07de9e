import { describe, expect, it } from 'vitest';
import {
  COMMON_TRIGRAM_SHARE,
  commonTrigrams,
  indexPatternFor,
  likePattern,
  MIN_SAMPLE,
  SearchTrigrams,
} from '../../src/modules/users/search-index-pattern.js';

// What a tenant of user<n>@big.example.com addresses and Surname<n> names has in nearly every row.
const common = new Set([
  'use',
  'ser',
  'big',
  'exa',
  'xam',
  'amp',
  'mpl',
  'ple',
  'com',
  'sur',
  'urn',
  'rna',
  'nam',
  'ame',
]);

describe('issue 25: the rare part of a user search', () => {
  it('asks the index for the longest run of rare trigrams, as typed (case kept)', () => {
    expect(indexPatternFor('user7919@big', common)).toBe('%er7919%');
    expect(indexPatternFor('Surname7919', common)).toBe('%me7919%');
    expect(indexPatternFor('USER42817', common)).toBe('%ER42817%');
  });

  it('keeps the needle when it has no common trigram, or no rare run of two trigrams', () => {
    expect(indexPatternFor('dupont', common)).toBeNull();
    expect(indexPatternFor('user', common)).toBeNull();
    expect(indexPatternFor('user1', common)).toBeNull(); // 'er1' alone: one rare trigram
    expect(indexPatternFor('user7919@big', new Set())).toBeNull();
    expect(indexPatternFor('', common)).toBeNull();
  });

  it('never takes a trigram across a separator, and escapes LIKE metacharacters of the run', () => {
    // '79@' spans '@': the run stops before it.
    expect(indexPatternFor('user79@big', common)).toBe('%er79%');
    // '_' separates words for pg_trgm: 'se_' and 'e_r' are never looked up, and 'use' is common.
    expect(indexPatternFor('use_r7919', common)).toBe('%r7919%');
    expect(indexPatternFor('big_50%', new Set(['big', 'xyz']))).toBeNull();
    expect(likePattern('50%_off\\')).toBe('%50\\%\\_off\\\\%');
  });

  it('the run is always a substring of the needle, so the full search finds nothing outside it', () => {
    const alphabet = 'abcuser79@._-XYZé';
    for (let n = 0; n < 2000; n++) {
      const needle = Array.from(
        { length: 3 + (n % 12) },
        (_, i) => alphabet[(n * 7 + i * 13) % alphabet.length],
      ).join('');
      const p = indexPatternFor(needle, common);
      if (p === null) continue;
      const run = p.slice(1, -1).replace(/\\(.)/g, '$1');
      expect(needle.includes(run), `${needle} → ${p}`).toBe(true);
      expect([...run].length).toBeGreaterThanOrEqual(4);
    }
  });

  it('a trigram is common above 2 % of the sample, and a small sample makes none common', () => {
    const counts = [
      { trigram: 'use', users: 900 },
      { trigram: 'r79', users: Math.floor(1000 * COMMON_TRIGRAM_SHARE) },
      { trigram: '791', users: 3 },
    ];
    expect([...commonTrigrams(counts, 1000)]).toEqual(['use']);
    expect(commonTrigrams(counts, MIN_SAMPLE - 1).size).toBe(0);
  });

  it('remembers a tenant for its time to live, and forgets the oldest past its bound', () => {
    const cache = new SearchTrigrams(1000, 2);
    cache.set(1, new Set(['a']), 0);
    expect(cache.get(1, 999)).toEqual(new Set(['a']));
    expect(cache.get(1, 1000)).toBeUndefined();
    cache.set(1, new Set(['a']), 0);
    cache.set(2, new Set(['b']), 0);
    cache.set(3, new Set(['c']), 0);
    expect(cache.get(1, 1)).toBeUndefined();
    expect(cache.get(3, 1)).toEqual(new Set(['c']));
  });
});
