/**
 * Bench peer (its own process): the argon2id ceiling. The app's own hasher (createPasswordHasher: same
 * parameters, same libuv thread pool, same concurrency limit) verifying one password as fast as it can, with
 * BENCH_CONNECTIONS verifications in flight (as many as the login scenario has connections). Prints a ready
 * line, then measures for `<seconds>` each time it reads that number on stdin and prints
 * { hashes_per_s, concurrency }.
 */
import { createInterface } from 'node:readline';
import { createPasswordHasher, DEFAULT_HASH_CONCURRENCY } from '../../src/platform/crypto/passwords.js';

const params = {
  memoryCost: Number(process.env.ARGON2_MEMORY_KIB ?? 19_456),
  timeCost: Number(process.env.ARGON2_TIME_COST ?? 2),
  parallelism: Number(process.env.ARGON2_PARALLELISM ?? 1),
};
const inFlight = Number(process.env.BENCH_CONNECTIONS ?? 10);
const hasher = createPasswordHasher(params);
const password = 'Bench-Password-2026!';
const hash = await hasher.hash(password);

async function measure(seconds: number) {
  let done = 0;
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < until) {
        if (!(await hasher.verify(hash, password))) throw new Error('verify failed');
        done++;
      }
    }),
  );
  return done / ((performance.now() - t0) / 1000);
}

await measure(0.5); // warm
console.log(JSON.stringify({ ready: true, concurrency: DEFAULT_HASH_CONCURRENCY, params }));
createInterface({ input: process.stdin }).on('line', async (line) => {
  const hashesPerS = await measure(Number(line));
  console.log(JSON.stringify({ hashes_per_s: hashesPerS, concurrency: DEFAULT_HASH_CONCURRENCY }));
});
process.on('SIGTERM', () => process.exit(0));
