/** `massacorp keys rotate-encryption`: secrets sealed under the old key are re-sealed under the new one. */
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateEncryption } from '../../src/cli/keys.js';
import { createTestApp } from '../helpers/app.js';
import { bearer, newTenant, newUser } from '../helpers/factories.js';
import { enrolTotp, totpCode } from '../helpers/totp.js';

const OLD_KEY = Buffer.alloc(32, 7).toString('base64'); // testConfig's key, id k1
const NEW_KEY = randomBytes(32).toString('base64');

let app: FastifyInstance;
let rotated: FastifyInstance;
beforeAll(async () => {
  app = await createTestApp();
  // The next deployment: a new current key k2, the old one still readable.
  rotated = await createTestApp(
    { ENCRYPTION_KEY: NEW_KEY, ENCRYPTION_KEY_ID: 'k2', ENCRYPTION_KEYS_PREVIOUS: `k1:${OLD_KEY}` },
    app,
  );
});
afterAll(async () => {
  await rotated?.close();
  await app?.close();
});

const sealed = (tenantId: number) =>
  app.ctx.database.withTenant(tenantId, async (tx) =>
    (
      await tx.execute<{ s: string }>(
        sql`select secret_encrypted as s from mfa_totp where tenant_id = ${tenantId}`,
      )
    ).rows.map((r) => r.s),
  );

describe('keys rotate-encryption', () => {
  it('re-seals TOTP secrets under the current key; codes keep working', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    const { secret, tokens } = await enrolTotp(app, tenant.id, user.email);
    expect((await sealed(tenant.id))[0]).toMatch(/^enc:v1:k1:/);

    // Scoped to this tenant: other test files share the database in the PostgreSQL pass.
    const dry = await rotateEncryption(rotated.ctx, { tenantId: tenant.id, dryRun: true });
    expect(dry.find((r) => r.table === 'mfa_totp')).toMatchObject({ pending: 1, rotated: 0 });
    const report = await rotateEncryption(rotated.ctx, { tenantId: tenant.id });
    expect(report.find((r) => r.table === 'mfa_totp')).toMatchObject({ pending: 1, rotated: 1, failed: 0 });
    const after = (await sealed(tenant.id))[0]!;
    expect(after).toMatch(/^enc:v1:k2:/);
    expect(after).not.toContain(secret);
    expect(rotated.ctx.secretBox.decrypt(after, `mfa_totp:${tenant.id}:${user.id}`)).toBe(secret);
    // Nothing left to do; the new deployment verifies codes with the re-sealed secret.
    expect(
      (await rotateEncryption(rotated.ctx, { tenantId: tenant.id })).find((r) => r.table === 'mfa_totp'),
    ).toMatchObject({ pending: 0 });
    const v = await rotated.inject({
      method: 'POST',
      url: '/api/v1/mfa/verify',
      headers: bearer(tokens),
      payload: { code: totpCode(secret, 1) },
    });
    expect(v.statusCode).toBe(200);
  });

  it('reports values it cannot decrypt instead of overwriting them', async () => {
    const { tenant } = await newTenant(app);
    const user = await newUser(app, tenant.id);
    await enrolTotp(app, tenant.id, user.email);
    const stranger = await createTestApp({ ENCRYPTION_KEY: NEW_KEY, ENCRYPTION_KEY_ID: 'k3' }, app); // k1 unknown to it
    try {
      const r = await rotateEncryption(stranger.ctx, { tenantId: tenant.id });
      expect(r.find((x) => x.table === 'mfa_totp')).toMatchObject({ pending: 1, rotated: 0, failed: 1 });
      expect((await sealed(tenant.id))[0]).toMatch(/^enc:v1:k1:/);
    } finally {
      await stranger.close();
    }
  });
});
