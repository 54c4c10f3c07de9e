/** Real TOTP codes for tests, computed with otpauth from the secret that /mfa/setup returned. */
import type { FastifyInstance } from 'fastify';
import * as OTPAuth from 'otpauth';
import { bearer, login, type Tokens } from './factories.js';

export function totpCode(secret: string, offsetSteps = 0, now = Date.now()): string {
  return OTPAuth.TOTP.generate({
    secret: OTPAuth.Secret.fromBase32(secret),
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    timestamp: now + offsetSteps * 30_000,
  });
}

/** A 6-digit code that matches none of the steps the server accepts now (±1 step). */
export function wrongCode(secret: string): string {
  const valid = new Set([-1, 0, 1].map((o) => totpCode(secret, o)));
  let n = 0;
  for (;;) {
    const c = String(n++).padStart(6, '0');
    if (!valid.has(c)) return c;
  }
}

/**
 * Codes are computed just before the request; near the end of a 30 s step the server may already be in the
 * next one, where an offset -1 code is out of the window. Wait out the last 2 seconds of a step.
 */
export async function safeTotpMoment(): Promise<void> {
  const left = 30_000 - (Date.now() % 30_000);
  if (left < 2_000) await new Promise((r) => setTimeout(r, left + 50));
}

/** Signs in, sets up and enables TOTP with the step before now, so later steps (0, +1) remain usable. */
export async function enrolTotp(
  app: FastifyInstance,
  tenantId: number,
  email: string,
): Promise<{ secret: string; codes: string[]; tokens: Tokens }> {
  const tokens = await login(app, tenantId, email);
  const setup = await app.inject({ method: 'POST', url: '/api/v1/mfa/setup', headers: bearer(tokens) });
  if (setup.statusCode !== 200) throw new Error(`mfa setup failed: ${setup.body}`);
  const secret: string = setup.json().secret;
  await safeTotpMoment();
  const en = await app.inject({
    method: 'POST',
    url: '/api/v1/mfa/enable',
    headers: bearer(tokens),
    payload: { code: totpCode(secret, -1) },
  });
  if (en.statusCode !== 200) throw new Error(`mfa enable failed: ${en.body}`);
  return { secret, codes: en.json().recovery_codes, tokens };
}
