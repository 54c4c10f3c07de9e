/**
 * Bench peer (its own process): the argon2id ceiling. The app's own hasher (createPasswordHasher: same
 * parameters, same libuv thread pool, same concurrency limit) verifying one password as fast as it can, with as
 * many verifications in flight as the login scenario has connections. Prints { hashes_per_s, concurrency }.
 */
import { createPasswordHasher, DEFAULT_HASH_CONCURRENCY } from '../../src/platform/crypto/passwords.js';

const params = {
  memoryCost: Number(process.env.ARGON2_MEMORY_KIB ?? 19_456),
  timeCost: Number(process.env.ARGON2_TIME_COST ?? 2),
  parallelism: Number(process.env.ARGON2_PARALLELISM ?? 1),
};
const inFlight = Number(process.env.BENCH_CONNECTIONS ?? 10);
const seconds = Number(process.env.BENCH_DURATION ?? 5);
const hasher = createPasswordHasher(params);
const hash = await hasher.hash('Bench-Password-2026!');
await hasher.verify(hash, 'Bench-Password-2026!'); // warm

let done = 0;
const until = performance.now() + seconds * 1000;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: inFlight }, async () => {
    while (performance.now() < until) {
      if (!(await hasher.verify(hash, 'Bench-Password-2026!'))) throw new Error('verify failed');
      done++;
    }
  }),
);
const elapsed = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ hashes_per_s: done / elapsed, concurrency: DEFAULT_HASH_CONCURRENCY, params }));
