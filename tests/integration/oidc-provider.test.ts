/**
 * Issue 21: each tenant is an OpenID Provider at PUBLIC_URL/oidc/{slug}. An off-the-shelf relying party
 * (openid-client, the certified RP library) signs a user in with code + PKCE through the console's interaction
 * endpoints, refreshes (rotation, reuse detection), reads userinfo, introspects, revokes and logs out; services get
 * client-credentials tokens. Real HTTP on a loopback port, both backends.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newUser } from '../helpers/factories.js';
import { codeThroughConsole, freePort, opTenant, RP_LOGGED_OUT, webClient } from '../helpers/op-browser.js';

let app: FastifyInstance;
let base: string;
const setup = () => opTenant(app, base);

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  app = await createTestApp({ PUBLIC_URL: base });
  await app.listen({ port, host: '127.0.0.1' });
});
afterAll(async () => {
  await app?.close();
});

describe('issue 21: the tenant OpenID Provider with openid-client', () => {
  it('publishes discovery and JWKS at the tenant issuer (RS256 first)', async () => {
    const s = await setup();
    const meta = s.config.serverMetadata();
    expect(meta.issuer).toBe(s.issuer);
    expect(meta.id_token_signing_alg_values_supported).toContain('RS256');
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    const jwks = await (await fetch(meta.jwks_uri!)).json();
    expect(jwks.keys[0].alg).toBe('RS256');
    expect(jwks.keys.every((k: Record<string, unknown>) => !('d' in k))).toBe(true);
  });

  it('code + PKCE: sign in, ID token claims, userinfo, refresh with rotation, reuse revokes, logout', async () => {
    const s = await setup();
    const user = await newUser(app, s.t.tenant.id);
    const { callback, verifier, state, browser } = await codeThroughConsole(
      app,
      base,
      s,
      {
        tenantId: s.t.tenant.id,
        email: user.email,
      },
      { extra: { prompt: 'consent' } },
    );
    const tokens = await oidc.authorizationCodeGrant(s.config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    const claims = tokens.claims()!;
    expect(claims.iss).toBe(s.issuer);
    expect(claims.sub).toBe(String(user.id));
    expect(claims.amr).toEqual(['pwd']);
    expect(typeof claims.auth_time).toBe('number');
    const info = await oidc.fetchUserInfo(s.config, tokens.access_token, claims.sub);
    expect(info).toMatchObject({
      sub: String(user.id),
      email: user.email,
      given_name: 'Test',
      family_name: 'User',
      name: 'Test User',
      roles: expect.any(Array),
    });
    // Refresh: a new refresh token; the old one, reused, revokes the whole grant.
    const first = tokens.refresh_token!;
    const refreshed = await oidc.refreshTokenGrant(s.config, first);
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(first);
    await expect(oidc.refreshTokenGrant(s.config, first)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.refreshTokenGrant(s.config, refreshed.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    // RP-initiated logout: the confirmation page, then the registered post-logout URI.
    const end = oidc.buildEndSessionUrl(s.config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: 'http://127.0.0.1:9/bye',
      state: 'bye-state',
    });
    const page = await browser.fetch(end.href);
    expect(page.status).toBe(200);
    const html = await page.text();
    const action = /action="([^"]+)"/.exec(html)![1]!;
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
    const confirmed = await browser.fetch(action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf, logout: 'yes' }).toString(),
    });
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.get('location')).toBe('http://127.0.0.1:9/bye?state=bye-state');
  });

  it("ending all of the user's sessions ends their applications' grants; every step is in the audit trail", async () => {
    const s = await setup();
    const user = await newUser(app, s.t.tenant.id);
    const flow = await codeThroughConsole(
      app,
      base,
      s,
      { tenantId: s.t.tenant.id, email: user.email },
      { extra: { prompt: 'consent' } },
    );
    const tokens = await oidc.authorizationCodeGrant(s.config, flow.callback, {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
    });
    const renewed = await oidc.refreshTokenGrant(s.config, tokens.refresh_token!);
    // The user signs out everywhere from a console session of theirs.
    const own = await login(app, s.t.tenant.id, user.email);
    const ended = await app.inject({ method: 'DELETE', url: '/api/v1/sessions', headers: bearer(own) });
    expect(ended.statusCode, ended.body).toBe(200);
    await expect(oidc.refreshTokenGrant(s.config, renewed.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    const audit = await app.inject({
      method: 'GET',
      url: '/api/v1/audit/logs?resource_type=oidc_client&limit=100',
      headers: bearer(s.admin),
    });
    expect(audit.statusCode, audit.body).toBe(200);
    const events = (audit.json().logs ?? audit.json().items ?? audit.json()) as { event_type: string }[];
    const types = new Set(events.map((e) => e.event_type));
    for (const t of ['oidc.sign_in', 'oidc.consent_granted', 'oidc.token_issued', 'oidc.token_refused'])
      expect(types, t).toContain(t);
  });

  it('back-channel logout: the application receives a signed logout token naming the user and the session', async () => {
    const received: string[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(new URLSearchParams(body).get('logout_token') ?? '');
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const bcl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/backchannel`;
    try {
      const s = await opTenant(app, base, webClient({ backchannel_logout_uri: bcl }));
      const user = await newUser(app, s.t.tenant.id);
      const flow = await codeThroughConsole(app, base, s, { tenantId: s.t.tenant.id, email: user.email });
      const tokens = await oidc.authorizationCodeGrant(s.config, flow.callback, {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
      });
      const sid = tokens.claims()!.sid;
      expect(typeof sid).toBe('string');
      const end = oidc.buildEndSessionUrl(s.config, {
        id_token_hint: tokens.id_token!,
        post_logout_redirect_uri: RP_LOGGED_OUT,
      });
      const html = await (await flow.browser.fetch(end.href)).text();
      const confirmed = await flow.browser.fetch(/action="([^"]+)"/.exec(html)![1]!, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          xsrf: /name="xsrf" value="([^"]+)"/.exec(html)![1]!,
          logout: 'yes',
        }).toString(),
      });
      expect(confirmed.status).toBe(303);
      await expect.poll(() => received.length, { timeout: 10_000 }).toBe(1);
      const jwks = createRemoteJWKSet(new URL(s.config.serverMetadata().jwks_uri!));
      const { payload } = await jwtVerify(received[0]!, jwks, {
        issuer: s.issuer,
        audience: s.client.client_id,
        typ: 'logout+jwt',
      });
      expect(payload.sub).toBe(String(user.id));
      expect(payload.sid).toBe(sid);
      expect(payload.events).toEqual({ 'http://schemas.openid.net/event/backchannel-logout': {} });
    } finally {
      receiver.close();
    }
  });

  it('a back-channel logout URI is refused for a client that signs nobody in, or when it is not a URL', async () => {
    const s = await setup();
    for (const [body, field] of [
      [{ ...webClient(), backchannel_logout_uri: 'javascript:alert(1)' }, 'body.backchannel_logout_uri'],
      [
        {
          name: 'svc',
          type: 'confidential',
          grant_types: ['client_credentials'],
          allowed_scopes: [],
          backchannel_logout_uri: 'https://svc.example/bcl',
        },
        'body.backchannel_logout_uri',
      ],
    ] as const) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/oidc/clients',
        headers: bearer(s.admin),
        payload: body,
      });
      expect(res.statusCode, res.body).toBe(422);
      expect(res.body).toContain(field);
    }
  });

  it('GDPR: the export lists the applications the user signed in to; erasure ends their grants', async () => {
    const s = await setup();
    const user = await newUser(app, s.t.tenant.id);
    const flow = await codeThroughConsole(
      app,
      base,
      s,
      { tenantId: s.t.tenant.id, email: user.email },
      { extra: { prompt: 'consent' } },
    );
    const tokens = await oidc.authorizationCodeGrant(s.config, flow.callback, {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
    });
    const exported = await app.inject({
      method: 'GET',
      url: `/api/v1/gdpr/export/${user.id}`,
      headers: bearer(s.admin),
    });
    expect(exported.statusCode, exported.body).toBe(200);
    const grants = exported.json().oidc_grants as { client_id: string; scopes: string[] }[];
    expect(grants).toEqual([expect.objectContaining({ client_id: s.client.client_id })]);
    expect(grants[0]!.scopes).toEqual(expect.arrayContaining(['openid', 'email']));
    expect(exported.body).not.toContain(tokens.refresh_token!);
    const erased = await app.inject({
      method: 'DELETE',
      url: '/api/v1/gdpr/delete',
      headers: bearer(s.admin),
      payload: { user_id: user.id, reason: 'the person asked for erasure', confirm: true },
    });
    expect(erased.statusCode, erased.body).toBe(200);
    await expect(oidc.refreshTokenGrant(s.config, tokens.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    const left = await app.ctx.database.withSystem((tx) =>
      tx.execute(
        sql`select count(*)::int as n from oidc_artefacts where account_id = ${user.id} and tenant_id = ${s.t.tenant.id}`,
      ),
    );
    expect((left.rows[0] as { n: number }).n).toBe(0);
  });

  it('pairwise subjects: the client sees each user under an identifier of its own, stable, in userinfo too', async () => {
    const s = await opTenant(app, base, webClient({ subject_type: 'pairwise', first_party: true }));
    const user = await newUser(app, s.t.tenant.id);
    const subs: string[] = [];
    for (let i = 0; i < 2; i++) {
      const flow = await codeThroughConsole(app, base, s, { tenantId: s.t.tenant.id, email: user.email });
      const tokens = await oidc.authorizationCodeGrant(s.config, flow.callback, {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
      });
      const sub = tokens.claims()!.sub;
      const info = await oidc.fetchUserInfo(s.config, tokens.access_token, sub);
      expect(info.sub).toBe(sub);
      subs.push(sub);
    }
    expect(subs[0]).toBe(subs[1]);
    expect(subs[0]).not.toBe(String(user.id));
    expect(subs[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // One sector per client: redirect URIs on two hosts cannot be pairwise.
    const refused = await app.inject({
      method: 'POST',
      url: '/api/v1/oidc/clients',
      headers: bearer(s.admin),
      payload: webClient({
        subject_type: 'pairwise',
        redirect_uris: ['https://a.example/cb', 'https://b.example/cb'],
      }),
    });
    expect(refused.statusCode, refused.body).toBe(422);
    expect(refused.body).toContain('body.subject_type');
  });
});
