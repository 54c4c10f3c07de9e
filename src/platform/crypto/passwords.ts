/**
 * Password hashing: argon2id (OWASP parameters by default) on the libuv thread pool, so hashing never blocks
 * the event loop. Legacy bcrypt hashes from the previous system still verify and are rehashed on login.
 */

import { availableParallelism } from 'node:os';
import { Algorithm, hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import { verify as bcryptVerify } from '@node-rs/bcrypt';
import pLimit from 'p-limit';
import type { Config } from '../../config.js';

/** Leave one core to the event loop. */
export const DEFAULT_HASH_CONCURRENCY = Math.max(1, availableParallelism() - 1);

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string | null, password: string): Promise<boolean>;
  needsRehash(hash: string): boolean;
  /** Burns the same time as a real verify: used when the user does not exist, so timing reveals nothing. */
  verifyDummy(password: string): Promise<false>;
}

export function createPasswordHasher(
  params: Config['argon2'],
  concurrency = DEFAULT_HASH_CONCURRENCY,
): PasswordHasher {
  // At most `concurrency` hashes at once, first come first served. Argon2 is memory-hard and CPU-bound: more
  // hashes than spare cores add no throughput, they only steal CPU from the event loop (and every other request).
  const limited = pLimit(concurrency);
  const options = {
    algorithm: Algorithm.Argon2id,
    memoryCost: params.memoryCost,
    timeCost: params.timeCost,
    parallelism: params.parallelism,
  };
  const current = `$argon2id$v=19$m=${params.memoryCost},t=${params.timeCost},p=${params.parallelism}$`;
  let dummy: Promise<string> | null = null;

  const verify = async (stored: string | null, password: string): Promise<boolean> => {
    if (!stored) return false;
    try {
      if (stored.startsWith('$argon2')) return await limited(() => argonVerify(stored, password));
      if (/^\$2[aby]\$/.test(stored)) return await limited(() => bcryptVerify(password, stored));
    } catch {
      return false;
    }
    return false;
  };

  return {
    hash: (password) => limited(() => argonHash(password, options)),
    verify,
    needsRehash: (stored) => !stored.startsWith(current),
    verifyDummy: async (password) => {
      dummy ??= argonHash('dummy-password-for-timing', options);
      await verify(await dummy, password);
      return false;
    },
  };
}
