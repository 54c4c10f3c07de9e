/**
 * WireGuard keys: x25519 from node:crypto, exchanged as standard base64 of the raw 32 bytes (what `wg` prints).
 * A client-supplied public key must be canonical base64 of exactly 32 bytes and a point of large order: an
 * all-zero or low-order key would give every handshake a predictable shared secret.
 */
import {
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';

const BASE64_32 = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

export interface KeyPair {
  privateKey: string;
  publicKey: string;
}

const b64urlToB64 = (s: string) => Buffer.from(s, 'base64url').toString('base64');

export function generateKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return {
    privateKey: b64urlToB64(privateKey.export({ format: 'jwk' }).d!),
    publicKey: b64urlToB64(publicKey.export({ format: 'jwk' }).x!),
  };
}

export function generatePresharedKey(): string {
  return randomBytes(32).toString('base64');
}

// One throwaway key per process, only to probe that a public key is a usable point.
let probe: KeyObject | null = null;

/** Why a public key is refused, or null when it is usable. */
export function publicKeyProblem(value: string): string | null {
  if (!BASE64_32.test(value)) return 'must be the base64 encoding of exactly 32 bytes';
  const raw = Buffer.from(value, 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== value)
    return 'must be the base64 encoding of exactly 32 bytes';
  if (raw.every((b) => b === 0)) return 'the all-zero key is not allowed';
  try {
    probe ??= generateKeyPairSync('x25519').privateKey;
    const pub = createPublicKey({
      key: { kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') },
      format: 'jwk',
    });
    // OpenSSL refuses a derivation that ends in the all-zero secret, which is what every low-order point gives.
    const shared = diffieHellman({ privateKey: probe, publicKey: pub });
    if (shared.every((b) => b === 0)) return 'low-order keys are not allowed';
  } catch {
    return 'low-order keys are not allowed';
  }
  return null;
}
