import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressAllowed, checkUrl, createGuardedFetch, SsrfError } from '../../src/platform/net/ssrf.js';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant, type TestTenant, type Tokens, uniq } from '../helpers/factories.js';

let server: http.Server;
let base: string;
let app: FastifyInstance;
let t: TestTenant;
let admin: Tokens;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/redirect') {
      res.writeHead(302, { location: url.searchParams.get('to')! });
      return res.end();
    }
    if (url.pathname === '/headers') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ authorization: req.headers.authorization ?? null }));
    }
    if (url.pathname === '/loop') {
      res.writeHead(302, { location: '/loop' });
      return res.end();
    }
    if (url.pathname === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(
        JSON.stringify({
          issuer: base,
          authorization_endpoint: `${base}/auth`,
          // a discovery document that points the token endpoint at the cloud metadata address
          token_endpoint: 'http://169.254.169.254/latest/meta-data/token',
          jwks_uri: `${base}/jwks`,
          response_types_supported: ['code'],
        }),
      );
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  app = await createTestApp();
  t = await newTenant(app);
  admin = await login(app, t.tenant.id, t.admin.email);
});
afterAll(async () => {
  await app.close();
  server.closeAllConnections();
  server.close();
});

describe('issue 13 sso: SSRF guard', () => {
  it('refuses loopback, private, link-local, unique-local, CGNAT and metadata addresses in staging and prod', () => {
    for (const env of ['prod', 'staging'] as const) {
      for (const url of [
        'https://127.0.0.1/',
        'https://10.1.2.3/',
        'https://172.16.0.1/',
        'https://192.168.1.1/',
        'https://169.254.169.254/latest/meta-data',
        'https://100.64.0.1/',
        'https://[::1]/',
        'https://[fd00:ec2::254]/',
        'https://[fe80::1]/',
        'https://[::ffff:10.0.0.1]/',
        'https://0.0.0.0/',
        'https://localhost/',
        'http://127.0.0.1:8080/',
        'http://idp.example.com/',
        'ftp://idp.example.com/',
        'https://user:pw@idp.example.com/',
      ]) {
        expect(() => checkUrl(url, env), `${env} ${url}`).toThrow(SsrfError);
      }
      expect(checkUrl('https://idp.example.com/.well-known/openid-configuration', env).hostname).toBe(
        'idp.example.com',
      );
      expect(addressAllowed('8.8.8.8', env)).toBe(true);
      expect(addressAllowed('::ffff:192.168.0.1', env)).toBe(false);
    }
    // dev/test: plain http to loopback only
    expect(checkUrl('http://127.0.0.1:9000/', 'test').port).toBe('9000');
    expect(() => checkUrl('http://idp.example.com/', 'test')).toThrow(SsrfError);
  });

  it('checks every address a name resolves to, at connect time (prod)', async () => {
    const lookup = ((
      _host: string,
      _opts: unknown,
      cb: (e: null, a: { address: string; family: number }[]) => void,
    ) =>
      cb(null, [
        { address: '93.184.216.34', family: 4 },
        { address: '10.0.0.7', family: 4 },
      ])) as never;
    const fetch = createGuardedFetch({ env: 'prod', lookup });
    await expect(fetch('https://rebinding.example/')).rejects.toThrow(/refused address 10\.0\.0\.7/);
  });

  it('re-checks every redirect hop', async () => {
    const fetch = createGuardedFetch({ env: 'test' });
    expect(await (await fetch(`${base}/redirect?to=${encodeURIComponent('/ok')}`)).text()).toBe('ok');
    await expect(
      fetch(`${base}/redirect?to=${encodeURIComponent('http://169.254.169.254/latest/meta-data')}`),
    ).rejects.toThrow(SsrfError);
    await expect(fetch(`${base}/redirect?to=${encodeURIComponent('file:///etc/passwd')}`)).rejects.toThrow(
      SsrfError,
    );
    await expect(fetch(`${base}/loop`)).rejects.toThrow(/too many redirects/);
    // redirect: manual hands the 302 back untouched
    expect((await fetch(`${base}/redirect?to=/ok`, { redirect: 'manual' })).status).toBe(302);
  });

  it('drops credentials when a redirect changes origin, keeps them on the same origin', async () => {
    const fetch = createGuardedFetch({ env: 'test' });
    const auth = { authorization: 'Basic bWFzc2Fjb3JwOnNlY3JldA==' };
    const same = await fetch(`${base}/redirect?to=/headers`, { headers: auth });
    expect(await same.json()).toEqual({ authorization: auth.authorization });
    // Another origin: the same host on another port.
    const other = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ authorization: req.headers.authorization ?? null }));
    });
    other.listen(0, '127.0.0.1');
    await once(other, 'listening');
    try {
      const to = `http://127.0.0.1:${(other.address() as AddressInfo).port}/headers`;
      const cross = await fetch(`${base}/redirect?to=${encodeURIComponent(to)}`, { headers: auth });
      expect(await cross.json()).toEqual({ authorization: null });
    } finally {
      other.close();
    }
  });

  it('refuses an issuer outside policy when it is saved, and re-checks the endpoints of the discovery document', async () => {
    const bad = await app.inject({
      method: 'POST',
      url: '/api/v1/sso/connections',
      headers: bearer(admin),
      payload: {
        type: 'oidc',
        name: uniq('c'),
        oidc: { issuer: 'http://10.0.0.1/', client_id: 'c', client_secret: 's' },
      },
    });
    expect(bad.statusCode).toBe(422);
    const ok = await app.inject({
      method: 'POST',
      url: '/api/v1/sso/connections',
      headers: bearer(admin),
      payload: {
        type: 'oidc',
        name: uniq('c'),
        redirect_uris: ['https://app.example.com/cb'],
        oidc: { issuer: base, client_id: 'c', client_secret: 's' },
      },
    });
    expect(ok.statusCode).toBe(201);
    const res = await app.inject({
      method: 'GET',
      url: `/api/v1/sso/connections/${ok.json().id}/authorize?redirect_uri=${encodeURIComponent('https://app.example.com/cb')}`,
      headers: { 'x-tenant-id': String(t.tenant.id) },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('SSO_URL_REFUSED');
  });
});
