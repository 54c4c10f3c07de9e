/**
 * Issue 18, items 1, 6 and 12: an SSO flow is bound to the connection (and provider) it was started for, its
 * one-time code to the client that started it, and an IdP-initiated SAML post gets the documented answer.
 * Real HTTP through app.inject, real OpenID providers (oidc-provider on loopback ports: they check client secret,
 * exact redirect_uri, PKCE and nonce, and record every token request), real signed SAML responses.
 */
import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant, type TestTenant, type Tokens, uniq } from '../helpers/factories.js';
import { driveProvider, startProvider, type TestProvider } from '../helpers/oidc-provider.js';
import { buildResponse, makeIdpKeys, parseAuthnRequestUrl, type TestIdpKeys } from '../helpers/saml-idp.js';

const PUBLIC_URL = 'https://api.flow.test';
/** The prefix of every OIDC callback: where driveProvider stops following the provider's redirects. */
const OIDC_CALLBACKS = `${PUBLIC_URL}/api/v1/sso/oidc/callback`;
const CLIENT_REDIRECT = 'https://app-a.example.com/sso/done';
const ATTACKER_REDIRECT = 'https://attacker-b.example.net/sso/done';
const SECRET = 'provider-secret-123';
const UNUSED_URI = 'https://unused.example/cb';
const socialCallback = (p: string) => `${PUBLIC_URL}/api/v1/oauth/${p}/callback`;

let app: FastifyInstance;
/** Tenant A's IdP: sends no RFC 9207 `iss` and does not advertise it (Entra ID, Google). */
let idpA: TestProvider;
/** The IdP of tenant B's admin (the attacker): its token endpoint records what it receives. */
let idpB: TestProvider;
/** An IdP that sends and advertises `iss` (oidc-provider's default, Okta). */
let idpIss: TestProvider;
/** Social login providers: the generic `oidc` one and `google`. */
let socialOidc: TestProvider;
let socialGoogle: TestProvider;
let a: TestTenant;
let b: TestTenant;
let adminA: Tokens;
let adminB: Tokens;

async function newOidcConnection(
  tokens: Tokens,
  provider: TestProvider,
  clientId: string,
  redirectUris = [CLIENT_REDIRECT],
) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/sso/connections',
    headers: bearer(tokens),
    payload: {
      type: 'oidc',
      name: uniq('conn'),
      redirect_uris: redirectUris,
      oidc: { issuer: provider.issuer, client_id: clientId, client_secret: SECRET },
    },
  });
  if (res.statusCode !== 201) throw new Error(res.body);
  const conn = res.json() as { id: string; oidc: { callback_url: string } };
  // What the admin does next: paste the connection's callback_url into the IdP's application.
  provider.allowRedirectUri(clientId, conn.oidc.callback_url);
  return conn;
}

function account(p: TestProvider, email: string): string {
  const id = uniq('acct');
  p.accounts.set(id, { email, email_verified: true, given_name: 'Ida', family_name: 'Victim' });
  return id;
}

async function authorize(tenantId: number, connectionId: string, query: Record<string, string> = {}) {
  const qs = new URLSearchParams({ redirect_uri: CLIENT_REDIRECT, ...query });
  return app.inject({
    method: 'GET',
    url: `/api/v1/sso/connections/${connectionId}/authorize?${qs}`,
    headers: { 'x-tenant-id': String(tenantId) },
  });
}

async function started(tenantId: number, connectionId: string, query: Record<string, string> = {}) {
  const res = await authorize(tenantId, connectionId, query);
  if (res.statusCode !== 200) throw new Error(res.body);
  return res.json() as { auth_url: string; state: string };
}

function redirectedTo(res: { statusCode: number; headers: Record<string, unknown> }, target: string) {
  expect(res.statusCode, String(res.headers.location)).toBe(302);
  const loc = new URL(String(res.headers.location));
  expect(loc.origin + loc.pathname).toBe(target);
  return loc.searchParams;
}

const get = (url: URL | string) =>
  app.inject({ method: 'GET', url: typeof url === 'string' ? url : url.pathname + url.search });

async function auditFailures(tenantId: number, error: string) {
  return app.ctx.database.withTenant(tenantId, async (tx) => {
    const r = await tx.execute<{ resource_id: string | null; reason: string | null }>(sql`
      select resource_id, metadata->>'reason' as reason from audit_log
      where tenant_id = ${tenantId} and event_type = 'sso.login_failed' and success = false
        and metadata->>'error' = ${error}
      order by seq`);
    return r.rows;
  });
}

beforeAll(async () => {
  // Each client's redirect URIs are registered once its connection exists (newOidcConnection).
  const client = (client_id: string) => ({ client_id, client_secret: SECRET, redirect_uri: UNUSED_URI });
  idpA = await startProvider([client('massacorp-a')], { iss: false });
  idpB = await startProvider([client('attacker-b')], { iss: false });
  idpIss = await startProvider([client('massacorp-iss')]);
  socialOidc = await startProvider([
    { client_id: 'mc-oidc', client_secret: SECRET, redirect_uri: socialCallback('oidc') },
  ]);
  socialGoogle = await startProvider([
    { client_id: 'mc-google', client_secret: SECRET, redirect_uri: socialCallback('google') },
  ]);
  app = await createTestApp({
    PUBLIC_URL,
    OAUTH_OIDC_ISSUER: socialOidc.issuer,
    OAUTH_OIDC_CLIENT_ID: 'mc-oidc',
    OAUTH_OIDC_CLIENT_SECRET: SECRET,
    OAUTH_GOOGLE_ISSUER: socialGoogle.issuer,
    OAUTH_GOOGLE_CLIENT_ID: 'mc-google',
    OAUTH_GOOGLE_CLIENT_SECRET: SECRET,
  });
  a = await newTenant(app, { settings: { self_registration: true } });
  b = await newTenant(app);
  adminA = await login(app, a.tenant.id, a.admin.email);
  adminB = await login(app, b.tenant.id, b.admin.email);
});
afterAll(async () => {
  await app?.close();
  for (const p of [idpA, idpB, idpIss, socialOidc, socialGoogle]) await p?.close();
});

describe('issue 18 finding 1: an OIDC response can only reach the connection whose flow it answers', () => {
  /*
   * How this fails on the code before issue 18: every connection's callback_url was the shared
   * PUBLIC_URL/api/v1/sso/oidc/callback, so A's admin registered that URL at idpA and A's auth_url carried it.
   * The victim's code came back there with B's state; the callback picked the connection from the state alone
   * (B's), and handed A's code, with B's client secret and PKCE verifier, to idpB's token endpoint: idpB recorded
   * a token request carrying the victim's code (the `tokenRequests` assertion fails), and the answer was
   * `?error=SSO_IDP_ERROR` from idpB's refusal instead of SSO_STATE_INVALID. The attacker then replays that code
   * with A's state at the shared callback and gets a one-time code for the victim. Now A's auth_url sends the
   * victim to A's own callback, which refuses B's state before any token request.
   */
  it("finding 1 — IdP mix-up: B's flow state swapped into A's auth_url is refused at A's callback with SSO_STATE_INVALID (audited) and the attacker's token endpoint receives nothing", async () => {
    const connA = await newOidcConnection(adminA, idpA, 'massacorp-a');
    // The attacker, admin of B, creates a connection whose token endpoint they control.
    const connB = await newOidcConnection(adminB, idpB, 'attacker-b', [ATTACKER_REDIRECT]);
    // A's genuine auth_url (authorize is public; A's connection id comes from /sso/discover) and a flow of B's.
    const genuineA = await started(a.tenant.id, connA.id);
    const flowB = await started(b.tenant.id, connB.id, { redirect_uri: ATTACKER_REDIRECT });
    const forged = new URL(genuineA.auth_url);
    forged.searchParams.set('state', flowB.state);
    const victim = account(idpA, `${uniq('victim')}@a-corp.example`);
    const tokenRequestsA = idpA.tokenRequests.length;
    const tokenRequestsB = idpB.tokenRequests.length;
    const auditedB = (await auditFailures(b.tenant.id, 'SSO_STATE_INVALID')).length;
    const auditedA = (await auditFailures(a.tenant.id, 'SSO_STATE_INVALID')).length;

    // The victim follows the link and signs in at A's IdP, which sends the code back to A's callback (no iss).
    const cb = await driveProvider(forged.href, victim, OIDC_CALLBACKS);
    expect(cb.searchParams.get('code')).toBeTruthy();
    expect(cb.searchParams.has('iss')).toBe(false);
    expect(cb.searchParams.get('state')).toBe(flowB.state);
    const res = await get(cb);

    // Nothing reached any token endpoint: the code stayed with the browser and us.
    expect(idpB.tokenRequests.slice(tokenRequestsB)).toEqual([]);
    expect(idpA.tokenRequests.slice(tokenRequestsA)).toEqual([]);
    const params = redirectedTo(res, ATTACKER_REDIRECT);
    expect(params.get('error')).toBe('SSO_STATE_INVALID');
    expect(params.get('code')).toBeNull();
    // Audited in the flow's tenant (B), and in the tenant whose callback was used (A).
    const inB = await auditFailures(b.tenant.id, 'SSO_STATE_INVALID');
    expect(inB.length).toBe(auditedB + 1);
    expect(inB.at(-1)!.resource_id).toBe(connB.id);
    const inA = await auditFailures(a.tenant.id, 'SSO_STATE_INVALID');
    expect(inA.length).toBe(auditedA + 1);
    expect(inA.at(-1)!.resource_id).toBe(connA.id);
  });

  it('finding 1 — each OIDC connection has its own callback: callback_url, and the redirect_uri of the authorization and token requests', async () => {
    const conn = await newOidcConnection(adminA, idpA, 'massacorp-a');
    const url = `${PUBLIC_URL}/api/v1/sso/oidc/callback/${conn.id}`;
    expect(conn.oidc.callback_url).toBe(url);
    const read = await app.inject({
      method: 'GET',
      url: `/api/v1/sso/connections/${conn.id}`,
      headers: bearer(adminA),
    });
    expect(read.json().oidc.callback_url).toBe(url);
    const { auth_url } = await started(a.tenant.id, conn.id);
    expect(new URL(auth_url).searchParams.get('redirect_uri')).toBe(url);
    const before = idpA.tokenRequests.length;
    const cb = await driveProvider(auth_url, account(idpA, `${uniq('own')}@a-corp.example`), OIDC_CALLBACKS);
    expect(cb.origin + cb.pathname).toBe(url);
    const code = redirectedTo(await get(cb), CLIENT_REDIRECT).get('code');
    expect(code).toBeTruthy();
    expect(idpA.tokenRequests.slice(before)).toMatchObject([{ redirectUri: url, status: 200 }]);
  });

  it('finding 1 — the shared /sso/oidc/callback is gone: 404, the code is not redeemed and the state not spent', async () => {
    const conn = await newOidcConnection(adminA, idpA, 'massacorp-a');
    const { auth_url } = await started(a.tenant.id, conn.id);
    const cb = await driveProvider(auth_url, account(idpA, `${uniq('old')}@a-corp.example`), OIDC_CALLBACKS);
    const before = idpA.tokenRequests.length;
    for (const path of ['/api/v1/sso/oidc/callback', '/api/v1/sso/oidc/callback/']) {
      const old = await get(`${path}${cb.search}`);
      expect(old.statusCode, old.body).toBe(404);
      expect(old.json().error).toBe('NOT_FOUND');
    }
    // A malformed connection id is a 422, and spends nothing either.
    const malformed = await get(`/api/v1/sso/oidc/callback/not-a-uuid${cb.search}`);
    expect(malformed.statusCode).toBe(422);
    expect(idpA.tokenRequests.length).toBe(before);
    // The flow is still whole: its own callback redeems the code.
    expect(redirectedTo(await get(cb), CLIENT_REDIRECT).get('code')).toBeTruthy();
  });

  it('finding 1 — a callback of another connection of the same tenant refuses the flow (SSO_STATE_INVALID, audited) and spends its state', async () => {
    const c1 = await newOidcConnection(adminA, idpA, 'massacorp-a');
    const c2 = await newOidcConnection(adminA, idpA, 'massacorp-a');
    const flow1 = await started(a.tenant.id, c1.id);
    const cb = await driveProvider(
      flow1.auth_url,
      account(idpA, `${uniq('c2')}@a-corp.example`),
      OIDC_CALLBACKS,
    );
    const before = idpA.tokenRequests.length;
    const audited = (await auditFailures(a.tenant.id, 'SSO_STATE_INVALID')).length;
    const elsewhere = await get(`/api/v1/sso/oidc/callback/${c2.id}${cb.search}`);
    expect(redirectedTo(elsewhere, CLIENT_REDIRECT).get('error')).toBe('SSO_STATE_INVALID');
    const rows = await auditFailures(a.tenant.id, 'SSO_STATE_INVALID');
    expect(rows.length).toBe(audited + 1);
    expect(rows.at(-1)).toMatchObject({ resource_id: c1.id });
    expect(rows.at(-1)!.reason).toContain(c2.id);
    // Single use: the right callback now sees a spent state.
    expect(redirectedTo(await get(cb), CLIENT_REDIRECT).get('error')).toBe('SSO_STATE_INVALID');
    expect(idpA.tokenRequests.length).toBe(before);
  });

  it("finding 1 — RFC 9207: an iss that is not the connection's issuer is refused before any token request", async () => {
    const conn = await newOidcConnection(adminA, idpIss, 'massacorp-iss');
    const { auth_url } = await started(a.tenant.id, conn.id);
    const cb = await driveProvider(
      auth_url,
      account(idpIss, `${uniq('iss')}@a-corp.example`),
      OIDC_CALLBACKS,
    );
    expect(cb.searchParams.get('iss')).toBe(idpIss.issuer);
    const before = idpIss.tokenRequests.length;
    const audited = (await auditFailures(a.tenant.id, 'SSO_ISSUER_MISMATCH')).length;
    const forged = new URL(cb);
    forged.searchParams.set('iss', idpB.issuer);
    expect(redirectedTo(await get(forged), CLIENT_REDIRECT).get('error')).toBe('SSO_ISSUER_MISMATCH');
    expect(idpIss.tokenRequests.length).toBe(before);
    expect((await auditFailures(a.tenant.id, 'SSO_ISSUER_MISMATCH')).length).toBe(audited + 1);
  });

  it('finding 1 — RFC 9207: iss is required when the metadata says authorization_response_iss_parameter_supported; without that, its absence is accepted', async () => {
    const conn = await newOidcConnection(adminA, idpIss, 'massacorp-iss');
    const { auth_url } = await started(a.tenant.id, conn.id);
    const cb = await driveProvider(
      auth_url,
      account(idpIss, `${uniq('noiss')}@a-corp.example`),
      OIDC_CALLBACKS,
    );
    const before = idpIss.tokenRequests.length;
    const stripped = new URL(cb);
    stripped.searchParams.delete('iss');
    expect(redirectedTo(await get(stripped), CLIENT_REDIRECT).get('error')).toBe('SSO_ISSUER_MISMATCH');
    expect(idpIss.tokenRequests.length).toBe(before);
    // idpA advertises nothing and sends no iss (Entra ID, Google): accepted (the sign-in of the test above).
    const meta = await (await fetch(`${idpA.issuer}/.well-known/openid-configuration`)).json();
    expect(meta.authorization_response_iss_parameter_supported).toBeUndefined();
  });

  it("finding 1 — social: a state started for one provider is refused at another provider's callback before any token request", async () => {
    const { auth_url } = await (async () => {
      const res = await app.inject({
        method: 'GET',
        url: '/api/v1/oauth/google/authorize',
        headers: { 'x-tenant-id': String(a.tenant.id) },
      });
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as { auth_url: string; state: string };
    })();
    const cb = await driveProvider(
      auth_url,
      account(socialGoogle, `${uniq('social')}@gmail.example`),
      socialCallback('google'),
    );
    const google = socialGoogle.tokenRequests.length;
    const oidc = socialOidc.tokenRequests.length;
    const audited = (await auditFailures(a.tenant.id, 'SSO_STATE_INVALID')).length;
    const res = await get(`/api/v1/oauth/oidc/callback${cb.search}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('SSO_STATE_INVALID');
    expect(socialGoogle.tokenRequests.length).toBe(google);
    expect(socialOidc.tokenRequests.length).toBe(oidc);
    const rows = await auditFailures(a.tenant.id, 'SSO_STATE_INVALID');
    expect(rows.length).toBe(audited + 1);
    expect(rows.at(-1)).toMatchObject({ resource_id: 'oidc', reason: 'state of another provider' });
    // The state was spent there: google's own callback refuses it too.
    const own = await get(cb);
    expect(own.json().error).toBe('SSO_STATE_INVALID');
    expect(socialGoogle.tokenRequests.length).toBe(google);
  });

  it('issue 23 — one flow store for every protocol: a social state at an enterprise callback, and an enterprise state at a social callback, are refused (400 SSO_STATE_INVALID, audited, spent), never redeemed, never a 500', async () => {
    const conn = await newOidcConnection(adminA, idpA, 'massacorp-a');
    const social = await app.inject({
      method: 'GET',
      url: '/api/v1/oauth/google/authorize',
      headers: { 'x-tenant-id': String(a.tenant.id) },
    });
    expect(social.statusCode, social.body).toBe(200);
    const socialState = (social.json() as { state: string }).state;
    const tokens = idpA.tokenRequests.length + socialGoogle.tokenRequests.length;
    const audited = (await auditFailures(a.tenant.id, 'SSO_STATE_INVALID')).length;
    // A browser at the connection's callback with the social flow's state: that flow has no redirect_uri, so the
    // envelope (not a redirect).
    const atEnterprise = await app.inject({
      method: 'GET',
      url: `/api/v1/sso/oidc/callback/${conn.id}?code=x&state=${encodeURIComponent(socialState)}`,
      headers: { accept: 'text/html' },
    });
    expect([atEnterprise.statusCode, atEnterprise.json().error]).toEqual([400, 'SSO_STATE_INVALID']);
    expect(atEnterprise.headers.location).toBeUndefined();
    // Spent: the provider's own callback refuses it now.
    const socialAfter = await get(
      `/api/v1/oauth/google/callback?code=x&state=${encodeURIComponent(socialState)}`,
    );
    expect([socialAfter.statusCode, socialAfter.json().error]).toEqual([400, 'SSO_STATE_INVALID']);

    const { state } = await started(a.tenant.id, conn.id);
    const atSocial = await get(`/api/v1/oauth/google/callback?code=x&state=${encodeURIComponent(state)}`);
    expect([atSocial.statusCode, atSocial.json().error]).toEqual([400, 'SSO_STATE_INVALID']);
    const enterpriseAfter = await get(
      `/api/v1/sso/oidc/callback/${conn.id}?code=x&state=${encodeURIComponent(state)}`,
    );
    // A replay of a known enterprise flow: answered on its redirect_uri.
    expect(redirectedTo(enterpriseAfter, CLIENT_REDIRECT).get('error')).toBe('SSO_STATE_INVALID');

    expect(idpA.tokenRequests.length + socialGoogle.tokenRequests.length).toBe(tokens);
    const rows = await auditFailures(a.tenant.id, 'SSO_STATE_INVALID');
    expect(rows.length).toBe(audited + 4);
    expect(rows.slice(audited).map((r) => r.resource_id)).toEqual(['google', 'google', conn.id, conn.id]);
  });
});

// ---- finding 6 ----

const pkce = () => {
  const verifier = randomBytes(32).toString('base64url'); // 43 characters of the unreserved set
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

const redeem = (code: string, codeVerifier?: string) =>
  app.inject({
    method: 'POST',
    url: '/api/v1/sso/token',
    payload: { code, ...(codeVerifier !== undefined ? { code_verifier: codeVerifier } : {}) },
  });

/** A full OIDC sign-in at idpA with the client's authorize parameters: the redirect's query. */
async function oidcSignIn(connectionId: string, query: Record<string, string>) {
  const { auth_url } = await started(a.tenant.id, connectionId, query);
  const cb = await driveProvider(auth_url, account(idpA, `${uniq('pkce')}@a-corp.example`), OIDC_CALLBACKS);
  return { cb, params: redirectedTo(await get(cb), CLIENT_REDIRECT) };
}

describe('issue 18 finding 6: the SSO one-time code is bound to whoever started the flow', () => {
  let conn: { id: string };
  beforeAll(async () => {
    conn = await newOidcConnection(adminA, idpA, 'massacorp-a');
  });

  it('finding 6 — login CSRF / leaked code: a code bound by code_challenge is refused without a code_verifier or with a wrong one (SSO_CODE_INVALID, audited) and is spent', async () => {
    const before = (await auditFailures(a.tenant.id, 'SSO_CODE_INVALID')).length;
    for (const attempt of [undefined, pkce().verifier]) {
      const { verifier, challenge } = pkce();
      const { params } = await oidcSignIn(conn.id, {
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      const code = params.get('code')!;
      expect(code).toBeTruthy();
      // Whoever holds the leaked code (or planted it in a victim's browser) lacks the verifier.
      const stolen = await redeem(code, attempt);
      expect(stolen.statusCode, stolen.body).toBe(400);
      expect(stolen.json().error).toBe('SSO_CODE_INVALID');
      expect(stolen.json().access_token).toBeUndefined();
      // The code is spent: even the rightful client cannot use it now.
      const late = await redeem(code, verifier);
      expect(late.statusCode).toBe(400);
      expect(late.json().error).toBe('SSO_CODE_INVALID');
    }
    const rows = await auditFailures(a.tenant.id, 'SSO_CODE_INVALID');
    expect(rows.slice(before).map((r) => r.reason)).toEqual([
      'code_verifier missing',
      'code_verifier mismatch',
    ]);
    // The client that started the flow redeems its code with its verifier.
    const { verifier, challenge } = pkce();
    const { params } = await oidcSignIn(conn.id, {
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const ok = await redeem(params.get('code')!, verifier);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().access_token).toBeTruthy();
  });

  it('finding 6 — a code_verifier for a code whose flow had no code_challenge is refused (no PKCE downgrade)', async () => {
    const { params } = await oidcSignIn(conn.id, {});
    const res = await redeem(params.get('code')!, pkce().verifier);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('SSO_CODE_INVALID');
    const rows = await auditFailures(a.tenant.id, 'SSO_CODE_INVALID');
    expect(rows.at(-1)!.reason).toBe('code_verifier without code_challenge');
    // Without either, as before issue 18: the code alone works.
    const plain = await oidcSignIn(conn.id, {});
    expect((await redeem(plain.params.get('code')!)).statusCode).toBe(200);
  });

  it("finding 6 — the client's state is echoed with code, and with error on a failed callback, never on a replay", async () => {
    const clientState = 'csrf-Token_1.2~3 {"return":"/home"}';
    const ok = await oidcSignIn(conn.id, { state: clientState });
    expect(ok.params.get('code')).toBeTruthy();
    expect(ok.params.get('state')).toBe(clientState);
    // The authorize response's `state` is still the flow's own (at the IdP), not the client's.
    const flow = await started(a.tenant.id, conn.id, { state: clientState });
    expect(flow.state).not.toBe(clientState);
    expect(new URL(flow.auth_url).searchParams.get('state')).toBe(flow.state);
    // A failed callback (the IdP refused the code) carries the client's state next to the error.
    const cb = await driveProvider(
      flow.auth_url,
      account(idpA, `${uniq('st')}@a-corp.example`),
      OIDC_CALLBACKS,
    );
    const bad = new URL(cb);
    bad.searchParams.set('code', 'not-a-code-the-idp-issued');
    const failed = redirectedTo(await get(bad), CLIENT_REDIRECT);
    expect(failed.get('error')).toBeTruthy();
    expect(failed.get('code')).toBeNull();
    expect(failed.get('state')).toBe(clientState);
    // A replay of that callback is refused without the client's state (whoever replays never learns it).
    const replay = redirectedTo(await get(cb), CLIENT_REDIRECT);
    expect(replay.get('error')).toBe('SSO_STATE_INVALID');
    expect(replay.has('state')).toBe(false);
    // JSON clients get it in the body.
    const j = await started(a.tenant.id, conn.id, { state: 'json-state' });
    const jcb = await driveProvider(
      j.auth_url,
      account(idpA, `${uniq('js')}@a-corp.example`),
      OIDC_CALLBACKS,
    );
    const json = await app.inject({
      method: 'GET',
      url: jcb.pathname + jcb.search,
      headers: { accept: 'application/json' },
    });
    expect(json.statusCode, json.body).toBe(200);
    expect(json.json()).toMatchObject({ redirect_uri: CLIENT_REDIRECT, state: 'json-state' });
  });

  it('finding 6 — authorize validates state, code_challenge and code_challenge_method (only S256): 422 in the envelope, never 500, no flow started', async () => {
    const { challenge } = pkce();
    const cases: [Record<string, string> | string, string][] = [
      [{ code_challenge: challenge, code_challenge_method: 'plain' }, 'code_challenge_method'],
      [{ code_challenge: challenge, code_challenge_method: 's256' }, 'code_challenge_method'],
      [{ code_challenge: challenge }, 'code_challenge_method'],
      [{ code_challenge_method: 'S256' }, 'code_challenge'],
      [{ code_challenge: challenge.slice(1), code_challenge_method: 'S256' }, 'code_challenge'],
      [{ code_challenge: `${challenge.slice(1)}=`, code_challenge_method: 'S256' }, 'code_challenge'],
      [{ code_challenge: `${challenge.slice(1)}+`, code_challenge_method: 'S256' }, 'code_challenge'],
      [{ state: '' }, 'state'],
      [{ state: 'x'.repeat(513) }, 'state'],
      [{ state: 'line\nbreak' }, 'state'],
      [{ state: 'caf\u00e9' }, 'state'],
      ['state=a&state=b', 'state'],
    ];
    for (const [query, field] of cases) {
      const qs =
        typeof query === 'string'
          ? `redirect_uri=${encodeURIComponent(CLIENT_REDIRECT)}&${query}`
          : new URLSearchParams({ redirect_uri: CLIENT_REDIRECT, ...query }).toString();
      const res = await app.inject({
        method: 'GET',
        url: `/api/v1/sso/connections/${conn.id}/authorize?${qs}`,
        headers: { 'x-tenant-id': String(a.tenant.id) },
      });
      expect(res.statusCode, `${qs}: ${res.body}`).toBe(422);
      expect(res.json().error).toBe('VALIDATION_ERROR');
      expect(res.json().request_id).toBeTruthy();
      const fields = (res.json().details.errors as { field: string }[]).map((e) => e.field);
      expect(fields, qs).toContain(`querystring.${field}`);
    }
    // At the limits: accepted.
    const ok = await authorize(a.tenant.id, conn.id, {
      state: '~'.repeat(512),
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('finding 6 — /sso/token validates code_verifier (43 to 128 of [A-Za-z0-9-._~]): 422, and the code is not spent by a malformed one', async () => {
    const verifier = `${randomBytes(96).toString('base64url')}-._~`.slice(0, 128);
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const { params } = await oidcSignIn(conn.id, {
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const code = params.get('code')!;
    for (const bad of [
      'a'.repeat(42),
      'a'.repeat(129),
      `${'a'.repeat(42)}+`,
      `${'a'.repeat(42)}/`,
      `${'a'.repeat(43)} `,
    ]) {
      const res = await redeem(code, bad);
      expect(res.statusCode, bad).toBe(422);
      expect(res.json().error).toBe('VALIDATION_ERROR');
      expect(res.json().details.errors[0].field).toBe('body.code_verifier');
    }
    const res = await redeem(code, verifier);
    expect(res.statusCode, res.body).toBe(200);
  });

  it('finding 6 — SAML connections take the same client state and code_challenge (authorize is shared)', async () => {
    const keys = await makeIdpKeys('flow-idp.example');
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/sso/connections',
      headers: bearer(adminA),
      payload: {
        type: 'saml',
        name: uniq('saml'),
        redirect_uris: [CLIENT_REDIRECT],
        saml: { idp_entity_id: IDP_ENTITY, idp_sso_url: IDP_SSO, idp_certificate: keys.certificate },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const samlConn = created.json() as { id: string; saml: { acs_url: string; metadata_url: string } };
    const signIn = async (query: Record<string, string>) => {
      const flow = await started(a.tenant.id, samlConn.id, query);
      const request = parseAuthnRequestUrl(flow.auth_url);
      const response = buildResponse(keys, {
        issuer: IDP_ENTITY,
        audience: samlConn.saml.metadata_url,
        acsUrl: samlConn.saml.acs_url,
        inResponseTo: request.id,
        nameId: `${uniq('saml')}@a-corp.example`,
      });
      return redirectedTo(await postAcs(response, flow.state), CLIENT_REDIRECT);
    };
    const { verifier, challenge } = pkce();
    const bound = await signIn({
      state: 'saml-client',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    expect(bound.get('state')).toBe('saml-client');
    const without = await signIn({ code_challenge: pkce().challenge, code_challenge_method: 'S256' });
    expect((await redeem(without.get('code')!)).json().error).toBe('SSO_CODE_INVALID');
    const ok = await redeem(bound.get('code')!, verifier);
    expect(ok.statusCode, ok.body).toBe(200);
  });
});

// ---- finding 12 ----

const IDP_ENTITY = 'http://www.okta.com/exk-flow-binding';
const IDP_SSO = 'https://idp.example.com/app/sso/saml';

function postAcs(samlResponse: string, relayState: string | undefined, headers: Record<string, string> = {}) {
  const form = new URLSearchParams({
    SAMLResponse: samlResponse,
    ...(relayState !== undefined ? { RelayState: relayState } : {}),
  });
  return app.inject({
    method: 'POST',
    url: '/api/v1/sso/saml/acs',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: form.toString(),
  });
}

describe('issue 18 finding 12: an IdP-initiated SAML post gets the documented answer', () => {
  const BROWSER_ACCEPT =
    'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
  let keys: TestIdpKeys;
  let samlConn: { id: string; saml: { acs_url: string; metadata_url: string } };
  beforeAll(async () => {
    keys = await makeIdpKeys('idp-initiated.example');
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/sso/connections',
      headers: bearer(adminA),
      payload: {
        type: 'saml',
        name: uniq('saml'),
        redirect_uris: [CLIENT_REDIRECT],
        saml: { idp_entity_id: IDP_ENTITY, idp_sso_url: IDP_SSO, idp_certificate: keys.certificate },
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    samlConn = res.json();
  });

  const idpInitiated = (email: string) =>
    buildResponse(keys, {
      issuer: IDP_ENTITY,
      audience: samlConn.saml.metadata_url,
      acsUrl: samlConn.saml.acs_url,
      inResponseTo: null,
      nameId: email,
    });

  async function users(email: string) {
    return app.ctx.database.withTenant(a.tenant.id, async (tx) => {
      const r = await tx.execute<{ n: string }>(
        sql`select count(*)::text as n from users where tenant_id = ${a.tenant.id} and email = ${email}`,
      );
      return Number(r.rows[0]!.n);
    });
  }

  it('finding 12 — a real IdP-initiated post (form, signed, no InResponseTo, no RelayState, browser Accept) answers 400 SAML_IN_RESPONSE_TO_MISSING in the envelope, nobody signed in', async () => {
    const email = `${uniq('tile')}@a-corp.example`;
    const response = idpInitiated(email);
    expect(Buffer.from(response, 'base64').toString()).not.toContain('InResponseTo');
    const res = await postAcs(response, undefined, { accept: BROWSER_ACCEPT });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers.location).toBeUndefined();
    expect(res.json()).toMatchObject({ error: 'SAML_IN_RESPONSE_TO_MISSING' });
    expect(res.json().request_id).toBeTruthy();
    expect(await users(email)).toBe(0);
  });

  it("finding 12 — the same with a RelayState the IdP was configured with (no live flow): SAML_IN_RESPONSE_TO_MISSING; a response answering a request we don't know stays SAML_UNKNOWN_REQUEST", async () => {
    const email = `${uniq('relay')}@a-corp.example`;
    const res = await postAcs(idpInitiated(email), 'https://app-a.example.com/home', {
      accept: BROWSER_ACCEPT,
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error).toBe('SAML_IN_RESPONSE_TO_MISSING');
    expect(await users(email)).toBe(0);
    const unknown = buildResponse(keys, {
      issuer: IDP_ENTITY,
      audience: samlConn.saml.metadata_url,
      acsUrl: samlConn.saml.acs_url,
      inResponseTo: '_0123456789abcdef0123456789abcdef01234567',
    });
    const other = await postAcs(unknown, undefined, { accept: BROWSER_ACCEPT });
    expect(other.statusCode).toBe(401);
    expect(other.json().error).toBe('SAML_UNKNOWN_REQUEST');
    // Not a SAML response at all, without a flow: SAML_RESPONSE_INVALID.
    const junk = await postAcs(Buffer.from('<html/>').toString('base64'), undefined);
    expect(junk.statusCode).toBe(400);
    expect(junk.json().error).toBe('SAML_RESPONSE_INVALID');
  });
});
