/**
 * The SP side of a SAML sign-in in tests: post an IdP's answer to the ACS as the HTTP-POST binding does, then follow
 * the redirect's one-time code to tokens and /auth/me (or read the ?error= it was refused with).
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { bearer } from './factories.js';

/** A form post to the ACS; RelayState only when given. */
export function postAcs(
  app: FastifyInstance,
  samlResponse: string,
  relayState: string | null | undefined,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  const form = new URLSearchParams({
    SAMLResponse: samlResponse,
    ...(relayState ? { RelayState: relayState } : {}),
  });
  return app.inject({
    method: 'POST',
    url: '/api/v1/sso/saml/acs',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: form.toString(),
  });
}

/** The ACS answer's end: the signed-in user (`/auth/me`) and their token, or the code it was refused with. */
export async function acsOutcome<Me = { user_id: number; email: string; tenant_id: number }>(
  app: FastifyInstance,
  res: { statusCode: number; headers: Record<string, unknown> },
): Promise<{ error: string | null; me?: undefined } | { me: Me; accessToken: string; error?: undefined }> {
  expect(res.statusCode).toBe(302);
  const params = new URL(res.headers.location as string).searchParams;
  const code = params.get('code');
  if (!code) return { error: params.get('error') };
  const tokens = await app.inject({ method: 'POST', url: '/api/v1/sso/token', payload: { code } });
  expect(tokens.statusCode, tokens.body).toBe(200);
  const accessToken = tokens.json().access_token as string;
  const me = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(accessToken) });
  expect(me.statusCode, me.body).toBe(200);
  return { me: me.json() as Me, accessToken };
}
