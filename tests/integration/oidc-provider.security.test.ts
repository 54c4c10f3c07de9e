/**
 * Issue 21, the classic OpenID Provider failures, each a test against the real provider on a loopback port (both
 * backends): redirect_uri variants, code replay (and the grant it revokes), PKCE downgrade, `alg: none` request
 * objects, mix-up between tenants' issuers, refresh-token reuse, cross-tenant sign-in, races on one code, and
 * what ends a user's or a client's grants at once.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newUser, PASSWORD } from '../helpers/factories.js';
import {
  codeThroughConsole,
  freePort,
  OpBrowser,
  type OpTenant,
  opTenant,
  RP_CALLBACK,
  registerClient,
  webClient,
} from '../helpers/op-browser.js';

let app: FastifyInstance;
let base: string;
let a: OpTenant;
let b: OpTenant;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  app = await createTestApp({ PUBLIC_URL: base });
  await app.listen({ port, host: '127.0.0.1' });
  // A loopback redirect (a native app: any port, RFC 8252 §7.3) and an https one (exact, port included).
  a = await opTenant(
    app,
    base,
    webClient({ first_party: true, redirect_uris: [RP_CALLBACK, 'https://rp.example/cb'] }),
  );
  b = await opTenant(app, base, webClient({ first_party: true }));
});
afterAll(async () => {
  await app?.close();
});

const challengeOf = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

/** An authorization request at an issuer's endpoint, as a browser would send it (no redirect followed). */
function authorize(op: OpTenant, params: Record<string, string>, issuer = op.issuer) {
  const q = new URLSearchParams({
    client_id: op.client.client_id,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: RP_CALLBACK,
    state: 's1',
    code_challenge: challengeOf('v'.repeat(43)),
    code_challenge_method: 'S256',
    ...params,
  });
  return fetch(`${issuer}/auth?${q}`, { redirect: 'manual' });
}

/** A signed-in user of tenant `op` with a code, its verifier, and the tokens of one exchange. */
async function signedIn(op: OpTenant, scope = 'openid email offline_access') {
  const user = await newUser(app, op.t.tenant.id);
  // offline_access needs prompt=consent (OpenID Connect Core §11); a first-party client is not asked anyway.
  const flow = await codeThroughConsole(
    app,
    base,
    op,
    { tenantId: op.t.tenant.id, email: user.email },
    { scope, extra: { prompt: 'consent' } },
  );
  return { user, ...flow };
}

async function exchange(op: OpTenant, flow: { callback: URL; verifier: string; state: string }) {
  return oidc.authorizationCodeGrant(op.config, flow.callback, {
    pkceCodeVerifier: flow.verifier,
    expectedState: flow.state,
  });
}

/** The token endpoint with the client's own credentials (client_secret_basic), raw. */
function tokenRequest(op: OpTenant, body: Record<string, string>, issuer = op.issuer) {
  const basic = Buffer.from(`${op.client.client_id}:${op.client.client_secret}`).toString('base64');
  return fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body).toString(),
  });
}

describe('issue 21: redirect_uri is matched exactly', () => {
  it.each([
    ['a trailing slash', `${RP_CALLBACK}/`],
    ['an extra query', `${RP_CALLBACK}?next=/admin`],
    ['another port of an https redirect', 'https://rp.example:8443/cb'],
    ['http instead of https', 'http://rp.example/cb'],
    ['https instead of http', 'https://127.0.0.1:9/cb'],
    ['another host', 'http://evil.example/cb'],
    ['a path prefix', 'http://127.0.0.1:9/cb/../evil'],
    ['another letter case', 'http://127.0.0.1:9/CB'],
  ])('%s is refused on the provider page, never redirected to', async (_name, redirect) => {
    const res = await authorize(a, { redirect_uri: redirect });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('redirect_uri');
  });
});

describe('issue 21: codes', () => {
  it('a replayed code is refused and revokes what the first exchange issued', async () => {
    const flow = await signedIn(a);
    const tokens = await exchange(a, flow);
    const code = flow.callback.searchParams.get('code')!;
    const replay = await tokenRequest(a, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: RP_CALLBACK,
      code_verifier: flow.verifier,
    });
    expect(replay.status).toBe(400);
    expect((await replay.json()).error).toBe('invalid_grant');
    // The grant is gone: the first exchange's refresh token and access token stop.
    await expect(oidc.refreshTokenGrant(a.config, tokens.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    const info = await fetch(`${a.issuer}/me`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(info.status).toBe(401);
  });

  it('two exchanges of one code racing: exactly one gets tokens', async () => {
    const flow = await signedIn(a);
    const body = {
      grant_type: 'authorization_code',
      code: flow.callback.searchParams.get('code')!,
      redirect_uri: RP_CALLBACK,
      code_verifier: flow.verifier,
    };
    const results = await Promise.all([tokenRequest(a, body), tokenRequest(a, body), tokenRequest(a, body)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 400, 400]);
  });

  it("a code of tenant A's issuer is worthless at tenant B's (mix-up), and the response names its issuer (RFC 9207)", async () => {
    const flow = await signedIn(a);
    expect(flow.callback.searchParams.get('iss')).toBe(a.issuer);
    const body = {
      grant_type: 'authorization_code',
      code: flow.callback.searchParams.get('code')!,
      redirect_uri: RP_CALLBACK,
      code_verifier: flow.verifier,
    };
    // A's client credentials at B's token endpoint: B has no such client.
    const atB = await tokenRequest(a, body, b.issuer);
    expect(atB.status).toBe(401);
    expect((await atB.json()).error).toBe('invalid_client');
    // B's own client cannot redeem A's code either.
    const asB = await tokenRequest(b, body);
    expect(asB.status).toBe(400);
    expect((await asB.json()).error).toBe('invalid_grant');
    // A's client at B's authorization endpoint is unknown there.
    const auth = await authorize(a, {}, b.issuer);
    expect(auth.status).toBe(400);
    expect(auth.headers.get('location')).toBeNull();
  });
});

describe('issue 21: PKCE cannot be downgraded', () => {
  it('a public client without a challenge, or with the plain method, is refused', async () => {
    const pub = await opTenant(
      app,
      base,
      webClient({ type: 'public', token_endpoint_auth_method: 'none', first_party: true }),
    );
    const none = await authorize(pub, { code_challenge: '', code_challenge_method: '' });
    const noneAt = new URL(none.headers.get('location')!);
    expect(noneAt.searchParams.get('error')).toBe('invalid_request');
    const plain = await authorize(pub, { code_challenge: 'v'.repeat(43), code_challenge_method: 'plain' });
    const plainAt = new URL(plain.headers.get('location')!);
    expect(plainAt.searchParams.get('error')).toBe('invalid_request');
  });

  it('a code bound to a challenge is refused without its verifier or with another', async () => {
    const flow = await signedIn(a);
    const code = flow.callback.searchParams.get('code')!;
    const without = await tokenRequest(a, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: RP_CALLBACK,
    });
    expect(without.status).toBe(400);
    expect((await without.json()).error).toBe('invalid_grant');
    // The failed attempt does not consume the code's protection: another verifier fails too.
    const flow2 = await signedIn(a);
    const other = await tokenRequest(a, {
      grant_type: 'authorization_code',
      code: flow2.callback.searchParams.get('code')!,
      redirect_uri: RP_CALLBACK,
      code_verifier: 'x'.repeat(43),
    });
    expect(other.status).toBe(400);
    expect((await other.json()).error).toBe('invalid_grant');
  });
});

describe('issue 21: request objects', () => {
  it('an unsigned request object (alg: none) is refused', async () => {
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const request = `${enc({ alg: 'none', typ: 'JWT' })}.${enc({
      iss: a.client.client_id,
      aud: a.issuer,
      client_id: a.client.client_id,
      response_type: 'code',
      redirect_uri: RP_CALLBACK,
      scope: 'openid',
      code_challenge: challengeOf('v'.repeat(43)),
      code_challenge_method: 'S256',
    })}.`;
    const res = await authorize(a, { request });
    const at = new URL(res.headers.get('location')!);
    // Request objects are not offered at all (discovery says so), so no unsigned one can get through.
    expect(at.searchParams.get('error')).toBe('request_not_supported');
    expect(a.config.serverMetadata().request_parameter_supported ?? false).toBe(false);
  });
});

describe('issue 21: a user of another tenant', () => {
  it("cannot sign in to tenant A's client with a tenant B session", async () => {
    const outsider = await newUser(app, b.t.tenant.id);
    const url = oidc.buildAuthorizationUrl(a.config, {
      redirect_uri: RP_CALLBACK,
      scope: 'openid',
      code_challenge: challengeOf('v'.repeat(43)),
      code_challenge_method: 'S256',
    });
    const browser = new OpBrowser(base);
    const step = await browser.follow(url.href, (u) => u.pathname === '/admin/authorize');
    const uid = step.url.searchParams.get('uid')!;
    const token = (await login(app, b.t.tenant.id, outsider.email)).access_token;
    const res = await browser.fetch(`/oidc/${a.t.tenant.slug}/interaction/${uid}/login`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(403);
    expect((await res.json()).error).toBe('OIDC_WRONG_TENANT');
    // Another browser (no interaction cookie) cannot complete it either.
    const mine = (await login(app, a.t.tenant.id, a.t.admin.email)).access_token;
    const stranger = await new OpBrowser(base).fetch(`/oidc/${a.t.tenant.slug}/interaction/${uid}/login`, {
      method: 'POST',
      headers: { authorization: `Bearer ${mine}` },
    });
    expect(stranger.status).toBe(404);
    expect((await stranger.json()).error).toBe('INTERACTION_EXPIRED');
  });
});

describe('issue 21: what ends grants at once', () => {
  it('deactivating the user ends their refresh tokens and access tokens', async () => {
    const flow = await signedIn(a);
    const tokens = await exchange(a, flow);
    const res = await app.inject({
      method: 'POST',
      url: `/api/v1/users/${flow.user.id}/deactivate`,
      headers: bearer(a.admin),
    });
    expect(res.statusCode, res.body).toBe(200);
    await expect(oidc.refreshTokenGrant(a.config, tokens.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    const info = await fetch(`${a.issuer}/me`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(info.status).toBe(401);
  });

  it('disabling the client ends its refresh tokens; introspection then says inactive', async () => {
    const op = await opTenant(app, base, webClient({ first_party: true }));
    const flow = await signedIn(op);
    const tokens = await exchange(op, flow);
    const active = await oidc.tokenIntrospection(op.config, tokens.refresh_token!);
    expect(active.active).toBe(true);
    const res = await app.inject({
      method: 'PATCH',
      url: `/api/v1/oidc/clients/${op.client.id}`,
      headers: bearer(op.admin),
      payload: { enabled: false },
    });
    expect(res.statusCode, res.body).toBe(200);
    await expect(oidc.refreshTokenGrant(op.config, tokens.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_client',
    });
  });

  it('revocation (RFC 7009) of a refresh token ends it', async () => {
    const flow = await signedIn(a);
    const tokens = await exchange(a, flow);
    await oidc.tokenRevocation(a.config, tokens.refresh_token!);
    const after = await oidc.tokenIntrospection(a.config, tokens.refresh_token!);
    expect(after.active).toBe(false);
    await expect(oidc.refreshTokenGrant(a.config, tokens.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });
});

describe('issue 21: a client sees only its own tokens', () => {
  it("introspecting or revoking another client's token of the same tenant is refused", async () => {
    const flow = await signedIn(a);
    const tokens = await exchange(a, flow);
    const other = await registerClient(app, a.admin, webClient({ first_party: true }));
    const otherConfig = await oidc.discovery(
      new URL(a.issuer),
      other.client_id,
      other.client_secret!,
      undefined,
      {
        execute: [oidc.allowInsecureRequests],
      },
    );
    const seen = await oidc.tokenIntrospection(otherConfig, tokens.refresh_token!);
    expect(seen.active).toBe(false);
    await expect(oidc.tokenRevocation(otherConfig, tokens.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_request',
    });
    expect((await oidc.tokenIntrospection(a.config, tokens.refresh_token!)).active).toBe(true);
  });
});

describe('issue 21: prompt=login wants a sign-in made now', () => {
  it('an older session is refused at the hand-over; a fresh sign-in is taken', async () => {
    const user = await newUser(app, a.t.tenant.id);
    const old = (await login(app, a.t.tenant.id, user.email)).access_token;
    await new Promise((r) => setTimeout(r, 6000)); // past the 5 s skew the check allows
    const url = oidc.buildAuthorizationUrl(a.config, {
      redirect_uri: RP_CALLBACK,
      scope: 'openid',
      prompt: 'login',
      code_challenge: challengeOf('v'.repeat(43)),
      code_challenge_method: 'S256',
    });
    const browser = new OpBrowser(base);
    const step = await browser.follow(url.href, (u) => u.pathname === '/admin/authorize');
    const path = `/oidc/${a.t.tenant.slug}/interaction/${step.url.searchParams.get('uid')}`;
    const details = await (await browser.fetch(`${path}/details`)).json();
    expect(details).toMatchObject({ prompt: 'login', fresh_login_required: true });
    const stale = await browser.fetch(`${path}/login`, {
      method: 'POST',
      headers: { authorization: `Bearer ${old}` },
    });
    expect(stale.status).toBe(409);
    expect((await stale.json()).error).toBe('OIDC_FRESH_SIGN_IN_REQUIRED');
    const fresh = (await login(app, a.t.tenant.id, user.email)).access_token;
    const ok = await browser.fetch(`${path}/login`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fresh}` },
    });
    expect(ok.status).toBe(200);
  }, 30_000);
});

describe('issue 21: consent', () => {
  it('a first-party confidential client skips it, even with a loopback redirect; a public native client is asked', async () => {
    const user = await newUser(app, a.t.tenant.id);
    const confidential = await codeThroughConsole(app, base, a, {
      tenantId: a.t.tenant.id,
      email: user.email,
    });
    expect(confidential.seen.map((d) => d.prompt)).toEqual(['login']);
    const pub = await opTenant(
      app,
      base,
      webClient({ type: 'public', token_endpoint_auth_method: 'none', first_party: true }),
    );
    const member = await newUser(app, pub.t.tenant.id);
    const native = await codeThroughConsole(app, base, pub, {
      tenantId: pub.t.tenant.id,
      email: member.email,
    });
    expect(native.seen.map((d) => d.prompt)).toEqual(['login', 'consent']);
  });
});

describe('issue 21: more of what ends grants at once', () => {
  it('deleting the client ends its refresh tokens', async () => {
    const op = await opTenant(app, base, webClient({ first_party: true }));
    const tokens = await exchange(op, await signedIn(op));
    const res = await app.inject({
      method: 'DELETE',
      url: `/api/v1/oidc/clients/${op.client.id}`,
      headers: bearer(op.admin),
    });
    expect(res.statusCode, res.body).toBe(200);
    await expect(oidc.refreshTokenGrant(op.config, tokens.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_client',
    });
  });

  it("the user's password change ends their refresh tokens", async () => {
    const flow = await signedIn(a);
    const tokens = await exchange(a, flow);
    const own = await login(app, a.t.tenant.id, flow.user.email);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/change-password',
      headers: bearer(own),
      payload: { current_password: PASSWORD, new_password: 'An0ther-Correct-Horse-77' },
    });
    expect(res.statusCode, res.body).toBe(200);
    await expect(oidc.refreshTokenGrant(a.config, tokens.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('interaction answers are not cached', async () => {
    const url = oidc.buildAuthorizationUrl(a.config, {
      redirect_uri: RP_CALLBACK,
      scope: 'openid',
      code_challenge: challengeOf('v'.repeat(43)),
      code_challenge_method: 'S256',
    });
    const browser = new OpBrowser(base);
    const step = await browser.follow(url.href, (u) => u.pathname === '/admin/authorize');
    const res = await browser.fetch(
      `/oidc/${a.t.tenant.slug}/interaction/${step.url.searchParams.get('uid')}/details`,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toContain('no-store');
  });
});
