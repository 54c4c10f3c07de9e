/**
 * The SAML SP's signing key (API.md §17 "signed AuthnRequest redirect"): generated at the first SAML use when
 * SAML_SP_* are not set, kept in `saml_sp_keys` sealed with ENCRYPTION_KEY, shared by every replica; the SP
 * metadata publishes its certificate and every auth_url carries SigAlg + Signature that verify with it.
 * On the real backend the file runs on a database of its own (it deletes and re-seals the global key).
 */
import { createVerify, randomBytes, X509Certificate } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateEncryption, sealedColumns } from '../../src/cli/keys.js';
import { createTestApp, usingPostgres } from '../helpers/app.js';
import { bearer, login, newTenant, type TestTenant, type Tokens, uniq } from '../helpers/factories.js';
import { createPrivateDatabase, type PrivateDatabase } from '../helpers/private-database.js';
import {
  certBody,
  makeIdpKeys,
  parseAuthnRequestUrl,
  redirectSignature,
  type TestIdpKeys,
} from '../helpers/saml-idp.js';

const REDIRECT = 'https://app.example.com/sso/done';
const IDP_SSO = 'https://idp.example.com/app/sso/saml';
const OLD_KEY = Buffer.alloc(32, 7).toString('base64'); // testConfig's ENCRYPTION_KEY, id k1

let app: FastifyInstance;
let t: TestTenant;
let admin: Tokens;
let idp: TestIdpKeys;
let conn: { id: string };
const opened: FastifyInstance[] = [];

// Rotating and deleting the SP key here would break the other files' SAML requests on the shared database.
let own: PrivateDatabase | undefined;

beforeAll(async () => {
  if (usingPostgres) own = await createPrivateDatabase('mc_spkey');
  app = await createTestApp(own ? { DATABASE_URL: own.url } : {});
  idp = await makeIdpKeys();
  t = await newTenant(app);
  admin = await login(app, t.tenant.id, t.admin.email);
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/sso/connections',
    headers: bearer(admin),
    payload: {
      type: 'saml',
      name: uniq('saml'),
      redirect_uris: [REDIRECT],
      saml: {
        idp_entity_id: 'http://www.okta.com/exk-key',
        idp_sso_url: IDP_SSO,
        idp_certificate: idp.certificate,
      },
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  conn = res.json();
});
afterAll(async () => {
  for (const a of opened.reverse()) await a.close();
  await app?.close();
  await own?.drop();
});

async function replica(env: Record<string, string> = {}): Promise<FastifyInstance> {
  const r = await createTestApp(env, app);
  opened.push(r);
  return r;
}

async function keyRows() {
  return app.ctx.database.withSystem(
    async (tx) =>
      (
        await tx.execute<{
          id: string;
          private_key_sealed: string;
          certificate: string;
          retired_at: unknown;
        }>(sql`select id, private_key_sealed, certificate, retired_at from saml_sp_keys`)
      ).rows,
  );
}
const forgetKeys = () => app.ctx.database.withSystem((tx) => tx.execute(sql`delete from saml_sp_keys`));

/**
 * The signing certificate the metadata publishes. The SP key pair also decrypts assertions (issue 19), so the same
 * certificate is in a second KeyDescriptor, for encryption: two, and the same one.
 */
async function metadataCert(target: FastifyInstance): Promise<X509Certificate> {
  const res = await target.inject({ method: 'GET', url: `/api/v1/sso/saml/${conn.id}/metadata` });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.body).toContain('AuthnRequestsSigned="true"');
  expect(res.body).toContain('<KeyDescriptor use="signing">');
  expect(res.body).toContain('<KeyDescriptor use="encryption">');
  const certs = [...res.body.matchAll(/<(?:ds:)?X509Certificate>([^<]+)</g)].map((m) =>
    m[1]!.replace(/\s+/g, ''),
  );
  expect(certs).toHaveLength(2);
  expect(certs[1]).toBe(certs[0]);
  return new X509Certificate(Buffer.from(certs[0]!, 'base64'));
}

async function authUrl(target: FastifyInstance): Promise<string> {
  const res = await target.inject({
    url: `/api/v1/sso/connections/${conn.id}/authorize?redirect_uri=${encodeURIComponent(REDIRECT)}`,
    headers: { 'x-tenant-id': String(t.tenant.id) },
  });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { auth_url: string }).auth_url;
}

function verifies(url: string, cert: X509Certificate): boolean {
  const sig = redirectSignature(url);
  expect(sig.sigAlg).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
  return createVerify('RSA-SHA256').update(sig.signed).verify(cert.publicKey, sig.value);
}

describe('issue 13 sso: the SAML SP signing key (signed AuthnRequests always)', () => {
  it('without SAML_SP_*: the metadata publishes the generated certificate and the auth_url signature verifies with it', async () => {
    const cert = await metadataCert(app);
    expect(cert.verify(cert.publicKey)).toBe(true); // self-signed
    const url = await authUrl(app);
    expect(url.startsWith(`${IDP_SSO}?SAMLRequest=`)).toBe(true);
    expect(verifies(url, cert)).toBe(true);
    // The signed octets cover the request and the RelayState: changing either breaks the signature.
    const parsed = new URL(url);
    parsed.searchParams.set('RelayState', 'forged');
    expect(verifies(parsed.toString(), cert)).toBe(false);
    expect(parseAuthnRequestUrl(url).xml).toContain('<samlp:AuthnRequest');

    // Kept in the database: one current row, the private key sealed (never in clear), the same certificate.
    const current = (await keyRows()).filter((r) => r.retired_at === null);
    expect(current).toHaveLength(1);
    expect(current[0]!.private_key_sealed).toMatch(/^enc:v1:/);
    expect(current[0]!.private_key_sealed).not.toContain('PRIVATE KEY');
    expect(certBody(current[0]!.certificate)).toBe(cert.raw.toString('base64'));
    expect(current[0]!.id).toBe(cert.fingerprint256.replace(/:/g, '').toLowerCase());
  });

  it('replicas starting together over one database make one key and all sign with it', async () => {
    await forgetKeys();
    const replicas = await Promise.all([replica(), replica(), replica()]);
    // Their first SAML use at the same time: each tries to create the key.
    const certs = await Promise.all(replicas.map((r) => metadataCert(r)));
    const current = (await keyRows()).filter((r) => r.retired_at === null);
    expect(current).toHaveLength(1);
    const fingerprints = new Set(certs.map((c) => c.fingerprint256));
    expect(fingerprints).toEqual(new Set([new X509Certificate(current[0]!.certificate).fingerprint256]));
    // A request signed on one replica verifies with the certificate another one publishes.
    const urls = await Promise.all(replicas.map((r) => authUrl(r)));
    for (const url of urls) expect(verifies(url, certs[0]!)).toBe(true);
    // A replica started later (a restart) reads the same key instead of making another.
    const later = await replica();
    expect((await metadataCert(later)).fingerprint256).toBe(certs[0]!.fingerprint256);
    expect(verifies(await authUrl(later), certs[0]!)).toBe(true);
    expect(await keyRows()).toHaveLength(1);
  });

  it('SAML_SP_PRIVATE_KEY / SAML_SP_CERTIFICATE override the stored key (metadata and signature)', async () => {
    const operator = await makeIdpKeys('sp.operator.example');
    const withEnv = await replica({
      SAML_SP_PRIVATE_KEY: operator.privateKey,
      SAML_SP_CERTIFICATE: operator.certificate,
    });
    const cert = await metadataCert(withEnv);
    expect(cert.raw.toString('base64')).toBe(certBody(operator.certificate));
    const url = await authUrl(withEnv);
    expect(verifies(url, cert)).toBe(true);
    // Not the stored key's.
    const stored = new X509Certificate((await keyRows())[0]!.certificate);
    expect(verifies(url, stored)).toBe(false);
  });

  it('keys rotate-encryption re-seals the SP key; the app still signs with it under the new ENCRYPTION_KEY', async () => {
    // A fresh replica (`app` still holds the key the replica test deleted): the stored key's certificate.
    const before = await metadataCert(await replica());
    expect(before.raw.toString('base64')).toBe(certBody((await keyRows())[0]!.certificate));
    expect(sealedColumns.map((c) => c.table)).toContain('saml_sp_keys');
    const newKey = randomBytes(32).toString('base64');
    const rotated = await replica({
      ENCRYPTION_KEY: newKey,
      ENCRYPTION_KEY_ID: 'k2',
      ENCRYPTION_KEYS_PREVIOUS: `k1:${OLD_KEY}`,
    });
    const columns = sealedColumns.filter((c) => c.table === 'saml_sp_keys');
    try {
      const report = await rotateEncryption(rotated.ctx, { columns });
      expect(report[0]).toMatchObject({ table: 'saml_sp_keys', rotated: 1, failed: 0 });
      expect((await keyRows())[0]!.private_key_sealed).toMatch(/^enc:v1:k2:/);
      // The rotated deployment reads the re-sealed key: the same certificate, signatures that verify.
      const fresh = await replica({
        ENCRYPTION_KEY: newKey,
        ENCRYPTION_KEY_ID: 'k2',
      });
      expect((await metadataCert(fresh)).fingerprint256).toBe(before.fingerprint256);
      expect(verifies(await authUrl(fresh), before)).toBe(true);
    } finally {
      // The later tests run under k1 only: drop the k2-sealed key.
      await forgetKeys();
    }
  });
});
