/**
 * Secrets at rest (TOTP secrets, SSO client secrets, the WireGuard server key): AES-256-GCM with a random
 * 96-bit IV. The output names the key id, so keys can rotate: old ids stay readable until re-encrypted.
 * Format: `enc:v1:<keyId>:<iv b64url>:<tag b64url>:<ciphertext b64url>`.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface SecretBox {
  readonly currentKeyId: string;
  encrypt(plaintext: string, aad?: string): string;
  decrypt(sealed: string, aad?: string): string;
  keyIdOf(sealed: string): string | null;
}

export function createSecretBox(
  currentKeyId: string,
  currentKey: Buffer,
  previous: Record<string, Buffer> = {},
): SecretBox {
  const keys = new Map<string, Buffer>(Object.entries(previous));
  keys.set(currentKeyId, currentKey);
  return {
    currentKeyId,
    encrypt(plaintext, aad) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', currentKey, iv);
      if (aad) cipher.setAAD(Buffer.from(aad));
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [
        'enc',
        'v1',
        currentKeyId,
        iv.toString('base64url'),
        cipher.getAuthTag().toString('base64url'),
        ct.toString('base64url'),
      ].join(':');
    },
    decrypt(sealed, aad) {
      const [tag0, version, keyId, iv, tag, ct] = sealed.split(':');
      if (tag0 !== 'enc' || version !== 'v1' || !keyId || !iv || !tag || ct === undefined)
        throw new Error('not a sealed secret');
      const key = keys.get(keyId);
      if (!key) throw new Error(`unknown encryption key id ${keyId}`);
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      if (aad) decipher.setAAD(Buffer.from(aad));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    },
    keyIdOf(sealed) {
      const parts = sealed.split(':');
      return parts[0] === 'enc' ? (parts[2] ?? null) : null;
    },
  };
}
