/**
 * Recovery codes: 10 × `XXXX-XXXX` from an alphabet without look-alikes (no 0/O/1/I/L): 31^8 ≈ 2^39.6 each.
 * That is too little to survive an offline search on a bare SHA-256, so they are stored as argon2id hashes
 * (on the libuv pool, never on the event loop); online guessing is capped by the MFA lockout.
 */
import { randomInt } from 'node:crypto';
import type { PasswordHasher } from '../../platform/crypto/passwords.js';

export const RECOVERY_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const RECOVERY_CODE_COUNT = 10;
const FORMAT = new RegExp(`^[${RECOVERY_ALPHABET}]{8}$`);

export function newRecoveryCode(): string {
  let s = '';
  for (let i = 0; i < 8; i++) s += RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)];
  return `${s.slice(0, 4)}-${s.slice(4)}`;
}

/** The 8 significant characters (case, dash and spaces ignored), or null if it cannot be a recovery code. */
export function normaliseRecoveryCode(input: string): string | null {
  const s = input.toUpperCase().replace(/[\s-]/g, '');
  return FORMAT.test(s) ? s : null;
}

export async function generateRecoveryCodes(
  hasher: PasswordHasher,
): Promise<{ codes: string[]; hashes: string[] }> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  const hashes = await Promise.all(codes.map((c) => hasher.hash(normaliseRecoveryCode(c)!)));
  return { codes, hashes };
}

/** The id of the unused code that matches, checking all of them (in parallel on the thread pool). */
export async function findMatchingCode(
  hasher: PasswordHasher,
  normalised: string,
  candidates: { id: string; codeHash: string }[],
): Promise<string | null> {
  const results = await Promise.all(candidates.map((c) => hasher.verify(c.codeHash, normalised)));
  const i = results.indexOf(true);
  return i >= 0 ? candidates[i]!.id : null;
}
