/**
 * Account recovery by an administrator (issue 20): reset a user's second factors (the admin's own step-up
 * required), mail a user a reset link, end one session of a user. Dominance, cross-tenant 404s, the audit trail,
 * and the mails through a real SMTP server.
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as mfaRepo from '../../src/modules/mfa/repository.js';
import { resetLink } from '../../src/modules/password-reset/service.js';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newUser, type Tokens, uniq } from '../helpers/factories.js';
import { type Caller, client, tenantOwner, userWith } from '../helpers/rbac.js';
import { startSmtp, type TestSmtp } from '../helpers/smtp.js';
import { enrolTotp, safeTotpMoment, totpCode } from '../helpers/totp.js';

const PUBLIC_URL = 'https://id.lifecycle.test';
let app: FastifyInstance;
let smtp: TestSmtp;

beforeAll(async () => {
  smtp = await startSmtp();
  // No PASSWORD_RESET_URL: the console's page is the default.
  app = await createTestApp({ PUBLIC_URL, SMTP_URL: smtp.url });
});
afterAll(async () => {
  await app?.close();
  await smtp?.close();
});

const me = (t: Tokens | string) => app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(t) });

async function auditEvents(tenantId: number, eventType: string, resourceId: string) {
  return app.ctx.database.withTenant(tenantId, async (tx) => {
    const r = await tx.execute<{ metadata: Record<string, unknown> }>(sql`select metadata from audit_log
      where tenant_id = ${tenantId} and event_type = ${eventType} and resource_id = ${resourceId}`);
    return r.rows.map((x) => x.metadata);
  });
}

/** The owner with TOTP on, signed in through that enrolment's session; `stepUp` proves a code on it. */
async function ownerWithTotp() {
  const t = await tenantOwner(app);
  const { secret, tokens } = await enrolTotp(app, t.tenant.id, t.admin.email);
  const owner: Caller = { ...t.owner, tokens, call: client(app, tokens) };
  const stepUp = async () => {
    await safeTotpMoment();
    const r = await owner.call('POST', '/api/v1/mfa/verify', { code: totpCode(secret) });
    expect(r.statusCode, r.body).toBe(200);
  };
  return { ...t, owner, stepUp };
}

describe('POST /users/{id}/mfa/reset', () => {
  it("needs the admin's own second factor proven within 5 minutes; removes every factor and ends the sessions", async () => {
    const plain = await tenantOwner(app);
    const someone = await newUser(app, plain.tenant.id);
    // An admin without a second factor of their own proves nothing.
    const noFactor = await plain.owner.call('POST', `/api/v1/users/${someone.id}/mfa/reset`);
    expect(noFactor.statusCode).toBe(403);
    expect(noFactor.json().error).toBe('OWN_MFA_REQUIRED');

    const { owner, tenant, stepUp } = await ownerWithTotp();
    const target = await newUser(app, tenant.id, { roles: ['member'] });
    const enrolled = await enrolTotp(app, tenant.id, target.email);
    await app.ctx.database.withTenant(tenant.id, (tx) =>
      mfaRepo.insertCredential(tx, tenant.id, {
        userId: target.id,
        credentialId: uniq('cred'),
        publicKey: 'pk-test',
        counter: 0,
        transports: [],
        deviceType: 'singleDevice',
        backedUp: false,
        name: 'Lost key',
      }),
    );
    expect((await me(enrolled.tokens)).statusCode).toBe(200);

    // Signed in, factor held, but not proven on this session within 5 minutes.
    const stale = await owner.call('POST', `/api/v1/users/${target.id}/mfa/reset`);
    expect(stale.statusCode).toBe(403);
    expect(stale.json().error).toBe('STEP_UP_REQUIRED');

    await stepUp();
    const res = await owner.call('POST', `/api/v1/users/${target.id}/mfa/reset`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ success: true, data: { sessions_ended: 1 } });
    const flags = await app.ctx.database.withTenant(tenant.id, async (tx) => ({
      totp: await mfaRepo.findTotp(tx, tenant.id, target.id),
      keys: await mfaRepo.countCredentials(tx, tenant.id, target.id),
      codes: await mfaRepo.countUnusedRecoveryCodes(tx, tenant.id, target.id),
    }));
    expect(flags).toEqual({ totp: null, keys: 0, codes: 0 });
    const revoked = await me(enrolled.tokens);
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json().error).toBe('SESSION_REVOKED');
    expect((await owner.call('GET', `/api/v1/users/${target.id}`)).json().has_mfa).toBe(false);
    // The person signs in with the password alone again.
    await login(app, tenant.id, target.email);
    const mail = await smtp.waitFor(target.email, (m) => /reset/i.test(m.subject));
    expect(mail.text).toContain('recovery codes were removed');
    const [record] = await auditEvents(tenant.id, 'mfa.reset', String(target.id));
    expect(record).toMatchObject({
      totp_removed: true,
      security_keys_removed: 1,
      recovery_codes_removed: 10,
      sessions_ended: 1,
    });
  });

  it('refuses oneself (400), a user the caller does not dominate (403) and another tenant (404)', async () => {
    const { owner, tenant, stepUp } = await ownerWithTotp();
    await stepUp();
    const self = await owner.call('POST', `/api/v1/users/${owner.userId}/mfa/reset`);
    expect(self.statusCode).toBe(400);
    expect(self.json().error).toBe('OWN_ACCOUNT');
    const manager = await userWith(app, tenant.id, ['manager']);
    const up = await manager.call('POST', `/api/v1/users/${owner.userId}/mfa/reset`);
    expect(up.statusCode).toBe(403);
    expect(up.json().error).toBe('PERMISSION_DENIED');
    const other = await tenantOwner(app);
    const far = await owner.call('POST', `/api/v1/users/${other.admin.id}/mfa/reset`);
    expect(far.statusCode).toBe(404);
  });
});

describe('POST /users/{id}/password-reset', () => {
  it('mails the user a link to the console page that sets a new password once (202)', async () => {
    const { owner, tenant } = await tenantOwner(app);
    const user = await newUser(app, tenant.id);
    const res = await owner.call('POST', `/api/v1/users/${user.id}/password-reset`);
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toMatchObject({ success: true, data: null });
    const mail = await smtp.waitFor(user.email, (m) => m.text.includes('reset-password?token='));
    const m = /https:\/\/id\.lifecycle\.test\/admin\/reset-password\?token=(\S+)/.exec(mail.text);
    expect(m, mail.text).not.toBeNull();
    const token = decodeURIComponent(m![1]!);
    const done = await app.inject({
      method: 'POST',
      url: '/api/v1/password-reset/confirm',
      payload: { token, new_password: 'Admin-Sent-Link-77-pine' },
    });
    expect(done.statusCode, done.body).toBe(200);
    await login(app, tenant.id, user.email, 'Admin-Sent-Link-77-pine');
    const [record] = await auditEvents(tenant.id, 'password_reset.requested', String(user.id));
    expect(record).toMatchObject({ by_admin: true });
  });

  it('dominance (403), another tenant (404), a deactivated account (409)', async () => {
    const { owner, tenant } = await tenantOwner(app);
    const manager = await userWith(app, tenant.id, ['manager']);
    expect((await manager.call('POST', `/api/v1/users/${owner.userId}/password-reset`)).statusCode).toBe(403);
    const other = await tenantOwner(app);
    expect((await owner.call('POST', `/api/v1/users/${other.admin.id}/password-reset`)).statusCode).toBe(404);
    const inactive = await newUser(app, tenant.id, { isActive: false });
    const r = await owner.call('POST', `/api/v1/users/${inactive.id}/password-reset`);
    expect(r.statusCode).toBe(409);
    expect(r.json().error).toBe('ACCOUNT_INACTIVE');
  });

  it('PASSWORD_RESET_URL keeps its own query string; the token is the `token` parameter', () => {
    const link = resetLink('https://app.example.com/auth/reset?lang=fr', '12.abc_DEF-123');
    expect(link).toBe('https://app.example.com/auth/reset?lang=fr&token=12.abc_DEF-123');
    expect(resetLink('https://app.example.com/reset', '3.x')).toBe('https://app.example.com/reset?token=3.x');
    expect(app.ctx.config.passwordResetUrl).toBe(`${PUBLIC_URL}/admin/reset-password`);
  });
});

describe('DELETE /users/{id}/sessions/{session_id}', () => {
  it("ends exactly that session of that user; others keep working; 404 for another user's or tenant's", async () => {
    const { owner, tenant } = await tenantOwner(app);
    const user = await newUser(app, tenant.id);
    const first = await login(app, tenant.id, user.email);
    const second = await login(app, tenant.id, user.email);
    const list = await owner.call('GET', `/api/v1/users/${user.id}/sessions`);
    const ids = (list.json().sessions as { id: string }[]).map((s) => s.id);
    expect(ids).toHaveLength(2);
    // Which id is `first`'s: /auth/me answers the caller's session.
    const firstId = (await me(first)).json().session_id as string | undefined;
    const target = firstId && ids.includes(firstId) ? firstId : ids[0]!;

    const res = await owner.call('DELETE', `/api/v1/users/${user.id}/sessions/${target}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ terminated_count: 1, message: expect.any(String) });
    const states = [await me(first), await me(second)].map((r) => r.statusCode).sort();
    expect(states).toEqual([200, 401]);
    const again = await owner.call('DELETE', `/api/v1/users/${user.id}/sessions/${target}`);
    expect(again.statusCode).toBe(400);

    // The remaining session, addressed through another user of the tenant: not theirs.
    const remaining = ids.find((i) => i !== target)!;
    const other = await newUser(app, tenant.id);
    const wrongUser = await owner.call('DELETE', `/api/v1/users/${other.id}/sessions/${remaining}`);
    expect(wrongUser.statusCode).toBe(404);
    const b = await tenantOwner(app);
    expect((await b.owner.call('DELETE', `/api/v1/users/${user.id}/sessions/${remaining}`)).statusCode).toBe(
      404,
    );
    const bUser = await newUser(app, b.tenant.id);
    expect((await b.owner.call('DELETE', `/api/v1/users/${bUser.id}/sessions/${remaining}`)).statusCode).toBe(
      404,
    );
    expect((await owner.call('DELETE', `/api/v1/users/${user.id}/sessions/not-a-uuid`)).statusCode).toBe(422);
    const states2 = [await me(first), await me(second)].map((r) => r.statusCode).sort();
    expect(states2).toEqual([200, 401]);
    const records = await auditEvents(tenant.id, 'session.terminated', String(user.id));
    expect(records).toEqual([expect.objectContaining({ session_ids: [target], reason: 'admin_terminated' })]);
  });

  it('needs sessions.revoke and dominance', async () => {
    const { owner, tenant } = await tenantOwner(app);
    const member = await userWith(app, tenant.id, ['member']);
    const list = await owner.call('GET', `/api/v1/users/${owner.userId}/sessions`);
    const sid = (list.json().sessions as { id: string }[])[0]!.id;
    expect((await member.call('DELETE', `/api/v1/users/${owner.userId}/sessions/${sid}`)).statusCode).toBe(
      403,
    );
    const manager = await userWith(app, tenant.id, ['manager']);
    const up = await manager.call('DELETE', `/api/v1/users/${owner.userId}/sessions/${sid}`);
    expect(up.statusCode).toBe(403);
    expect((await me(owner.tokens)).statusCode).toBe(200);
  });
});
