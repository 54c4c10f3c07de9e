/**
 * The SAML service provider's signing key (API.md §17: AuthnRequests are always signed). SAML_SP_PRIVATE_KEY /
 * SAML_SP_CERTIFICATE override it; without them the first SAML use makes an RSA-2048 key pair and a self-signed
 * certificate (`selfsigned`: WebCrypto and @peculiar/x509, no openssl binary) and keeps them in `saml_sp_keys`,
 * the private key sealed with ENCRYPTION_KEY (SecretBox), so every replica signs with the same key and the
 * certificate an IdP was given stays valid across restarts.
 *
 * Replicas starting together each try the insert; the partial unique index keeps the first and the others re-read
 * it (as src/platform/crypto/jwt-keys.ts does for the JWT keys).
 */
import { X509Certificate } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { generate } from 'selfsigned';
import type { SecretBox } from '../../../platform/crypto/aes-gcm.js';
import type { Database } from '../../../platform/db/client.js';
import { firstOrNull } from '../../../platform/db/rows.js';

export interface SpSigningKey {
  /** PEM (PKCS#8 when generated here). */
  privateKey: string;
  /** PEM X.509 certificate of the key, published in the SP metadata. */
  certificate: string;
}

export const samlSpKeyAad = (id: string) => `saml:sp:key:${id}`;

/** How long the generated certificate is valid. IdPs pin it (Okta, Entra ID): a long life avoids a forced swap. */
const CERT_VALIDITY_YEARS = 10;
const RSA_BITS = 2048;

interface KeyRow {
  id: string;
  private_key_sealed: string;
  certificate: string;
}

export interface SpKeyStoreDeps {
  database: Database;
  secretBox: SecretBox;
}

async function readCurrent(deps: SpKeyStoreDeps): Promise<KeyRow | null> {
  return deps.database.withSystem(async (tx) =>
    firstOrNull(
      (
        await tx.execute<KeyRow & Record<string, unknown>>(sql`
          select id, private_key_sealed, certificate from saml_sp_keys where retired_at is null`)
      ).rows,
    ),
  );
}

/** A new RSA key and its self-signed certificate (CN: the host of PUBLIC_URL). */
export async function generateSpKey(
  publicUrl: string,
  now: number,
): Promise<SpSigningKey & { fingerprint: string }> {
  const notBeforeDate = new Date(now - 60_000);
  const notAfterDate = new Date(now);
  notAfterDate.setUTCFullYear(notAfterDate.getUTCFullYear() + CERT_VALIDITY_YEARS);
  let host = 'massacorp';
  try {
    host = new URL(publicUrl).hostname || host;
  } catch {
    // keep the default CN
  }
  const pems = await generate([{ name: 'commonName', value: `${host} SAML SP` }], {
    keySize: RSA_BITS,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
    ],
  });
  const fingerprint = new X509Certificate(pems.cert).fingerprint256.replace(/:/g, '').toLowerCase();
  return { privateKey: pems.private, certificate: pems.cert, fingerprint };
}

/** The current SP key from the database; the first call ever creates it. */
export async function loadSpSigningKey(
  deps: SpKeyStoreDeps,
  publicUrl: string,
  now: number,
): Promise<SpSigningKey> {
  let row = await readCurrent(deps);
  if (!row) {
    const k = await generateSpKey(publicUrl, now);
    await deps.database.withSystem((tx) =>
      tx.execute(sql`
        insert into saml_sp_keys (id, private_key_sealed, certificate, created_at)
        values (${k.fingerprint}, ${deps.secretBox.encrypt(k.privateKey, samlSpKeyAad(k.fingerprint))},
                ${k.certificate}, ${new Date(now).toISOString()}::timestamptz)
        on conflict do nothing`),
    );
    row = await readCurrent(deps);
    if (!row) throw new Error('no current SAML SP key in saml_sp_keys');
  }
  // The current key must be readable: refuse rather than sign with something else.
  return {
    privateKey: deps.secretBox.decrypt(row.private_key_sealed, samlSpKeyAad(row.id)),
    certificate: row.certificate,
  };
}
