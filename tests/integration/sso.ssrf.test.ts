import { getEventListeners, once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressAllowed, checkUrl, createGuardedFetch, SsrfError } from '../../src/platform/net/ssrf.js';
import { createTestApp } from '../helpers/app.js';
import { bearer, login, newTenant, type TestTenant, type Tokens, uniq } from '../helpers/factories.js';

let server: http.Server;
let other: http.Server;
let otherBase: string;
interface Seen {
  method: string;
  body: string;
  contentType: string | null;
  authorization: string | null;
}
/** What each loopback server received at /record: the same origin as `base`, and another origin. */
const seen: { same: Seen[]; other: Seen[] } = { same: [], other: [] };
function record(into: Seen[], req: http.IncomingMessage, res: http.ServerResponse) {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => {
    body += c;
  });
  req.on('end', () => {
    into.push({
      method: req.method!,
      body,
      contentType: req.headers['content-type'] ?? null,
      authorization: req.headers.authorization ?? null,
    });
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('recorded');
  });
}
let base: string;
let app: FastifyInstance;
let t: TestTenant;
let admin: Tokens;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/redirect') {
      res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: url.searchParams.get('to')! });
      return res.end();
    }
    if (url.pathname === '/record') return record(seen.same, req, res);
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
  other = http.createServer((req, res) => record(seen.other, req, res));
  other.listen(0, '127.0.0.1');
  await once(other, 'listening');
  otherBase = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  app = await createTestApp();
  t = await newTenant(app);
  admin = await login(app, t.tenant.id, t.admin.email);
});
afterAll(async () => {
  await app.close();
  server.closeAllConnections();
  server.close();
  other.closeAllConnections();
  other.close();
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

describe('issue 18 item 7: SSRF guard, IPv6 forms of IPv4 addresses and redirects that resend a body', () => {
  /** A resolver that answers `address` for every name: what a hostile DNS zone does. */
  const resolvingTo = (address: string) =>
    ((_host: string, _opts: unknown, cb: (e: null, a: { address: string; family: number }[]) => void) =>
      cb(null, [{ address, family: 6 }])) as never;

  it('finding 7 — an IPv4-compatible IPv6 address of the metadata service is refused', async () => {
    for (const env of ['prod', 'staging'] as const) {
      expect(addressAllowed('::a9fe:a9fe', env)).toBe(false);
      expect(() => checkUrl('https://[::169.254.169.254]/latest/meta-data', env)).toThrow(SsrfError);
      expect(() => checkUrl('https://[::a9fe:a9fe]/latest/meta-data', env)).toThrow(SsrfError);
      // A name that resolves to it is refused at connect time, before anything is sent.
      const fetch = createGuardedFetch({ env, lookup: resolvingTo('::a9fe:a9fe') });
      await expect(fetch('https://metadata.attacker.example/latest/meta-data')).rejects.toThrow(
        /refused address ::a9fe:a9fe/,
      );
    }
  });

  // Each IPv6 form that carries an IPv4 address, with the metadata, loopback and private addresses inside.
  const refused: [form: string, address: string][] = [
    ['IPv4-compatible, metadata', '::a9fe:a9fe'],
    ['IPv4-compatible, loopback', '::7f00:1'],
    ['IPv4-compatible, private', '::a00:1'],
    ['IPv4-compatible, public (deprecated form: refused whatever it embeds)', '::808:808'],
    ['IPv4-mapped, metadata', '::ffff:169.254.169.254'],
    ['IPv4-mapped, loopback', '::ffff:7f00:1'],
    ['IPv4-mapped, private', '::ffff:c0a8:101'],
    ['IPv4-mapped, CGNAT', '::ffff:100.64.0.1'],
    ['IPv4-translated (RFC 6145), metadata', '::ffff:0:a9fe:a9fe'],
    ['NAT64 well-known prefix, metadata', '64:ff9b::a9fe:a9fe'],
    ['NAT64 well-known prefix, loopback', '64:ff9b::127.0.0.1'],
    ['NAT64 well-known prefix, private', '64:ff9b::10.0.0.1'],
    ['NAT64 local-use prefix (RFC 8215), metadata', '64:ff9b:1::a9fe:a9fe'],
    ['6to4, metadata', '2002:a9fe:a9fe::1'],
    ['6to4, loopback', '2002:7f00:1::1'],
    ['6to4, public (deprecated relay: refused whatever it embeds)', '2002:808:808::1'],
    ['Teredo, metadata server', '2001:0:a9fe:a9fe::1'],
    ['Teredo, private client (obfuscated)', '2001:0:4136:e378:8000:63bf:f5ff:fffe'],
  ];
  for (const [form, address] of refused) {
    it(`finding 7 — ${form} (${address}) is refused in staging and prod, as a URL literal and as a resolved address`, async () => {
      for (const env of ['prod', 'staging'] as const) {
        expect(addressAllowed(address, env)).toBe(false);
        expect(() => checkUrl(`https://[${address}]/`, env)).toThrow(SsrfError);
        const fetch = createGuardedFetch({ env, lookup: resolvingTo(address) });
        await expect(fetch('https://idp.attacker.example/')).rejects.toThrow(/refused address/);
      }
    });
  }

  it('finding 7 — an IPv6 form of a public IPv4 address that the network really routes (mapped, NAT64/DNS64) is allowed', () => {
    for (const env of ['prod', 'staging'] as const) {
      expect(addressAllowed('::ffff:8.8.8.8', env)).toBe(true);
      // DNS64 answers this for an IPv4-only IdP in an IPv6-only cluster.
      expect(addressAllowed('64:ff9b::808:808', env)).toBe(true);
      expect(checkUrl('https://[64:ff9b::93b8:d822]/', env).hostname).toBe('[64:ff9b::93b8:d822]');
      expect(addressAllowed('2606:4700:4700::1111', env)).toBe(true);
    }
  });

  for (const status of [307, 308]) {
    it(`finding 7 — a cross-origin ${status} redirect of a POST is refused: the client_secret_post body never reaches the other origin`, async () => {
      seen.other.length = 0;
      const fetch = createGuardedFetch({ env: 'test' });
      const to = `${otherBase}/record`;
      await expect(
        fetch(`${base}/redirect?status=${status}&to=${encodeURIComponent(to)}`, {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'authorization_code', client_secret: 's3cret' }),
        }),
      ).rejects.toThrow(/redirect to another origin .* would send the request body again/);
      expect(seen.other).toEqual([]);
    });

    it(`finding 7 — a same-origin ${status} redirect of a POST is followed with its method and body`, async () => {
      seen.same.length = 0;
      const fetch = createGuardedFetch({ env: 'test' });
      const res = await fetch(`${base}/redirect?status=${status}&to=/record`, {
        method: 'POST',
        body: new URLSearchParams({ client_secret: 's3cret' }),
      });
      expect(await res.text()).toBe('recorded');
      expect(seen.same).toEqual([
        {
          method: 'POST',
          body: 'client_secret=s3cret',
          contentType: 'application/x-www-form-urlencoded;charset=UTF-8',
          authorization: null,
        },
      ]);
    });

    it(`finding 7 — a cross-origin ${status} redirect of a GET (no body) is followed, without credentials`, async () => {
      seen.other.length = 0;
      const fetch = createGuardedFetch({ env: 'test' });
      const to = `${otherBase}/record`;
      const res = await fetch(`${base}/redirect?status=${status}&to=${encodeURIComponent(to)}`, {
        headers: { authorization: 'Bearer provider-token' },
      });
      expect(await res.text()).toBe('recorded');
      expect(seen.other).toEqual([{ method: 'GET', body: '', contentType: null, authorization: null }]);
    });
  }

  for (const status of [301, 302, 303]) {
    it(`finding 7 — a cross-origin ${status} redirect of a POST continues as a GET without the body or its content-type, as fetch does`, async () => {
      seen.other.length = 0;
      const fetch = createGuardedFetch({ env: 'test' });
      const to = `${otherBase}/record`;
      const res = await fetch(`${base}/redirect?status=${status}&to=${encodeURIComponent(to)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'client_secret=s3cret',
      });
      expect(await res.text()).toBe('recorded');
      expect(seen.other).toEqual([{ method: 'GET', body: '', contentType: null, authorization: null }]);
    });
  }
});

describe("issue 22: the guard's requests let go of the caller's signal", () => {
  // A webhook burst left 6,100 requests, their sockets and bodies on the heap: each had added an abort listener
  // to a signal that lived on (AbortSignal.timeout, until its timer fired), and the listener held the request.
  it('removes its abort listener when a request ends (answered, refused or failed), and honours an aborted signal', async () => {
    const fetch = createGuardedFetch({ env: 'test' });
    const controller = new AbortController();
    for (let i = 0; i < 5; i++)
      expect(await (await fetch(`${base}/ok`, { signal: controller.signal })).text()).toBe('ok');
    await expect(
      fetch(`${base}/redirect?to=${encodeURIComponent('http://169.254.169.254/x')}`, {
        signal: controller.signal,
      }),
    ).rejects.toThrow(SsrfError);
    await expect(fetch('http://127.0.0.1:1/', { signal: controller.signal })).rejects.toThrow();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);

    controller.abort();
    await expect(fetch(`${base}/ok`, { signal: controller.signal })).rejects.toThrow(/aborted/);
  });

  it('an abort during the request still ends it', async () => {
    const fetch = createGuardedFetch({ env: 'test' });
    const slow = http.createServer(() => {}); // never answers
    slow.listen(0, '127.0.0.1');
    await once(slow, 'listening');
    try {
      const controller = new AbortController();
      const pending = fetch(`http://127.0.0.1:${(slow.address() as AddressInfo).port}/`, {
        signal: controller.signal,
      });
      setTimeout(() => controller.abort(), 50);
      await expect(pending).rejects.toThrow(/aborted/);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    } finally {
      slow.closeAllConnections();
      slow.close();
    }
  });
});
